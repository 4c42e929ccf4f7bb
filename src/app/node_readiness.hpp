#pragma once
// The kubelet's readiness as the cluster sees it: the API server answers and lists this node with
// condition Ready=True. Blocking; for worker threads.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clients/kube_api.hpp"
#include "kna/probe.hpp"

namespace kna::app {

// An API server that does not answer is outside the kubelet (result.outside): reported, never a
// reason to restart the kubelet. A node missing or NotReady is the kubelet's own failure. One
// request (GET the node) when the API server answers it; /healthz too only when it does not.
ProbeResult check_node_ready(const KubeApiClient& api, const std::string& node);

// The decision once the API server `server` has answered: `node` is its Node object, nullopt when
// it does not know the node.
ProbeResult node_readiness(const std::optional<nlohmann::json>& node, const std::string& node_name,
                           const std::string& server);

}  // namespace kna::app
