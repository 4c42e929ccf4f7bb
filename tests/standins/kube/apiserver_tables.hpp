#pragma once
// kubectl's server-side Tables for the kube-apiserver stand-in's ConfigMaps, Secrets,
// CertificateSigningRequests and RBAC roles and bindings, with the real columns (nodes have theirs
// in apiserver_node.hpp).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/apiserver_node.hpp"
#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

// `include` is the includeObject query parameter: None, Metadata (default) or Object.
json object_table(const ResourceType& type, const std::vector<json>& objects,
                  const std::string& resource_version, const std::string& table_api_version,
                  const std::string& include, Clock::time_point now);

}  // namespace kna::standins::apiserver
