// Tables of ConfigMaps, Secrets and CSRs, as the real apiserver's printers
// (pkg/printers/internalversion) fill them.

#include "kube/apiserver_tables.hpp"

#include <chrono>

namespace kna::standins::apiserver {

namespace {

json column(const char* name, const char* type, const char* description) {
  json c{{"name", name}, {"type", type}, {"description", description}, {"priority", 0}};
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
