#pragma once
// The real apiserver's validation of rbac.authorization.k8s.io objects, as much of it as the
// kube-apiserver stand-in applies before storing them (apiserver_objects.hpp): names that are path
// segments, and bindings' roleRef and subjects, with the real field errors.

#include <optional>
#include <string>
#include <vector>

#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

// k8s.io/apimachinery's IsValidPathSegmentName: why `name` is not one ("may not contain '/'"),
// none when it is. RBAC's names ("system:node-bootstrapper") are.
std::vector<std::string> path_segment_problems(const std::string& name);

// The real ValidateRoleBinding and ValidateClusterRoleBinding, and their Update when `current`
// (the stored object) is given: roleRef names a role of this group (a ClusterRoleBinding a
// ClusterRole only), each subject has a known kind and a name, and roleRef does not change. A 422
// with every error, listed as the real message lists them; none for other types.
std::optional<ApiError> check_binding(const ResourceType& type, const std::string& name,
                                      const json& object, const json* current);

}  // namespace kna::standins::apiserver
