#pragma once
// HTTP routes of the kube-apiserver stand-in beyond nodes: namespaces (the builtin ones, read
// only), ConfigMaps and Secrets (namespaced: list, create, get, replace, delete),
// certificates.k8s.io/v1 CertificateSigningRequests (list with fieldSelector metadata.name=,
// create, get, delete, the approval subresource), rbac.authorization.k8s.io/v1 ClusterRoles and
// ClusterRoleBindings (cluster-scoped) and Roles and RoleBindings (namespaced), with the same
// verbs as ConfigMaps, and both groups' discovery; lists can be watched (apiserver_watch.hpp). No
// PATCH. Bodies are JSON, or protobuf for RBAC objects (apiserver_protobuf.hpp); answers are JSON.
// RBAC objects are only stored: the secure port's authorizer keeps its fixed rules
// (apiserver_authz.hpp). The kube-public/cluster-info ConfigMap is read with a
// jws-kubeconfig-<id> entry for every bootstrap token usable for signing, as
// kube-controller-manager's bootstrapsigner keeps it.

#include <functional>
#include <optional>

#include "kube/apiserver_auth.hpp"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace kna::standins {
class StopFlag;
}

namespace kna::standins::apiserver {

class ObjectStore;
class CsrController;

// The user a request is made by (CSRs record their requester).
using UserOf = std::function<std::optional<UserInfo>(const httplib::Request&)>;

// Call before install_routes(), whose routes match everything. `objects`, `csrs` and `stop` must
// outlive `server`; watches end when `stop` is requested.
void install_resource_routes(httplib::Server& server, ObjectStore& objects, CsrController& csrs,
                             UserOf user_of, const StopFlag& stop);

}  // namespace kna::standins::apiserver
