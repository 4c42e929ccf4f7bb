// Registry of ConfigMaps, Secrets, CertificateSigningRequests and RBAC objects of the
// kube-apiserver stand-in, on kna's EtcdClient (v2 keys API or v3).

#include "kube/apiserver_objects.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kube/apiserver_encoding.hpp"
#include "kube/apiserver_rbac.hpp"

namespace kna::standins::apiserver {

namespace {

ApiError storage_error(const EtcdError& e) {
  return ApiError{500, "InternalError", "Internal error occurred: " + e.message, ""};
}

ApiResult<json> parse_stored(const std::string& key, const std::string& value,
                             std::int64_t revision) {
  auto object = json::parse(value, nullptr, false);
  if (object.is_discarded() || !object.is_object())
    return ApiError{500, "InternalError",
                    "Internal error occurred: the value of " + key + " is not a JSON object", ""};
  object["metadata"]["resourceVersion"] = std::to_string(revision);
  return object;
}

// What goes to etcd: no resourceVersion (it is the key's revision).
std::string stored_text(json object) {
  object["metadata"].erase("resourceVersion");
  return object.dump();
}

ApiError namespace_not_found(const std::string& ns) {
  return ApiError{404, "NotFound", fmt::format("namespaces \"{}\" not found", ns), ns};
}

// Secrets: stringData is write-only, merged into data base64-encoded (as the real apiserver's
// conversion does); the type defaults to Opaque.
void normalize(const ResourceType& type, json& object) {
  if (&type != &secrets()) return;
  if (object.contains("stringData") && object["stringData"].is_object()) {
    for (const auto& [key, value] : object["stringData"].items())
      object["data"][key] = base64_encode(value.get<std::string>());
  }
  object.erase("stringData");
  if (object.value("type", "").empty()) object["type"] = "Opaque";
}

// The checks of metadata the real apiserver makes before storing.
std::optional<ApiError> check_object(const ResourceType& type, const json& object) {
  if (!object.is_object()) return bad_request("the request body is not a JSON object");
  if (object.contains("kind") && object["kind"] != type.kind)
    return bad_request(
        fmt::format("the request body is not a {} but a {}", type.kind, object["kind"].dump()));
  if (object.contains("apiVersion") && object["apiVersion"] != type.api_version())
    return bad_request(fmt::format("the request body is not {} but {}", type.api_version(),
                                   object["apiVersion"].dump()));
  if (object.contains("metadata") && !object["metadata"].is_object())
    return bad_request("metadata must be an object");
  return std::nullopt;
}

constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

std::optional<ApiError> check_name(const ResourceType& type, const std::string& name) {
  std::vector<std::string> problems;
  if (type.path_segment_names)
    problems = path_segment_problems(name);
  else if (!valid_node_name(name))
    problems.push_back(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.'");
  if (problems.empty()) return std::nullopt;
  std::string errors;
  for (const auto& problem : problems)
    errors += fmt::format("{}metadata.name: Invalid value: {}: {}", errors.empty() ? "" : ", ",
                          json(name).dump(), problem);
  return object_invalid(type, name, problems.size() > 1 ? "[" + errors + "]" : errors);
}

}  // namespace

const ResourceType& configmaps() {
  static const ResourceType type{"configmaps", "ConfigMap", "", "v1", true};
  return type;
}

const ResourceType& secrets() {
  static const ResourceType type{"secrets", "Secret", "", "v1", true};
  return type;
}

const ResourceType& certificate_signing_requests() {
  static const ResourceType type{"certificatesigningrequests", "CertificateSigningRequest",
                                 "certificates.k8s.io", "v1", false};
  return type;
}

const ResourceType& cluster_roles() {
  static const ResourceType type{"clusterroles", "ClusterRole", kRbacGroup, "v1", false, true};
  return type;
}

const ResourceType& cluster_role_bindings() {
  static const ResourceType type{
      "clusterrolebindings", "ClusterRoleBinding", kRbacGroup, "v1", false, true};
  return type;
}

const ResourceType& roles() {
  static const ResourceType type{"roles", "Role", kRbacGroup, "v1", true, true};
  return type;
}

const ResourceType& role_bindings() {
  static const ResourceType type{"rolebindings", "RoleBinding", kRbacGroup, "v1", true, true};
  return type;
}

bool builtin_namespace(const std::string& name) {
  static const std::array<const char*, 4> kNamespaces{"default", "kube-system", "kube-public",
                                                      "kube-node-lease"};
  return std::find(kNamespaces.begin(), kNamespaces.end(), name) != kNamespaces.end();
}

json status_of(const ApiError& error, const ResourceType* type) {
  json details = json::object();
  if (!error.name.empty()) details["name"] = error.name;
  if (type != nullptr && error.code != 500) {
    if (!type->group.empty()) details["group"] = type->group;
    details["kind"] = type->resource;
  } else if (error.reason == "NotFound" && !error.name.empty()) {
    details["kind"] = "namespaces";
  }
  json status{{"kind", "Status"},    {"apiVersion", "v1"},       {"metadata", json::object()},
              {"status", "Failure"}, {"message", error.message}, {"reason", error.reason}};
  if (!details.empty() || error.code != 401) status["details"] = details;
  status["code"] = error.code;
  return status;
}

ApiError object_not_found(const ResourceType& type, const std::string& name) {
  return ApiError{404, "NotFound", fmt::format("{} \"{}\" not found", type.qualified(), name),
                  name};
}

ApiError object_invalid(const ResourceType& type, const std::string& name,
                        const std::string& field_error) {
  const auto kind = type.group.empty() ? type.kind : type.kind + "." + type.group;
  return ApiError{422, "Invalid", fmt::format("{} \"{}\" is invalid: {}", kind, name, field_error),
                  name};
}

ObjectStore::ObjectStore(const EtcdOptions& etcd, std::string prefix)
    : etcd_(etcd), prefix_(std::move(prefix)) {
  while (prefix_.size() > 1 && prefix_.back() == '/') prefix_.pop_back();
}

std::string ObjectStore::key(const ResourceType& type, const std::string& ns,
                             const std::string& name) const {
  if (!type.namespaced) return prefix_ + "/" + type.resource + "/" + name;
  return prefix_ + "/" + type.resource + "/" + ns + "/" + name;
}

ApiResult<std::optional<json>> ObjectStore::read(const std::string& key) {
  auto kv = etcd_.get(key);
  if (!kv) return storage_error(kv.error());
  if (!kv.value()) return std::optional<json>();
  auto object = parse_stored(key, kv.value()->value, kv.value()->revision);
  if (!object) return object.error();
  return std::optional<json>(std::move(object).value());
}

ApiResult<json> ObjectStore::get(const ResourceType& type, const std::string& ns,
                                 const std::string& name) {
  std::lock_guard lock(mutex_);
  auto object = read(key(type, ns, name));
  if (!object) return object.error();
  if (!object.value()) return object_not_found(type, name);
  return std::move(*object.value());
}

ApiResult<json> ObjectStore::list(const ResourceType& type, const std::string& ns) {
  const auto dir =
      prefix_ + "/" + type.resource + "/" + (type.namespaced && !ns.empty() ? ns + "/" : "");
  std::lock_guard lock(mutex_);
  auto kvs = etcd_.list(dir);
  if (!kvs) return storage_error(kvs.error());
  json items = json::array();
  std::int64_t newest = 0;
  for (const auto& kv : kvs.value()) {
    auto object = parse_stored(kv.key, kv.value, kv.revision);
    if (!object) {
      spdlog::warn("Skipping {}: {}", kv.key, object.error().message);
      continue;
    }
    object.value().erase("kind");
    object.value().erase("apiVersion");
    items.push_back(std::move(object).value());
    newest = std::max(newest, kv.revision);
  }
  return json{{"kind", type.kind + "List"},
              {"apiVersion", type.api_version()},
              {"metadata", {{"resourceVersion", std::to_string(newest)}}},
              {"items", std::move(items)}};
}

ApiResult<json> ObjectStore::create(const ResourceType& type, const std::string& ns, json object) {
  if (auto error = check_object(type, object)) return *error;
  if (type.namespaced && !builtin_namespace(ns)) return namespace_not_found(ns);
  json& meta = object["metadata"];
  if (meta.is_null()) meta = json::object();
  std::string name = meta.value("name", "");
  if (name.empty() && !meta.value("generateName", "").empty())
    name = meta.value("generateName", "") + random_suffix();
  if (name.empty())
    return object_invalid(type, "",
                          "metadata.name: Required value: name or generateName is required");
  if (auto error = check_name(type, name)) return *error;
  const auto body_ns = meta.value("namespace", "");
  if (type.namespaced && !body_ns.empty() && body_ns != ns)
    return bad_request(
        "the namespace of the provided object does not match the namespace sent "
        "on the request");
  normalize(type, object);
  if (auto error = check_binding(type, name, object, nullptr)) return *error;
  object["kind"] = type.kind;
  object["apiVersion"] = type.api_version();
  meta["name"] = name;
  if (type.namespaced)
    meta["namespace"] = ns;
  else
    meta.erase("namespace");
  meta["uid"] = random_uid();
  meta["creationTimestamp"] = format_time(Clock::now());
  meta.erase("resourceVersion");

  const auto k = key(type, ns, name);
  std::lock_guard lock(mutex_);
  auto created = etcd_.create(k, stored_text(object), std::chrono::seconds(0));
  if (!created) return storage_error(created.error());
  if (!created.value())
    return ApiError{409, "AlreadyExists",
                    fmt::format("{} \"{}\" already exists", type.qualified(), name), name};
  auto stored = read(k);
  if (!stored) return stored.error();
  if (!stored.value()) return object_not_found(type, name);
  created_[k] = std::stoll((*stored.value())["metadata"].value("resourceVersion", "0"));
  spdlog::info("Created {} \"{}{}\"", type.resource, type.namespaced ? ns + "/" : "", name);
  return std::move(*stored.value());
}

ApiResult<json> ObjectStore::replace(const ResourceType& type, const std::string& ns,
                                     const std::string& name, json object) {
  if (auto error = check_object(type, object)) return *error;
  const auto body_name = object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (!body_name.empty() && body_name != name)
    return bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  return modify(type, ns, name, [&](json current) -> ApiResult<json> {
    const auto wanted =
        object.contains("metadata") ? object["metadata"].value("resourceVersion", "") : "";
    if (!wanted.empty() && wanted != current["metadata"].value("resourceVersion", ""))
      return ApiError{409, "Conflict",
                      fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has "
                                  "been modified; please apply your changes to the latest "
                                  "version and try again",
                                  type.qualified(), name),
                      name};
    normalize(type, object);
    if (auto error = check_binding(type, name, object, &current)) return *error;
    return std::move(object);
  });
}

ApiResult<json> ObjectStore::modify(const ResourceType& type, const std::string& ns,
                                    const std::string& name,
                                    const std::function<ApiResult<json>(json)>& change) {
  const auto k = key(type, ns, name);
  std::lock_guard lock(mutex_);
  auto current = read(k);
  if (!current) return current.error();
  if (!current.value()) return object_not_found(type, name);
  auto next = change(*current.value());
  if (!next) return next.error();
  return write_locked(type, k, std::move(next).value(), *current.value());
}

ApiResult<json> ObjectStore::write_locked(const ResourceType& type, const std::string& key,
                                          json next, const json& current) {
  if (!next["metadata"].is_object()) next["metadata"] = json::object();
  next["kind"] = type.kind;
  next["apiVersion"] = type.api_version();
  // What the client cannot change.
  for (const char* field : {"name", "namespace", "uid", "creationTimestamp"}) {
    if (current["metadata"].contains(field))
      next["metadata"][field] = current["metadata"][field];
    else
      next["metadata"].erase(field);
  }
  const auto current_version = current["metadata"].value("resourceVersion", "");
  next["metadata"]["resourceVersion"] = current_version;
  if (next == current) return next;
  auto revision = etcd_.put(key, stored_text(next));
  if (!revision) return storage_error(revision.error());
  next["metadata"]["resourceVersion"] = std::to_string(revision.value());
  return next;
}

ApiResult<json> ObjectStore::remove(const ResourceType& type, const std::string& ns,
                                    const std::string& name) {
  const auto k = key(type, ns, name);
  std::lock_guard lock(mutex_);
  auto current = read(k);
  if (!current) return current.error();
  if (!current.value()) return object_not_found(type, name);
  auto removed = etcd_.remove(k);
  if (!removed) return storage_error(removed.error());
  if (!removed.value()) return object_not_found(type, name);
  created_.erase(k);
  spdlog::info("Deleted {} \"{}{}\"", type.resource, type.namespaced ? ns + "/" : "", name);
  return std::move(*current.value());
}

std::int64_t ObjectStore::created_revision(const ResourceType& type, const std::string& ns,
                                           const std::string& name) {
  std::lock_guard lock(mutex_);
  const auto it = created_.find(key(type, ns, name));
  return it == created_.end() ? 0 : it->second;
}

}  // namespace kna::standins::apiserver
