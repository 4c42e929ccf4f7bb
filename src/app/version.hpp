#pragma once

#include <string>

namespace kna::app {

inline constexpr const char* kVersion = "0.1.0";

// The User-Agent of the agent's requests to the API server, "kube-node-agent/0.1.0 (node-1)",
// naming the agent and its node to the server's logs and audit, as the kubelet's does.
inline std::string agent_user_agent(const std::string& node_name) {
  return std::string("kube-node-agent/") + kVersion +
         (node_name.empty() ? std::string() : " (" + node_name + ")");
}

}  // namespace kna::app
