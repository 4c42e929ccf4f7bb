#pragma once
// What the kube-apiserver stand-in knows about Nodes beyond storing them: timestamps, the node
// lifecycle view of stale heartbeats, patches (merge, strategic merge, JSON patch) and kubectl's
// server-side Table.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kna::standins::apiserver {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

// The real node-monitor-grace-period: a Ready heartbeat older than this is Unknown.
inline constexpr std::chrono::seconds kNodeMonitorGracePeriod{40};

// RFC 3339 in UTC with second precision, as Kubernetes writes metav1.Time: 2016-08-26T12:00:00Z.
std::string format_time(Clock::time_point t);
// Accepts Z or a numeric offset and optional fractional seconds.
std::optional<Clock::time_point> parse_time(const std::string& text);

// kubectl's AGE: k8s.io/apimachinery's duration.HumanDuration.
std::string human_duration(Clock::duration d);

// DNS-1123 subdomain, the rule for node names.
bool valid_node_name(const std::string& name);

// The node as the node lifecycle controller would leave it at `now`: when the Ready heartbeat is
// older than the grace period, every condition becomes Unknown (reason NodeStatusUnknown); a node
// that never posted Ready gets Ready Unknown once it is older than the grace period.
json observed_node(json node, Clock::time_point now);

enum class PatchType { merge, strategic_merge, json_patch };
// Content-Type → patch type; nullopt for one the stand-in does not speak (e.g. apply-patch+yaml).
std::optional<PatchType> patch_type(const std::string& content_type);
// Applies a patch to a Node; throws json::exception (or std::invalid_argument) on a malformed one.
json apply_patch(const json& node, const json& patch, PatchType type);

// The meta.k8s.io Table of kubectl's `get nodes`, all columns (kubectl hides priority 1 unless
// -o wide). `include` is the includeObject query parameter: None, Metadata (default) or Object.
json node_table(const std::vector<json>& nodes, const std::string& resource_version,
                const std::string& table_api_version, const std::string& include,
                Clock::time_point now);

}  // namespace kna::standins::apiserver
