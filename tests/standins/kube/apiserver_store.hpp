#pragma once
// The Node registry of the kube-apiserver stand-in: Nodes kept in etcd at
// <prefix>/minions/<name> like the real apiserver, with its rules for create, update and the
// status subresource. Safe to call from several threads (one etcd call at a time).

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "clients/etcd_client.hpp"
#include "kube/apiserver_node.hpp"

namespace kna::standins::apiserver {

// An API error, answered as a Kubernetes Status object.
struct ApiError {
  int code{500};
  std::string reason;  // NotFound, AlreadyExists, Conflict, BadRequest, Invalid, InternalError...
  std::string message;
  std::string name;  // details.name, when the error is about one node
};

template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

ApiError not_found(const std::string& name);
ApiError bad_request(const std::string& message);

// A metadata.uid (a version 4 UUID, as Kubernetes' uuid.NewUUID).
std::string random_uid();
// The 5 characters that metadata.generateName gets, from Kubernetes' alphabet.
std::string random_suffix();

// Which part of a node a write changes: PUT/PATCH on nodes/NAME keep the stored status, on
// nodes/NAME/status they change only the status.
enum class NodePart { main, status };

class NodeStore {
 public:
  NodeStore(const EtcdOptions& etcd, std::string prefix);

  // etcd's own health check, on a connection of its own so that it never waits behind a write.
  EtcdResult<EtcdDone> health();

  // Stored objects carry metadata.resourceVersion, the etcd revision of their key.
  ApiResult<json> get(const std::string& name);
  // A NodeList, items sorted by name.
  ApiResult<json> list();
  ApiResult<json> create(json node);
  // A non-empty metadata.resourceVersion in `node` must match the stored one (else Conflict).
  ApiResult<json> update(const std::string& name, json node, NodePart part);
  ApiResult<json> patch(const std::string& name, const json& patch, PatchType type, NodePart part);
  // The deleted node.
  ApiResult<json> remove(const std::string& name);

 private:
  std::string key(const std::string& name) const;
  ApiResult<std::optional<json>> read(const std::string& name);
  ApiResult<json> update_locked(const std::string& name, json node, NodePart part,
                                const json& current);

  std::mutex mutex_;  // one etcd call at a time; also makes read-modify-write atomic
  EtcdClient etcd_;
  std::mutex health_mutex_;
  EtcdClient health_etcd_;
  std::string prefix_;
};

}  // namespace kna::standins::apiserver
