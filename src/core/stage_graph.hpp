#pragma once
// The dependency graph of the supervisor's stages: validated once, then indexed by position in
// start order (a topological order that keeps the given order wherever dependencies allow).

#include <cstddef>
#include <string>
#include <vector>

#include "kna/spec.hpp"

namespace kna::core {

struct Edge {
  std::size_t stage;  // index in start order
  bool restart_with;
};

class StageGraph {
 public:
  // Reorders `stages` into start order. Throws std::invalid_argument for an empty or duplicate
  // name, a dependency on an unlisted stage, or a cycle (naming the stages on it).
  explicit StageGraph(std::vector<StageSpec>& stages);

  std::size_t size() const { return deps_.size(); }
  const std::vector<Edge>& deps(std::size_t i) const { return deps_[i]; }
  // The stages that depend on `i`, with the kind of their edge.
  const std::vector<Edge>& dependents(std::size_t i) const { return dependents_[i]; }
  // `i` and every stage that restarts with it, transitively (restart_with edges only), in start
  // order.
  std::vector<std::size_t> restart_closure(std::size_t i) const;

 private:
  std::vector<std::vector<Edge>> deps_;
  std::vector<std::vector<Edge>> dependents_;
};

}  // namespace kna::core
