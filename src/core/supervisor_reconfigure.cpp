// A new configuration for running stages (SIGHUP): new specifications in place, and a restart of
// the stages whose specification changed, each once.

#include <algorithm>
#include <utility>

#include "core/supervisor_impl.hpp"

namespace kna {

Status Supervisor::Impl::reconfigure(std::vector<StageSpec> stages,
                                     const std::vector<std::string>& changed,
                                     const std::string& reason) {
  if (shutting_down_) return Error{"the agent is stopping"};
  if (stages.size() != stages_.size()) {
    return Error{
        fmt::format("the new configuration has {} stages where {} run: adding or removing "
                    "a stage needs a restart of the agent",
                    stages.size(), stages_.size())};
  }
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name != name(i)) {
      return Error{
          fmt::format("the new configuration has stage '{}' where '{}' runs: adding or "
                      "removing a stage needs a restart of the agent",
                      stages[i].name, name(i))};
    }
    if (stages[i].deps != stages_[i].spec.deps) {
      return Error{fmt::format(
          "the dependencies of '{}' changed: that needs a restart of the agent", name(i))};
    }
  }
  std::vector<bool> is_changed(stages_.size(), false);
  for (const auto& stage : changed) {
    std::size_t i = 0;
    while (i < stages_.size() && name(i) != stage) ++i;
    if (i == stages_.size()) return Error{fmt::format("no stage '{}' runs", stage)};
    is_changed[i] = true;
  }

  for (std::size_t i = 0; i < stages.size(); ++i) {
    auto& s = stages_[i];
    if (!(stages[i].backoff == s.spec.backoff))
      s.backoff = core::Backoff(stages[i].backoff, random_);
    s.spec = std::move(stages[i]);
  }

  // A changed stage that restarts anyway, with a changed stage it depends on, is left to that one.
  auto restarts_with_a_changed_dependency = [&](std::size_t i) {
    std::vector<std::size_t> todo{i};
    std::vector<bool> seen(stages_.size(), false);
    while (!todo.empty()) {
      const std::size_t k = todo.back();
      todo.pop_back();
      for (const auto& e : graph_.deps(k)) {
        if (!e.restart_with || seen[e.stage]) continue;
        if (is_changed[e.stage]) return true;
        seen[e.stage] = true;
        todo.push_back(e.stage);
      }
    }
    return false;
  };
  std::vector<std::string> roots;
  for (std::size_t i = 0; i < stages_.size(); ++i)
    if (is_changed[i] && !restarts_with_a_changed_dependency(i)) roots.push_back(name(i));
  for (const auto& stage : roots) restart(stage, reason);
  return kOk;
}

}  // namespace kna
