// Node registry of the kube-apiserver stand-in, on kna's EtcdClient (v2 keys API or v3).

#include "kube/apiserver_store.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace kna::standins::apiserver {

namespace {

ApiError storage_error(const EtcdError& e) {
  return ApiError{500, "InternalError", "Internal error occurred: " + e.message, ""};
}

// What goes to etcd: no resourceVersion (it is the key's revision) and no namespace (nodes are
// cluster-scoped).
std::string stored_text(json node) {
  node["metadata"].erase("resourceVersion");
  node["metadata"].erase("namespace");
  return node.dump();
}

ApiResult<json> parse_stored(const EtcdKeyValue& kv) {
  auto node = json::parse(kv.value, nullptr, false);
  if (node.is_discarded() || !node.is_object())
    return ApiError{500, "InternalError",
                    "Internal error occurred: the value of " + kv.key + " is not a JSON object",
                    ""};
  node["metadata"]["resourceVersion"] = std::to_string(kv.revision);
  return node;
}

}  // namespace

ApiError not_found(const std::string& name) {
  return ApiError{404, "NotFound", fmt::format("nodes \"{}\" not found", name), name};
}

ApiError bad_request(const std::string& message) {
  return ApiError{400, "BadRequest", message, ""};
}

std::string random_uid() {
  static std::mt19937_64 random{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  const auto hi = random();
  const auto lo = random();
  // Version 4, variant 1 (RFC 4122), as Kubernetes' uuid.NewUUID.
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xfff, 0x8000 | (lo >> 48 & 0x3fff), lo & 0xffffffffffffULL);
}

std::string random_suffix() {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device random;
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[random() % (sizeof(kAlphabet) - 1)];
  return out;
}

NodeStore::NodeStore(const EtcdOptions& etcd, std::string prefix)
    : etcd_(etcd), health_etcd_(etcd), prefix_(std::move(prefix)) {
  while (prefix_.size() > 1 && prefix_.back() == '/') prefix_.pop_back();
}

EtcdResult<EtcdDone> NodeStore::health() {
  std::lock_guard lock(health_mutex_);
  return health_etcd_.health();
}

std::string NodeStore::key(const std::string& name) const {
  return prefix_ + "/minions/" + name;
}

ApiResult<std::optional<json>> NodeStore::read(const std::string& name) {
  auto kv = etcd_.get(key(name));
  if (!kv) return storage_error(kv.error());
  if (!kv.value()) return std::optional<json>();
  auto node = parse_stored(*kv.value());
  if (!node) return node.error();
  return std::optional<json>(std::move(node).value());
}

ApiResult<json> NodeStore::get(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto node = read(name);
  if (!node) return node.error();
  if (!node.value()) return not_found(name);
  return std::move(*node.value());
}

ApiResult<json> NodeStore::list() {
  std::lock_guard lock(mutex_);
  const auto dir = prefix_ + "/minions/";
  auto kvs = etcd_.list(dir);
  if (!kvs) return storage_error(kvs.error());
  json items = json::array();
  std::int64_t newest = 0;
  for (const auto& kv : kvs.value()) {
    if (kv.key.find('/', dir.size()) != std::string::npos) continue;
    auto node = parse_stored(kv);
    if (!node) {
      spdlog::warn("Skipping {}: {}", kv.key, node.error().message);
      continue;
    }
    // Items of a real list carry neither kind nor apiVersion.
    node.value().erase("kind");
    node.value().erase("apiVersion");
    items.push_back(std::move(node).value());
    newest = std::max(newest, kv.revision);
  }
  return json{{"kind", "NodeList"},
              {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", std::to_string(newest)}}},
              {"items", std::move(items)}};
}

ApiResult<json> NodeStore::create(json node) {
  if (!node.contains("metadata")) node["metadata"] = json::object();
  json& meta = node["metadata"];
  if (!meta.is_object()) return bad_request("metadata must be an object");
  std::string name = meta.value("name", "");
  if (name.empty() && !meta.value("generateName", "").empty())
    name = meta.value("generateName", "") + random_suffix();
  if (name.empty())
    return ApiError{422, "Invalid",
                    "Node \"\" is invalid: metadata.name: Required value: name or generateName is "
                    "required",
                    ""};
  if (!valid_node_name(name))
    return ApiError{422, "Invalid",
                    fmt::format("Node \"{}\" is invalid: metadata.name: Invalid value: \"{}\": a "
                                "lowercase RFC 1123 subdomain must consist of lower case "
                                "alphanumeric characters, '-' or '.'",
                                name, name),
                    name};
  node["kind"] = "Node";
  node["apiVersion"] = "v1";
  meta["name"] = name;
  meta["uid"] = random_uid();
  meta["creationTimestamp"] = format_time(Clock::now());

  std::lock_guard lock(mutex_);
  auto created = etcd_.create(key(name), stored_text(node), std::chrono::seconds(0));
  if (!created) return storage_error(created.error());
  if (!created.value())
    return ApiError{409, "AlreadyExists", fmt::format("nodes \"{}\" already exists", name), name};
  auto stored = read(name);
  if (!stored) return stored.error();
  if (!stored.value()) return not_found(name);  // deleted by someone else right away
  spdlog::info("Created node \"{}\"", name);
  return std::move(*stored.value());
}

ApiResult<json> NodeStore::update(const std::string& name, json node, NodePart part) {
  std::lock_guard lock(mutex_);
  auto current = read(name);
  if (!current) return current.error();
  if (!current.value()) return not_found(name);
  return update_locked(name, std::move(node), part, *current.value());
}

ApiResult<json> NodeStore::patch(const std::string& name, const json& patch, PatchType type,
                                 NodePart part) {
  std::lock_guard lock(mutex_);
  auto current = read(name);
  if (!current) return current.error();
  if (!current.value()) return not_found(name);
  json patched;
  try {
    patched = apply_patch(*current.value(), patch, type);
  } catch (const std::exception& e) {
    return ApiError{422, "Invalid", fmt::format("the patch cannot be applied: {}", e.what()), name};
  }
  return update_locked(name, std::move(patched), part, *current.value());
}

ApiResult<json> NodeStore::update_locked(const std::string& name, json node, NodePart part,
                                         const json& current) {
  if (!node.is_object()) return bad_request("a Node must be a JSON object");
  if (!node.contains("metadata")) node["metadata"] = json::object();
  if (!node["metadata"].is_object()) return bad_request("metadata must be an object");
  const auto body_name = node["metadata"].value("name", "");
  if (!body_name.empty() && body_name != name)
    return bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  const auto wanted_version = node["metadata"].value("resourceVersion", "");
  const auto current_version = current["metadata"].value("resourceVersion", "");
  if (!wanted_version.empty() && wanted_version != current_version)
    return ApiError{409, "Conflict",
                    fmt::format("Operation cannot be fulfilled on nodes \"{}\": the object has "
                                "been modified; please apply your changes to the latest version "
                                "and try again",
                                name),
                    name};

  json next;
  if (part == NodePart::status) {
    // The status subresource changes the status only.
    next = current;
    next["status"] = node.contains("status") ? node["status"] : json::object();
  } else {
    // Updates of the node itself keep the status, which belongs to the kubelet.
    next = std::move(node);
    if (current.contains("status"))
      next["status"] = current["status"];
    else
      next.erase("status");
  }
  next["kind"] = "Node";
  next["apiVersion"] = "v1";
  next["metadata"]["name"] = name;
  for (const char* field : {"uid", "creationTimestamp"}) {
    if (current["metadata"].contains(field)) next["metadata"][field] = current["metadata"][field];
  }
  next["metadata"]["resourceVersion"] = current_version;
  if (next == current) return next;  // like etcd3 storage: no write, no new resourceVersion

  auto revision = etcd_.put(key(name), stored_text(next));
  if (!revision) return storage_error(revision.error());
  next["metadata"]["resourceVersion"] = std::to_string(revision.value());
  return next;
}

ApiResult<json> NodeStore::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto current = read(name);
  if (!current) return current.error();
  if (!current.value()) return not_found(name);
  auto removed = etcd_.remove(key(name));
  if (!removed) return storage_error(removed.error());
  if (!removed.value()) return not_found(name);
  spdlog::info("Deleted node \"{}\"", name);
  return std::move(*current.value());
}

}  // namespace kna::standins::apiserver
