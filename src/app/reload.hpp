#pragma once
// SIGHUP: what a new configuration changes in a running node. Pure; the agent applies it.

#include <string>
#include <vector>

#include "kna/catalogue.hpp"
#include "kna/config.hpp"
#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna::app {

struct ReloadPlan {
  std::vector<StageSpec> stages;     // the new plan, in start order
  std::vector<std::string> changed;  // stages whose specification differs: they restart
};

// Compares what `running` and `fresh` launch, with the same facts (the subnet flannel holds now),
// so that only a change of configuration counts. An error names what a reload cannot apply: the
// role, a path (the agent's own folders and sockets, and the daemons' live there) or the set of
// stages; the agent then keeps the running configuration.
Result<ReloadPlan> plan_reload(const Config& running, const Config& fresh, const PlanFacts& facts);

// "kubelet, kube-proxy" or "nothing"
std::string describe_changed(const std::vector<std::string>& changed);

}  // namespace kna::app
