// Tables of ConfigMaps, Secrets, CSRs and RBAC objects, as the real apiserver's printers
// (pkg/printers/internalversion) fill them.

#include "kube/apiserver_tables.hpp"

#include <array>
#include <chrono>

namespace kna::standins::apiserver {

namespace {

json column(const char* name, const char* type, const char* description, int priority = 0) {
  json c{{"name", name}, {"type", type}, {"description", description}, {"priority", priority}};
  if (std::string(name) == "Name") c["format"] = "name";
  return c;
}

std::string text(const json& object, const char* pointer) {
  const json::json_pointer p(pointer);
  if (!object.contains(p) || !object.at(p).is_string()) return "";
  return object.at(p).get<std::string>();
}

std::size_t count(const json& object, const char* key) {
  return object.contains(key) && object[key].is_object() ? object[key].size() : 0;
}

std::string age(const json& object, Clock::time_point now) {
  const auto created = parse_time(text(object, "/metadata/creationTimestamp"));
  return created ? human_duration(now - *created) : "<unknown>";
}

// "Approved,Issued", "Pending", as kubectl shows a CSR's condition.
std::string csr_condition(const json& csr) {
  std::string out;
  if (csr.contains("status") && csr["status"].contains("conditions")) {
    for (const auto& c : csr["status"]["conditions"])
      out += (out.empty() ? "" : ",") + c.value("type", "");
  }
  if (out.empty()) out = "Pending";
  if (csr.contains("status") && !csr["status"].value("certificate", "").empty()) out += ",Issued";
  return out;
}

std::string requested_duration(const json& csr) {
  if (!csr.contains("spec") || !csr["spec"].contains("expirationSeconds")) return "<none>";
  const auto seconds = csr["spec"]["expirationSeconds"].get<long>();
  return human_duration(std::chrono::seconds(seconds));
}

bool is_binding(const ResourceType& type) {
  return &type == &cluster_role_bindings() || &type == &role_bindings();
}

bool is_role(const ResourceType& type) {
  return &type == &cluster_roles() || &type == &roles();
}

// rbac.SubjectsStrings: a binding's users, groups and service accounts (namespace/name), each
// joined with ", ".
std::array<std::string, 3> subjects_strings(const json& binding) {
  std::array<std::string, 3> out;
  if (!binding.contains("subjects") || !binding["subjects"].is_array()) return out;
  for (const auto& subject : binding["subjects"]) {
    const auto kind = text(subject, "/kind");
    std::string* into = kind == "User"             ? &out[0]
                        : kind == "Group"          ? &out[1]
                        : kind == "ServiceAccount" ? &out[2]
                                                   : nullptr;
    if (into == nullptr) continue;
    const auto name = kind == "ServiceAccount"
                          ? text(subject, "/namespace") + "/" + text(subject, "/name")
                          : text(subject, "/name");
    *into += (into->empty() ? "" : ", ") + name;
  }
  return out;
}

// A timestamp as a "date" column shows it: RFC 3339 in UTC.
std::string created_at(const json& object) {
  const auto created = parse_time(text(object, "/metadata/creationTimestamp"));
  return created ? format_time(*created) : "";
}

}  // namespace

json object_table(const ResourceType& type, const std::vector<json>& objects,
                  const std::string& resource_version, const std::string& table_api_version,
                  const std::string& include, Clock::time_point now) {
  const auto name = column("Name", "string", "Name must be unique within a namespace.");
  const auto age_column = column("Age", "string",
                                 "CreationTimestamp is a timestamp representing the server time "
                                 "when this object was created.");
  json columns;
  if (&type == &configmaps())
    columns = {name, column("Data", "integer", "The number of keys in the ConfigMap."), age_column};
  else if (&type == &secrets())
    columns = {name, column("Type", "string", "The type of the secret"),
               column("Data", "integer", "The number of keys in the secret."), age_column};
  else if (is_binding(type))
    columns = {name,
               column("Role", "string",
                      "RoleRef can only reference a ClusterRole in the global namespace. If the "
                      "RoleRef cannot be resolved, the Authorizer must return an error. This field "
                      "is immutable."),
               age_column,
               column("Users", "string", "Users in the roleBinding", 1),
               column("Groups", "string", "Groups in the roleBinding", 1),
               column("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1)};
  else if (is_role(type))
    columns = {name, column("Created At", "date",
                            "CreationTimestamp is a timestamp representing the server time when "
                            "this object was created.")};
  else
    columns = {name,
               age_column,
               column("SignerName", "string", "The signer the certificate is requested from."),
               column("Requestor", "string", "Name of the user who requested the CSR."),
               column("RequestedDuration", "string", "The requested duration of the certificate."),
               column("Condition", "string", "The conditions of the CSR.")};
  json table{{"kind", "Table"},
             {"apiVersion", table_api_version},
             {"metadata", {{"resourceVersion", resource_version}}},
             {"columnDefinitions", std::move(columns)},
             {"rows", json::array()}};
  for (const auto& object : objects) {
    json cells;
    const auto object_name = text(object, "/metadata/name");
    if (&type == &configmaps())
      cells = {object_name, count(object, "data") + count(object, "binaryData"), age(object, now)};
    else if (&type == &secrets())
      cells = {object_name, object.value("type", ""), count(object, "data"), age(object, now)};
    else if (is_binding(type)) {
      const auto subjects = subjects_strings(object);
      cells = {
          object_name,      text(object, "/roleRef/kind") + "/" + text(object, "/roleRef/name"),
          age(object, now), subjects[0],
          subjects[1],      subjects[2]};
    } else if (is_role(type))
      cells = {object_name, created_at(object)};
    else
      cells = {object_name,
               age(object, now),
               text(object, "/spec/signerName"),
               text(object, "/spec/username"),
               requested_duration(object),
               csr_condition(object)};
    json row{{"cells", std::move(cells)}};
    if (include == "Object") {
      row["object"] = object;
    } else if (include != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", table_api_version},
                       {"metadata", object.value("metadata", json::object())}};
    }
    table["rows"].push_back(std::move(row));
  }
  return table;
}

}  // namespace kna::standins::apiserver
