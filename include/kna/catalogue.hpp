#pragma once
// The stage catalogue: pure functions from a configuration (and what flannel leased) to the
// specification of every stage of the node's role. No I/O here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kna/config.hpp"
#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna {

// Container labels that mark what the agent owns.
inline constexpr const char* kLabelAgent = "io.kube-node-agent.managed";  // "true"
inline constexpr const char* kLabelStage = "io.kube-node-agent.stage";
inline constexpr const char* kLabelNode = "io.kube-node-agent.node";
inline constexpr const char* kLabelSpecHash = "io.kube-node-agent.spec-hash";
// Environment marker of every child process: the stage name (k0s-style ownership proof).
inline constexpr const char* kEnvStageMarker = "KUBE_NODE_AGENT_STAGE";

// flannel's /run/flannel/subnet.env.
struct FlannelSubnet {
  std::string network;  // FLANNEL_NETWORK, e.g. 10.1.0.0/16
  std::string subnet;   // FLANNEL_SUBNET, e.g. 10.1.33.1/24 (the bridge address and prefix)
  int mtu{0};           // FLANNEL_MTU
  bool ipmasq{false};   // FLANNEL_IPMASQ
  bool operator==(const FlannelSubnet&) const = default;
};

// Strict: every line is KEY=VALUE with a known key; all four keys present; values well formed.
// Blank lines are allowed. The error names the line and what is wrong.
Result<FlannelSubnet> parse_subnet_env(std::string_view text);
// The file's text for `subnet` (what flanneld writes).
std::string format_subnet_env(const FlannelSubnet& subnet);

// Facts known only at run time; absent ones show as ${FLANNEL_SUBNET}-style placeholders.
struct PlanFacts {
  std::optional<FlannelSubnet> subnet;
};

// The stages of cfg.role in start order (disabled stages left out), dependencies included.
std::vector<StageSpec> build_plan(const Config& cfg, const PlanFacts& facts);
// One stage; an error when the stage is unknown, disabled, not part of the role, or needs a fact
// that is missing (main-docker without a subnet).
Result<StageSpec> build_stage(const Config& cfg, const std::string& stage, const PlanFacts& facts);

// The images docker-multinode used, by ARCH and version: gcr.io/google_containers/etcd-arm:2.2.5,
// quay.io/coreos/flannel:0.5.5-arm, gcr.io/google_containers/hyperkube-arm:v1.3.6 and friends.
std::string default_image(const Config& cfg, const std::string& stage);
// Short stable hash of a launch specification (hex), put into kLabelSpecHash.
std::string spec_hash(const LaunchSpec& launch);

// For `kube-node-agent plan`.
std::string render_plan_text(const std::vector<StageSpec>& plan);
nlohmann::json render_plan_json(const std::vector<StageSpec>& plan);

}  // namespace kna
