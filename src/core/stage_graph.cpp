#include "core/stage_graph.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace kna::core {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

}  // namespace

StageGraph::StageGraph(std::vector<StageSpec>& stages) {
  const std::size_t n = stages.size();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) {
    if (stages[i].name.empty()) throw std::invalid_argument("a stage has no name");
    if (!index.emplace(stages[i].name, i).second)
      throw std::invalid_argument(fmt::format("stage '{}' is listed twice", stages[i].name));
  }
  for (const auto& s : stages) {
    for (const auto& d : s.deps) {
      if (!index.count(d.stage))
        throw std::invalid_argument(
            fmt::format("stage '{}' depends on '{}', which is not a stage", s.name, d.stage));
    }
  }

  // Kahn's algorithm, always taking the earliest listed stage that is free: stable w.r.t. input.
  std::vector<int> missing(n, 0);
  std::vector<std::vector<std::size_t>> users(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::size_t> distinct;
    for (const auto& d : stages[i].deps) distinct.insert(index.at(d.stage));
    missing[i] = static_cast<int>(distinct.size());
    for (auto d : distinct) users[d].push_back(i);
  }
  std::set<std::size_t> free;
  for (std::size_t i = 0; i < n; ++i)
    if (missing[i] == 0) free.insert(i);
  std::vector<std::size_t> order;
  while (!free.empty()) {
    const std::size_t i = *free.begin();
    free.erase(free.begin());
    order.push_back(i);
    for (auto u : users[i])
      if (--missing[u] == 0) free.insert(u);
  }
  if (order.size() != n) {
    // What is left is on a cycle or behind one; drop those behind (no user left) to name the cycle.
    std::set<std::size_t> left;
    for (std::size_t i = 0; i < n; ++i)
      if (missing[i] > 0) left.insert(i);
    for (bool pruned = true; pruned;) {
      pruned = false;
      for (auto it = left.begin(); it != left.end();) {
        const bool used = std::any_of(users[*it].begin(), users[*it].end(),
                                      [&](std::size_t u) { return left.count(u) > 0; });
        if (used) {
          ++it;
        } else {
          it = left.erase(it);
          pruned = true;
        }
      }
    }
    std::vector<std::string> on_cycle;
    for (auto i : left) on_cycle.push_back(stages[i].name);
    throw std::invalid_argument(
        fmt::format("the stage dependencies form a cycle through {}", join(on_cycle)));
  }

  std::vector<StageSpec> sorted;
  sorted.reserve(n);
  std::map<std::string, std::size_t> position;
  for (std::size_t k = 0; k < n; ++k) {
    position[stages[order[k]].name] = k;
    sorted.push_back(std::move(stages[order[k]]));
  }
  stages = std::move(sorted);

  deps_.resize(n);
  dependents_.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    for (const auto& d : stages[k].deps) {
      const std::size_t dep = position.at(d.stage);
      // A stage listed twice as a dependency restarts with it if either entry says so.
      auto it = std::find_if(deps_[k].begin(), deps_[k].end(),
                             [dep](const Edge& e) { return e.stage == dep; });
      if (it != deps_[k].end()) {
        it->restart_with = it->restart_with || d.restart_with;
        continue;
      }
      deps_[k].push_back({dep, d.restart_with});
    }
    for (const auto& e : deps_[k]) dependents_[e.stage].push_back({k, e.restart_with});
  }
}

std::vector<std::size_t> StageGraph::restart_closure(std::size_t i) const {
  std::set<std::size_t> seen{i};
  std::vector<std::size_t> todo{i};
  while (!todo.empty()) {
    const std::size_t s = todo.back();
    todo.pop_back();
    for (const auto& e : dependents_[s])
      if (e.restart_with && seen.insert(e.stage).second) todo.push_back(e.stage);
  }
  return {seen.begin(), seen.end()};
}

}  // namespace kna::core
