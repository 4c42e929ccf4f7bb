#pragma once
// The kubelet's readiness as the cluster sees it: the API server answers and lists this node with
// condition Ready=True. Blocking; for worker threads.

#include <string>

#include "clients/kube_api.hpp"
#include "kna/probe.hpp"

namespace kna::app {

// An API server that does not answer is outside the kubelet (result.outside): reported, never a
// reason to restart the kubelet. A node missing or NotReady is the kubelet's own failure.
ProbeResult check_node_ready(const KubeApiClient& api, const std::string& node);

}  // namespace kna::app
