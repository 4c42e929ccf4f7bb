// etcd's wire formats. The v3 gateway writes 64-bit integers as JSON strings and leaves out every
// field that has its zero value (an empty value, a false "succeeded", a missing TTL), so every
// reader here treats an absent field as zero rather than as an error.

#include "clients/etcd_codec.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace kna::etcd {

namespace {

using nlohmann::json;

std::optional<json> parse_json(const std::string& body) {
  auto parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "…";
}

Error not_json(const std::string& body) {
  return Error{"answer is not JSON: '" + excerpt(body) + "'"};
}

// A 64-bit integer written as a JSON number or, by the v3 gateway, as a string; absent → 0.
std::optional<std::int64_t> int_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return std::nullopt;
  const auto& text = it->get_ref<const std::string&>();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string string_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error bad_field(const char* name, const json& object) {
  return Error{std::string("answer has a malformed \"") + name + "\": '" + excerpt(object.dump()) +
               "'"};
}

Result<EtcdKeyValue> v2_leaf(const json& node) {
  EtcdKeyValue kv;
  kv.key = string_field(node, "key");
  const auto value = node.find("value");
  if (value == node.end() || !value->is_string()) return bad_field("value", node);
  kv.value = value->get<std::string>();
  const auto index = int_field(node, "modifiedIndex");
  if (!index) return bad_field("modifiedIndex", node);
  kv.revision = *index;
  kv.expires = node.contains("ttl") || node.contains("expiration");
  return kv;
}

bool is_dir(const json& node) {
  const auto it = node.find("dir");
  return it != node.end() && it->is_boolean() && it->get<bool>();
}

std::optional<Error> collect_v2_leaves(const json& node, std::vector<EtcdKeyValue>& out) {
  if (!node.is_object()) return Error{"answer has a \"node\" that is not an object"};
  if (!is_dir(node)) {
    auto leaf = v2_leaf(node);
    if (!leaf) return leaf.error();
    out.push_back(std::move(leaf).value());
    return std::nullopt;
  }
  const auto children = node.find("nodes");
  if (children == node.end()) return std::nullopt;  // an empty directory
  if (!children->is_array()) return bad_field("nodes", node);
  for (const auto& child : *children)
    if (auto error = collect_v2_leaves(child, out)) return error;
  return std::nullopt;
}

Result<json> v2_top_node(const std::string& body) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) return not_json(body);
  const auto node = parsed->find("node");
  if (node == parsed->end()) return Error{"answer has no \"node\": '" + excerpt(body) + "'"};
  return *node;
}

Result<json> json_object(const std::string& body) {
  auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) return not_json(body);
  return std::move(*parsed);
}

std::string lease_string(std::int64_t lease) {
  return std::to_string(lease);
}

}  // namespace

std::string V2Error::describe() const {
  std::string text = std::to_string(code) + ": " + message;
  if (!cause.empty()) text += " (" + cause + ")";
  return text;
}

std::optional<V2Error> parse_v2_error(const std::string& body) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object() || !parsed->contains("errorCode")) return std::nullopt;
  const auto code = int_field(*parsed, "errorCode");
  if (!code) return std::nullopt;
  return V2Error{static_cast<int>(*code), string_field(*parsed, "message"),
                 string_field(*parsed, "cause")};
}

Result<EtcdKeyValue> parse_v2_value(const std::string& body) {
  auto node = v2_top_node(body);
  if (!node) return node.error();
  if (!node.value().is_object()) return Error{"answer has a \"node\" that is not an object"};
  if (is_dir(node.value()))
    return Error{"key " + string_field(node.value(), "key") + " is a directory, not a value"};
  return v2_leaf(node.value());
}

Result<std::vector<EtcdKeyValue>> parse_v2_nodes(const std::string& body) {
  auto node = v2_top_node(body);
  if (!node) return node.error();
  std::vector<EtcdKeyValue> out;
  if (auto error = collect_v2_leaves(node.value(), out)) return *error;
  return out;
}

std::string v3_range_request(std::string_view key, std::optional<std::string_view> range_end) {
  json request{{"key", base64_encode(key)}};
  if (range_end) request["range_end"] = base64_encode(*range_end);
  return request.dump();
}

std::string v3_put_request(std::string_view key, std::string_view value, std::int64_t lease) {
  json request{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) request["lease"] = lease_string(lease);
  return request.dump();
}

std::string v3_create_txn_request(std::string_view key, std::string_view value,
                                  std::int64_t lease) {
  json put{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) put["lease"] = lease_string(lease);
  const json request{
      {"compare", json::array({json{{"key", base64_encode(key)},
                                    {"result", "EQUAL"},
                                    {"target", "CREATE"},
                                    {"create_revision", "0"}}})},
      {"success", json::array({json{{"request_put", put}}})},
  };
  return request.dump();
}

std::string v3_delete_request(std::string_view key) {
  return json{{"key", base64_encode(key)}}.dump();
}

std::string v3_lease_grant_request(std::int64_t ttl_seconds) {
  return json{{"TTL", lease_string(ttl_seconds)}}.dump();
}

std::string v3_lease_id_request(std::int64_t lease) {
  return json{{"ID", lease_string(lease)}}.dump();
}

std::optional<std::string> parse_v3_error(const std::string& body) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object() || !parsed->contains("code")) return std::nullopt;
  auto message = string_field(*parsed, "message");
  if (message.empty()) message = string_field(*parsed, "error");
  const auto code = int_field(*parsed, "code");
  return message + " (gRPC code " + (code ? std::to_string(*code) : std::string("?")) + ")";
}

Result<std::vector<EtcdKeyValue>> parse_v3_range(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  std::vector<EtcdKeyValue> out;
  const auto kvs = parsed.value().find("kvs");
  if (kvs == parsed.value().end()) return out;
  if (!kvs->is_array()) return bad_field("kvs", parsed.value());
  for (const auto& item : *kvs) {
    if (!item.is_object()) return bad_field("kvs", parsed.value());
    EtcdKeyValue kv;
    auto key = base64_decode(string_field(item, "key"));
    auto value = base64_decode(string_field(item, "value"));
    const auto revision = int_field(item, "mod_revision");
    const auto lease = int_field(item, "lease");
    if (!key || key->empty()) return bad_field("key", item);
    if (!value) return bad_field("value", item);
    if (!revision) return bad_field("mod_revision", item);
    if (!lease) return bad_field("lease", item);
    kv.key = std::move(*key);
    kv.value = std::move(*value);
    kv.revision = *revision;
    kv.lease = *lease;
    kv.expires = *lease != 0;
    out.push_back(std::move(kv));
  }
  return out;
}

Result<std::int64_t> parse_v3_revision(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  const auto header = parsed.value().find("header");
  if (header == parsed.value().end() || !header->is_object())
    return Error{"answer has no \"header\": '" + excerpt(body) + "'"};
  const auto revision = int_field(*header, "revision");
  if (!revision) return bad_field("revision", *header);
  return *revision;
}

Result<bool> parse_v3_txn_succeeded(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  if (!parsed.value().contains("header"))
    return Error{"answer has no \"header\": '" + excerpt(body) + "'"};
  const auto it = parsed.value().find("succeeded");
  if (it == parsed.value().end()) return false;
  if (!it->is_boolean()) return bad_field("succeeded", parsed.value());
  return it->get<bool>();
}

Result<std::int64_t> parse_v3_lease_grant(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  if (const auto error = string_field(parsed.value(), "error"); !error.empty())
    return Error{"lease grant failed: " + error};
  const auto id = int_field(parsed.value(), "ID");
  if (!id || *id == 0) return bad_field("ID", parsed.value());
  return *id;
}

Result<std::int64_t> parse_v3_keepalive_ttl(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  // The gateway streams keepalive answers, each wrapped in {"result": …}.
  const auto result = parsed.value().find("result");
  if (result == parsed.value().end() || !result->is_object())
    return Error{"answer has no \"result\": '" + excerpt(body) + "'"};
  const auto ttl = int_field(*result, "TTL");
  if (!ttl) return bad_field("TTL", *result);
  return *ttl < 0 ? 0 : *ttl;
}

Result<std::int64_t> parse_v3_deleted(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  if (!parsed.value().contains("header"))
    return Error{"answer has no \"header\": '" + excerpt(body) + "'"};
  const auto deleted = int_field(parsed.value(), "deleted");
  if (!deleted) return bad_field("deleted", parsed.value());
  return *deleted;
}

Result<bool> parse_health(const std::string& body) {
  auto parsed = json_object(body);
  if (!parsed) return parsed.error();
  const auto it = parsed.value().find("health");
  if (it == parsed.value().end()) return Error{"answer has no \"health\": '" + excerpt(body) + "'"};
  // etcd 3.4 writes a string; some versions a boolean.
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && it->get<std::string>() == "true";
}

}  // namespace kna::etcd
