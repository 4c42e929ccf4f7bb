#pragma once
// Version and API discovery documents of the kube-apiserver stand-in: only core/v1 nodes, in the
// legacy (unaggregated) discovery format that every kubectl understands.

#include <string>

#include <nlohmann/json.hpp>

namespace kna::standins::apiserver {

// GET /version for a git version such as "v1.3.6".
nlohmann::json version_info(const std::string& git_version);
// GET /api: APIVersions.
nlohmann::json api_versions(const std::string& public_address);
// GET /api/v1: APIResourceList.
nlohmann::json core_v1_resources();
// GET /apis: APIGroupList, no groups.
nlohmann::json api_groups();

}  // namespace kna::standins::apiserver
