#include "stages/dockerd.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "stages/stage_builders.hpp"

namespace kna::stages {

std::string containerd_pidfile(const std::string& exec_root) {
  return join_path(exec_root, "containerd/containerd.pid");
}

std::string dockerd_shutdown_flag(Millis stop_budget) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(stop_budget - kDockerdShutdownMargin);
  return "--shutdown-timeout=" + std::to_string(std::max<std::int64_t>(1, seconds.count()));
}

}  // namespace kna::stages
