// Validation of RBAC objects in the kube-apiserver stand-in (pkg/apis/rbac/validation's rules).

#include "kube/apiserver_rbac.hpp"

#include <fmt/format.h>

namespace kna::standins::apiserver {

namespace {

bool is_binding(const ResourceType& type) {
  return &type == &cluster_role_bindings() || &type == &role_bindings();
}

std::string quoted(const std::string& text) {
  return json(text).dump();
}

// A field of `object` (an object itself) as a string; "" when absent or not a string.
std::string text_at(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

// Go's %#v of rbac.RoleRef, as the real "cannot change roleRef" error prints it.
std::string role_ref_text(const json& ref) {
  return fmt::format("rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                     quoted(text_at(ref, "apiGroup")), quoted(text_at(ref, "kind")),
                     quoted(text_at(ref, "name")));
}

}  // namespace

std::vector<std::string> path_segment_problems(const std::string& name) {
  if (name == "." || name == "..") return {fmt::format("may not be '{}'", name)};
  std::vector<std::string> problems;
  for (const char* part : {"/", "%"})
    if (name.find(part) != std::string::npos)
      problems.push_back(fmt::format("may not contain '{}'", part));
  return problems;
}

std::optional<ApiError> check_binding(const ResourceType& type, const std::string& name,
                                      const json& object, const json* current) {
  if (!is_binding(type)) return std::nullopt;
  std::vector<std::string> errors;
  const json ref = object.contains("roleRef") ? object["roleRef"] : json::object();
  if (text_at(ref, "apiGroup") != type.group)
    errors.push_back(fmt::format("roleRef.apiGroup: Unsupported value: {}: supported values: {}",
                                 quoted(text_at(ref, "apiGroup")), quoted(type.group)));
  const auto kind = text_at(ref, "kind");
  if (&type == &cluster_role_bindings() && kind != "ClusterRole")
    errors.push_back(fmt::format(
        "roleRef.kind: Unsupported value: {}: supported values: \"ClusterRole\"", quoted(kind)));
  if (&type == &role_bindings() && kind != "Role" && kind != "ClusterRole")
    errors.push_back(fmt::format(
        "roleRef.kind: Unsupported value: {}: supported values: \"Role\", \"ClusterRole\"",
        quoted(kind)));
  const auto role = text_at(ref, "name");
  if (role.empty()) errors.push_back("roleRef.name: Required value");
  for (const auto& problem : path_segment_problems(role))
    errors.push_back(fmt::format("roleRef.name: Invalid value: {}: {}", quoted(role), problem));
  const json subjects = object.contains("subjects") ? object["subjects"] : json::array();
  for (std::size_t i = 0; subjects.is_array() && i < subjects.size(); ++i) {
    const auto& subject = subjects[i];
    const auto subject_kind = text_at(subject, "kind");
    if (subject_kind != "ServiceAccount" && subject_kind != "User" && subject_kind != "Group")
      errors.push_back(
          fmt::format("subjects[{}].kind: Unsupported value: {}: supported values: "
                      "\"ServiceAccount\", \"User\", \"Group\"",
                      i, quoted(subject_kind)));
    if (text_at(subject, "name").empty())
      errors.push_back(fmt::format("subjects[{}].name: Required value", i));
  }
  if (current != nullptr) {
    const json before = current->contains("roleRef") ? (*current)["roleRef"] : json::object();
    if (role_ref_text(before) != role_ref_text(ref))
      errors.push_back(
          fmt::format("roleRef: Invalid value: {}: cannot change roleRef", role_ref_text(ref)));
  }
  if (errors.empty()) return std::nullopt;
  std::string joined;
  for (const auto& error : errors) joined += (joined.empty() ? "" : ", ") + error;
  return object_invalid(type, name, errors.size() > 1 ? "[" + joined + "]" : joined);
}

}  // namespace kna::standins::apiserver
