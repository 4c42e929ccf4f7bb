#pragma once
// The kube-apiserver stand-in's registry of objects other than Nodes (ConfigMaps, Secrets,
// CertificateSigningRequests, RBAC's roles and bindings): kept in etcd under the real apiserver's
// keys (<prefix>/<resource>/<namespace>/<name>, or <prefix>/<resource>/<name> when
// cluster-scoped), with metadata.uid, creationTimestamp and resourceVersion as the real one sets
// them. No finalizers, no generation, no field managers. Safe to call from several threads.
//
// RBAC objects are stored, validated (apiserver_rbac.hpp) and returned, never evaluated: the secure
// port's authorizer keeps its fixed rules (apiserver_authz.hpp), whatever roles and bindings say.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clients/etcd_client.hpp"
#include "kube/apiserver_store.hpp"

namespace kna::standins::apiserver {

// What the registry and the Status messages need to know of a resource type.
struct ResourceType {
  std::string resource;  // "configmaps"
  std::string kind;      // "ConfigMap"
  std::string group;     // "" for the core group, "certificates.k8s.io"
  std::string version;   // "v1"
  bool namespaced{true};
  // metadata.name is any path segment (RBAC's "system:node-bootstrapper") rather than a DNS
  // subdomain.
  bool path_segment_names{false};

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // Where its group version is served: "/api/v1", "/apis/certificates.k8s.io/v1".
  std::string api_path() const {
    return group.empty() ? "/api/" + version : "/apis/" + api_version();
  }
  // "configmaps" or "certificatesigningrequests.certificates.k8s.io", as Status messages name
  // the resource.
  std::string qualified() const { return group.empty() ? resource : resource + "." + group; }
};

const ResourceType& configmaps();
const ResourceType& secrets();
const ResourceType& certificate_signing_requests();
// rbac.authorization.k8s.io/v1.
const ResourceType& cluster_roles();
const ResourceType& cluster_role_bindings();
const ResourceType& roles();
const ResourceType& role_bindings();

// Namespaces that exist without being created: the stand-in stores no Namespace objects.
bool builtin_namespace(const std::string& name);

// A Kubernetes Status object for an error about `type` (details.kind and details.group as the
// real apiserver writes them).
json status_of(const ApiError& error, const ResourceType* type = nullptr);

ApiError object_not_found(const ResourceType& type, const std::string& name);
ApiError object_invalid(const ResourceType& type, const std::string& name,
                        const std::string& field_error);

class ObjectStore {
 public:
  ObjectStore(const EtcdOptions& etcd, std::string prefix);

  // `ns` is ignored for cluster-scoped types.
  ApiResult<json> get(const ResourceType& type, const std::string& ns, const std::string& name);
  // A <Kind>List of one namespace ("" for every namespace, or a cluster-scoped type), by name.
  ApiResult<json> list(const ResourceType& type, const std::string& ns);
  // metadata.generateName is honoured; the namespace must be a builtin_namespace(). A binding's
  // roleRef and subjects are checked as the real validation does.
  ApiResult<json> create(const ResourceType& type, const std::string& ns, json object);
  // PUT: replaces the object; a non-empty metadata.resourceVersion must match the stored one, and
  // a binding's roleRef cannot change.
  ApiResult<json> replace(const ResourceType& type, const std::string& ns, const std::string& name,
                          json object);
  // Read, change, write under the store's lock: the change sees the stored object and returns
  // the object to store (or an error). For a controller's own updates (the CSR approver).
  ApiResult<json> modify(const ResourceType& type, const std::string& ns, const std::string& name,
                         const std::function<ApiResult<json>(json)>& change);
  ApiResult<json> remove(const ResourceType& type, const std::string& ns, const std::string& name);
  // The resourceVersion the object had when this process created it; 0 when unknown (created by
  // another process or before a restart). Lets a watch tell MODIFIED from ADDED.
  std::int64_t created_revision(const ResourceType& type, const std::string& ns,
                                const std::string& name);

 private:
  std::string key(const ResourceType& type, const std::string& ns, const std::string& name) const;
  ApiResult<std::optional<json>> read(const std::string& key);
  ApiResult<json> write_locked(const ResourceType& type, const std::string& key, json next,
                               const json& current);

  std::mutex mutex_;  // one etcd call at a time; also makes read-modify-write atomic
  EtcdClient etcd_;
  std::string prefix_;
  std::map<std::string, std::int64_t> created_;  // key → creation revision, under mutex_
};

}  // namespace kna::standins::apiserver
