// Node semantics of the kube-apiserver stand-in: time, the node lifecycle view and kubectl's Table.

#include "kube/apiserver_node.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>

#include <fmt/format.h>

namespace kna::standins::apiserver {

using std::chrono::duration_cast;
using std::chrono::seconds;

std::string format_time(Clock::time_point t) {
  const std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::optional<Clock::time_point> parse_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) ++pos;
  }
  long offset = 0;
  const std::string zone = text.substr(pos);
  if (zone != "Z" && zone != "z") {
    int hours = 0;
    int minutes = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(zone.c_str() + 1, "%2d:%2d", &hours, &minutes) != 2)
      return std::nullopt;
    offset = (zone[0] == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  }
  const std::time_t utc = timegm(&tm);
  if (utc == -1) return std::nullopt;
  // Past 2262 a nanosecond clock overflows: such a time is "never" (a token's expiration).
  if (utc - offset >= Clock::to_time_t(Clock::time_point::max())) return Clock::time_point::max();
  return Clock::from_time_t(utc - offset);
}

std::string human_duration(Clock::duration d) {
  const long secs = static_cast<long>(duration_cast<seconds>(d).count());
  if (secs < -1) return "<invalid>";
  if (secs < 0) return "0s";
  if (secs < 60 * 2) return fmt::format("{}s", secs);
  const long minutes = secs / 60;
  if (minutes < 10) {
    const long s = secs % 60;
    return s == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, s);
  }
  if (minutes < 60 * 3) return fmt::format("{}m", minutes);
  const long hours = minutes / 60;
  if (hours < 8) {
    const long m = minutes % 60;
    return m == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, m);
  }
  if (hours < 48) return fmt::format("{}h", hours);
  if (hours < 24 * 8) {
    const long h = hours % 24;
    return h == 0 ? fmt::format("{}d", hours / 24) : fmt::format("{}d{}h", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) return fmt::format("{}d", hours / 24);
  if (hours < 24 * 365 * 8) {
    const long days = (hours / 24) % 365;
    return days == 0 ? fmt::format("{}y", hours / 24 / 365)
                     : fmt::format("{}y{}d", hours / 24 / 365, days);
  }
  return fmt::format("{}y", hours / 24 / 365);
}

bool valid_node_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  const auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0 ||
           std::isdigit(static_cast<unsigned char>(c)) != 0;
  };
  // Each dot-separated label starts and ends with [a-z0-9] and holds only [-a-z0-9].
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = std::min(name.find('.', start), name.size());
    const auto label = name.substr(start, dot - start);
    if (label.empty() || !alnum(label.front()) || !alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [&](char c) { return alnum(c) || c == '-'; }))
      return false;
    start = dot + 1;
  }
  return true;
}

namespace {

// The conditions the real node lifecycle controller marks Unknown (others are left alone).
bool monitored_condition(const std::string& type) {
  return type == "Ready" || type == "MemoryPressure" || type == "DiskPressure" ||
         type == "PIDPressure" || type == "OutOfDisk";
}

std::string text_at(const json& object, const json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_string()) return "";
  return object.at(pointer).get<std::string>();
}

}  // namespace

// In a real cluster kube-controller-manager's node lifecycle controller writes this into the
// stored node after node-monitor-grace-period. The stand-in controller-manager does not, so the
// stand-in apiserver shows the same outcome at read time and never stores it: a heartbeat that
// arrives later makes the node Ready again at once.
json observed_node(json node, Clock::time_point now) {
  if (!node.is_object()) return node;
  json& status = node["status"];
  if (!status.is_object()) status = json::object();
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  const auto ready = std::find_if(conditions.begin(), conditions.end(), [](const json& c) {
    return c.is_object() && c.value("type", "") == "Ready";
  });
  const auto created = parse_time(text_at(node, "/metadata/creationTimestamp"_json_pointer));

  if (ready == conditions.end()) {
    if (!created || now - *created <= kNodeMonitorGracePeriod) return node;
    conditions.push_back({{"type", "Ready"},
                          {"status", "Unknown"},
                          {"lastHeartbeatTime", format_time(*created)},
                          {"lastTransitionTime", format_time(*created + kNodeMonitorGracePeriod)},
                          {"reason", "NodeStatusNeverUpdated"},
                          {"message", "Kubelet never posted node status."}});
    return node;
  }
  auto beat = parse_time(ready->value("lastHeartbeatTime", ""));
  if (!beat) beat = created;
  if (!beat || now - *beat <= kNodeMonitorGracePeriod) return node;
  for (auto& condition : conditions) {
    if (!condition.is_object() || !monitored_condition(condition.value("type", ""))) continue;
    if (condition.value("status", "") == "Unknown") continue;
    condition["status"] = "Unknown";
    condition["reason"] = "NodeStatusUnknown";
    condition["message"] = "Kubelet stopped posting node status.";
    condition["lastTransitionTime"] = format_time(*beat + kNodeMonitorGracePeriod);
  }
  return node;
}

namespace {

// printNode of Kubernetes' server-side printers.
std::string node_status_cell(const json& node) {
  std::vector<std::string> parts;
  const json conditions = node.contains("/status/conditions"_json_pointer)
                              ? node.at("/status/conditions"_json_pointer)
                              : json::array();
  for (const auto& c : conditions) {
    if (!c.is_object() || c.value("type", "") != "Ready") continue;
    parts.push_back(c.value("status", "") == "True" ? "Ready" : "NotReady");
    break;
  }
  if (parts.empty()) parts.push_back("Unknown");
  if (node.contains("/spec/unschedulable"_json_pointer) &&
      node.at("/spec/unschedulable"_json_pointer) == true)
    parts.push_back("SchedulingDisabled");
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string node_roles_cell(const json& node) {
  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  const json labels = node.contains("/metadata/labels"_json_pointer)
                          ? node.at("/metadata/labels"_json_pointer)
                          : json::object();
  if (labels.is_object()) {
    for (const auto& [key, value] : labels.items()) {
      if (key.rfind(kRolePrefix, 0) == 0 && key.size() > kRolePrefix.size())
        roles.insert(key.substr(kRolePrefix.size()));
      else if (key == "kubernetes.io/role" && value.is_string() &&
               !value.get<std::string>().empty())
        roles.insert(value.get<std::string>());
    }
  }
  if (roles.empty()) return "<none>";
  return fmt::format("{}", fmt::join(roles, ","));
}

std::string node_address_cell(const json& node, const std::string& type) {
  const json addresses = node.contains("/status/addresses"_json_pointer)
                             ? node.at("/status/addresses"_json_pointer)
                             : json::array();
  for (const auto& a : addresses)
    if (a.is_object() && a.value("type", "") == type && a.contains("address"))
      return a.value("address", "<none>");
  return "<none>";
}

std::string or_unknown(std::string text) {
  return text.empty() ? "<unknown>" : text;
}

json column(const char* name, const char* description, int priority = 0) {
  json c{{"name", name}, {"type", "string"}, {"description", description}, {"priority", priority}};
  if (std::string_view(name) == "Name") c["format"] = "name";
  return c;
}

}  // namespace

json node_table(const std::vector<json>& nodes, const std::string& resource_version,
                const std::string& table_api_version, const std::string& include,
                Clock::time_point now) {
  json table{{"kind", "Table"},
             {"apiVersion", table_api_version},
             {"metadata", {{"resourceVersion", resource_version}}},
             {"columnDefinitions",
              {column("Name", "Name must be unique within a namespace."),
               column("Status", "The status of the node"), column("Roles", "The roles of the node"),
               column("Age",
                      "CreationTimestamp is a timestamp representing the server time when "
                      "this object was created."),
               column("Version", "Kubelet Version reported by the node."),
               column("Internal-IP", "List of addresses reachable to the node.", 1),
               column("External-IP", "List of addresses reachable to the node.", 1),
               column("OS-Image", "OS Image reported by the node from /etc/os-release.", 1),
               column("Kernel-Version", "Kernel Version reported by the node.", 1),
               column("Container-Runtime", "ContainerRuntime Version reported by the node.", 1)}},
             {"rows", json::array()}};
  for (const auto& node : nodes) {
    const auto created = parse_time(text_at(node, "/metadata/creationTimestamp"_json_pointer));
    json row{
        {"cells",
         {text_at(node, "/metadata/name"_json_pointer), node_status_cell(node),
          node_roles_cell(node), created ? human_duration(now - *created) : "<unknown>",
          text_at(node, "/status/nodeInfo/kubeletVersion"_json_pointer),
          node_address_cell(node, "InternalIP"), node_address_cell(node, "ExternalIP"),
          or_unknown(text_at(node, "/status/nodeInfo/osImage"_json_pointer)),
          or_unknown(text_at(node, "/status/nodeInfo/kernelVersion"_json_pointer)),
          or_unknown(text_at(node, "/status/nodeInfo/containerRuntimeVersion"_json_pointer))}}};
    if (include == "Object") {
      row["object"] = node;
    } else if (include != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", table_api_version},
                       {"metadata", node.value("metadata", json::object())}};
    }
    table["rows"].push_back(std::move(row));
  }
  return table;
}

}  // namespace kna::standins::apiserver
