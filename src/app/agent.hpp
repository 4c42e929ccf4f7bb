#pragma once
// `kube-node-agent run`: the composition root. The only place that builds the real
// implementations (event loop, runtimes, prober, API server) and wires them to the supervisor.

#include "kna/config_load.hpp"

namespace kna::app {

// Runs the node until SIGINT/SIGTERM, then stops every stage in order. Returns the exit code.
int run_agent(const LoadedConfig& loaded);

}  // namespace kna::app
