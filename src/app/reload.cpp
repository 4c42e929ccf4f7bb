#include "app/reload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kna::app {

Result<ReloadPlan> plan_reload(const Config& running, const Config& fresh, const PlanFacts& facts) {
  if (fresh.role != running.role)
    return Error{
        "role changed: restart the agent to change it (systemctl restart kube-node-agent)"};
  if (!(fresh.paths == running.paths)) {
    return Error{
        "paths.* changed: the running daemons use the old folders and sockets; restart "
        "the agent to change them (systemctl restart kube-node-agent)"};
  }
  const auto before = build_plan(running, facts);
  ReloadPlan plan{build_plan(fresh, facts), {}};
  if (plan.stages.size() != before.size()) {
    return Error{
        fmt::format("the new configuration runs {} stages where {} run: enabling or "
                    "disabling a stage needs a restart of the agent",
                    plan.stages.size(), before.size())};
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (plan.stages[i].name != before[i].name) {
      return Error{
          fmt::format("the new configuration runs '{}' where '{}' runs: enabling or "
                      "disabling a stage needs a restart of the agent",
                      plan.stages[i].name, before[i].name)};
    }
    if (!(plan.stages[i] == before[i])) plan.changed.push_back(before[i].name);
  }
  return plan;
}

std::string describe_changed(const std::vector<std::string>& changed) {
  return changed.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(changed, ", "));
}

}  // namespace kna::app
