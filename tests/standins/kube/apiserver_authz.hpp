#pragma once
// Authorization of the kube-apiserver stand-in's secure port: a few fixed rules standing in for
// the real RBAC defaults, kubeadm's bindings and the Node authorizer (see authorize()), and the
// real 403 Status. Which request is which follows the real RequestInfoFactory. The stand-in
// stores rbac.authorization.k8s.io objects but never evaluates them: creating a binding grants
// nothing, deleting one takes nothing away.

#include <optional>
#include <string>

#include "kube/apiserver_auth.hpp"
#include "kube/apiserver_store.hpp"

namespace kna::standins::apiserver {

// What a request asks for, as the real authorizers see it.
struct RequestAttributes {
  std::string verb;  // get list watch create update patch delete deletecollection
  bool resource_request{false};
  std::string path;       // non-resource requests: the path
  std::string api_group;  // "" for the core group
  std::string ns;
  std::string resource;
  std::string subresource;
  std::string name;
};

// From an HTTP method, a path (no query) and the watch query parameter.
RequestAttributes request_attributes(const std::string& method, const std::string& path,
                                     const std::string& watch_param);

// nullopt when `user` may do it; else the 403 Forbidden error whose message is the real one:
// `nodes "x" is forbidden: User "system:anonymous" cannot get resource "nodes" in API group ""
// at the cluster scope`.
//
// The rules: system:masters may do everything (so may the users system:kube-controller-manager
// and system:kube-scheduler, a simplification of their roles), and only they write RBAC objects;
// everyone may GET /healthz, /livez, /readyz, /version and the configmap kube-public/cluster-info
// (kubeadm's binding); every authenticated user the discovery paths (/api*, /apis*, /openapi*);
// system:bootstrappers create, get, list and watch CSRs; a node (user system:node:NAME in
// system:nodes) CSRs likewise, reads every node, service and endpoints, creates nodes and changes
// or deletes its own node; system:kube-proxy reads nodes, services, endpoints and endpointslices.
std::optional<ApiError> authorize(const UserInfo& user, const RequestAttributes& request);

// The Status of a 403 from authorize(): details as the real one writes them.
nlohmann::json forbidden_status(const ApiError& error, const RequestAttributes& request);

}  // namespace kna::standins::apiserver
