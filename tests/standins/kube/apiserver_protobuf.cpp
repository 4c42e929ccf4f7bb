// Protobuf request bodies of the kube-apiserver stand-in: a small reader of the wire format and
// the schemas of the messages it decodes (k8s.io/api/rbac/v1 and apimachinery's ObjectMeta).

#include "kube/apiserver_protobuf.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace kna::standins::apiserver {

namespace {

// How a field's value becomes JSON.
enum class As {
  string,    // a string
  integer,   // a varint
  message,   // an object (Schema)
  strings,   // repeated string: an array
  messages,  // repeated message: an array of objects
  map,       // map<string, string>: repeated {1: key, 2: value}
  skipped,   // known, not kept (what the server sets itself: creationTimestamp, selfLink)
};

struct Schema;

struct Field {
  int number;
  const char* name;
  As as;
  const Schema* schema{nullptr};  // of a message or messages
};

struct Schema {
  const char* name;
  std::vector<Field> fields;
};

const Schema kRoleRef{
    "RoleRef", {{1, "apiGroup", As::string}, {2, "kind", As::string}, {3, "name", As::string}}};
const Schema kSubject{"Subject",
                      {{1, "kind", As::string},
                       {2, "apiGroup", As::string},
                       {3, "name", As::string},
                       {4, "namespace", As::string}}};
const Schema kPolicyRule{"PolicyRule",
                         {{1, "verbs", As::strings},
                          {2, "apiGroups", As::strings},
                          {3, "resources", As::strings},
                          {4, "resourceNames", As::strings},
                          {5, "nonResourceURLs", As::strings}}};
const Schema kRequirement{
    "LabelSelectorRequirement",
    {{1, "key", As::string}, {2, "operator", As::string}, {3, "values", As::strings}}};
const Schema kLabelSelector{
    "LabelSelector",
    {{1, "matchLabels", As::map}, {2, "matchExpressions", As::messages, &kRequirement}}};
const Schema kAggregationRule{"AggregationRule",
                              {{1, "clusterRoleSelectors", As::messages, &kLabelSelector}}};
const Schema kObjectMeta{"ObjectMeta",
                         {{1, "name", As::string},
                          {2, "generateName", As::string},
                          {3, "namespace", As::string},
                          {4, "selfLink", As::skipped},
                          {5, "uid", As::string},
                          {6, "resourceVersion", As::string},
                          {7, "generation", As::integer},
                          {8, "creationTimestamp", As::skipped},
                          {11, "labels", As::map},
                          {12, "annotations", As::map},
                          {14, "finalizers", As::strings}}};
const Schema kBinding{"RoleBinding",
                      {{1, "metadata", As::message, &kObjectMeta},
                       {2, "subjects", As::messages, &kSubject},
                       {3, "roleRef", As::message, &kRoleRef}}};
const Schema kRole{"Role",
                   {{1, "metadata", As::message, &kObjectMeta},
                    {2, "rules", As::messages, &kPolicyRule},
                    {3, "aggregationRule", As::message, &kAggregationRule}}};
const Schema kTypeMeta{"TypeMeta", {{1, "apiVersion", As::string}, {2, "kind", As::string}}};
// runtime.Unknown: the envelope.
const Schema kUnknown{"Unknown",
                      {{1, "typeMeta", As::message, &kTypeMeta},
                       {2, "raw", As::string},
                       {3, "contentEncoding", As::string},
                       {4, "contentType", As::string}}};

// One message's bytes, read field by field.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  std::optional<std::uint64_t> varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return std::nullopt;
  }

  std::optional<std::string_view> bytes() {
    const auto size = varint();
    if (!size || *size > data_.size() - pos_) return std::nullopt;
    const auto out = data_.substr(pos_, *size);
    pos_ += *size;
    return out;
  }

  // Past a value of wire type `wire`; false when the data ends first or the type is unknown.
  bool skip(std::uint64_t wire) {
    switch (wire) {
      case 0:
        return varint().has_value();
      case 1:
        return advance(8);
      case 2:
        return bytes().has_value();
      case 5:
        return advance(4);
      default:
        return false;
    }
  }

 private:
  bool advance(std::size_t n) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  std::string_view data_;
  std::size_t pos_{0};
};

ApiError malformed(const Schema& schema, const std::string& why) {
  return bad_request(fmt::format("the protobuf body is not a valid {}: {}", schema.name, why));
}

ApiResult<json> decode(const Schema& schema, std::string_view data);

// A map entry {1: key, 2: value} into `into`.
std::optional<ApiError> decode_entry(std::string_view data, json& into, const Schema& owner) {
  Reader in(data);
  std::string key;
  std::string value;
  while (!in.done()) {
    const auto tag = in.varint();
    if (!tag) return malformed(owner, "a map entry ends early");
    const auto field = *tag >> 3;
    if ((*tag & 7) != 2 || (field != 1 && field != 2)) {
      if (!in.skip(*tag & 7)) return malformed(owner, "a map entry ends early");
      continue;
    }
    const auto text = in.bytes();
    if (!text) return malformed(owner, "a map entry ends early");
    (field == 1 ? key : value) = std::string(*text);
  }
  into[key] = value;
  return std::nullopt;
}

ApiResult<json> decode(const Schema& schema, std::string_view data) {
  json out = json::object();
  Reader in(data);
  while (!in.done()) {
    const auto tag = in.varint();
    if (!tag) return malformed(schema, "it ends early");
    const auto number = static_cast<int>(*tag >> 3);
    const auto wire = *tag & 7;
    const Field* field = nullptr;
    for (const auto& f : schema.fields)
      if (f.number == number) field = &f;
    if (field == nullptr)
      return bad_request(fmt::format(
          "the kube-apiserver stand-in does not decode field {} of {} from protobuf; send JSON",
          number, schema.name));
    if (field->as == As::skipped) {
      if (!in.skip(wire)) return malformed(schema, "it ends early");
      continue;
    }
    if (field->as == As::integer) {
      const auto value = wire == 0 ? in.varint() : std::nullopt;
      if (!value) return malformed(schema, fmt::format("{} is not a varint", field->name));
      if (*value != 0) out[field->name] = static_cast<std::int64_t>(*value);
      continue;
    }
    const auto bytes = wire == 2 ? in.bytes() : std::nullopt;
    if (!bytes) return malformed(schema, fmt::format("{} is not length-delimited", field->name));
    switch (field->as) {
      case As::string:
        if (!bytes->empty()) out[field->name] = std::string(*bytes);
        break;
      case As::strings:
        out[field->name].push_back(std::string(*bytes));
        break;
      case As::map: {
        if (!out.contains(field->name)) out[field->name] = json::object();
        if (auto error = decode_entry(*bytes, out[field->name], schema)) return *error;
        break;
      }
      case As::message:
      case As::messages: {
        auto value = decode(*field->schema, *bytes);
        if (!value) return value.error();
        if (field->as == As::messages)
          out[field->name].push_back(std::move(value).value());
        else if (!value.value().empty())
          out[field->name] = std::move(value).value();
        break;
      }
      default:
        break;
    }
  }
  return out;
}

const Schema* schema_of(const ResourceType& type) {
  if (&type == &role_bindings() || &type == &cluster_role_bindings()) return &kBinding;
  if (&type == &roles() || &type == &cluster_roles()) return &kRole;
  return nullptr;
}

}  // namespace

bool is_protobuf(const std::string& content_type) {
  return content_type.substr(0, content_type.find(';')) == "application/vnd.kubernetes.protobuf";
}

ApiResult<json> decode_protobuf(const ResourceType& type, const std::string& body) {
  const Schema* schema = schema_of(type);
  if (schema == nullptr)
    return ApiError{415, "UnsupportedMediaType",
                    fmt::format("the body of the request was in an unknown format - accepted "
                                "media types include: application/json (the kube-apiserver "
                                "stand-in decodes protobuf for rbac.authorization.k8s.io only, "
                                "not for {})",
                                type.qualified()),
                    ""};
  constexpr std::string_view kMagic("k8s\0", 4);
  if (body.compare(0, kMagic.size(), kMagic) != 0)
    return bad_request("the protobuf body does not start with the Kubernetes magic \"k8s\\x00\"");
  auto envelope = decode(kUnknown, std::string_view(body).substr(kMagic.size()));
  if (!envelope) return envelope.error();
  const auto& unknown = envelope.value();
  if (!unknown.value("contentEncoding", "").empty())
    return bad_request("the protobuf body has a content encoding the stand-in does not decode");
  auto object = decode(*schema, unknown.value("raw", ""));
  if (!object) return object.error();
  // What check_object() compares with the type.
  const auto meta = unknown.value("typeMeta", json::object());
  for (const char* key : {"apiVersion", "kind"})
    if (meta.contains(key)) object.value()[key] = meta[key];
  return object;
}

}  // namespace kna::standins::apiserver
