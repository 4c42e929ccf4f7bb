#include "app/node_readiness.hpp"

#include <fmt/format.h>

namespace kna::app {

ProbeResult check_node_ready(const KubeApiClient& api, const std::string& node_name) {
  auto node = api.get_node(node_name);
  if (!node) {
    // Only a failed check asks /healthz, for the API server's own word on what is wrong.
    if (auto up = api.healthz(); !up) return {false, up.error().message, true};
    return {false, node.error().message, true};
  }
  return node_readiness(node.value(), node_name, api.server());
}

ProbeResult node_readiness(const std::optional<nlohmann::json>& node, const std::string& node_name,
                           const std::string& server) {
  if (!node)
    return {false, fmt::format("node '{}' is not registered with the API server {} yet", node_name,
                               server)};
  const auto ready = node_ready_condition(*node);
  if (!ready)
    return {false, fmt::format("node '{}' has no Ready condition in the API server {} yet",
                               node_name, server)};
  if (ready->status != "True")
    return {false, fmt::format("node '{}' is NotReady in the API server {}: Ready={} ({}{}{})",
                               node_name, server, ready->status, ready->reason,
                               ready->message.empty() ? "" : ": ", ready->message)};
  return {true, fmt::format("node '{}' is Ready in the API server {}", node_name, server)};
}

}  // namespace kna::app
