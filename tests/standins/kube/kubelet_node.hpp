#pragma once
// The kubelet stand-in's Node object: registration with the API server and the heartbeat that
// keeps condition Ready=True fresh, the two things `kubectl get nodes` and the agent look at.

#include <chrono>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "kube/standin_api.hpp"

namespace kna::standins {

class StopFlag;

struct NodeIdentity {
  std::string name;
  std::string internal_ip;
  std::string kubelet_version;  // "v1.3.6"
  std::string arch;             // Go's names: amd64, arm, arm64, ppc64le
};

// What the node reports about itself when `--hostname-override`, `--node-ip` and `--address`
// are as given ("" when not given).
NodeIdentity node_identity(const std::string& hostname_override, const std::string& node_ip,
                           const std::string& address, const std::string& version);

// RFC 3339 in UTC, seconds precision, as Kubernetes writes times.
std::string rfc3339(std::chrono::system_clock::time_point t);

// The Node the kubelet registers (POST /api/v1/nodes).
nlohmann::json node_object(const NodeIdentity& node, const std::string& heartbeat,
                           const std::string& ready_since);
// The strategic-merge patch of its status sent at every heartbeat.
nlohmann::json status_patch(const NodeIdentity& node, const std::string& heartbeat,
                            const std::string& ready_since);

class NodeStatus {
 public:
  NodeStatus(ApiClient api, NodeIdentity node, std::chrono::milliseconds period);
  // Registers, then heartbeats every period until stop; registers again when the node is gone.
  void run(const StopFlag& stop);

 private:
  bool register_node();  // true when the node exists now
  enum class Beat { ok, node_gone, failed };
  Beat heartbeat();

  ApiClient api_;
  NodeIdentity node_;
  std::chrono::milliseconds period_;
  std::string ready_since_;
  ApiReachability reach_;
  std::string problem_;  // the last unexpected answer logged
};

}  // namespace kna::standins
