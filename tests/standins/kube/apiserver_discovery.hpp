#pragma once
// Version and API discovery documents of the kube-apiserver stand-in: core/v1 nodes, configmaps,
// namespaces and secrets, certificates.k8s.io/v1 and rbac.authorization.k8s.io/v1 (served by
// apiserver_resources.cpp), in the legacy (unaggregated) discovery format that every kubectl
// understands.

#include <string>

#include <nlohmann/json.hpp>

namespace kna::standins::apiserver {

// GET /version for a git version such as "v1.3.6".
nlohmann::json version_info(const std::string& git_version);
// GET /api: APIVersions.
nlohmann::json api_versions(const std::string& public_address);
// GET /api/v1: APIResourceList.
nlohmann::json core_v1_resources();
// GET /apis: APIGroupList, certificates.k8s.io and rbac.authorization.k8s.io.
nlohmann::json api_groups();
// GET /apis/GROUP: APIGroup, v1 only.
nlohmann::json api_group(const std::string& group);
// GET /apis/certificates.k8s.io/v1, /apis/rbac.authorization.k8s.io/v1: APIResourceList.
nlohmann::json certificates_v1_resources();
nlohmann::json rbac_v1_resources();

}  // namespace kna::standins::apiserver
