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

std::string dockerd_config_file(const std::string& run_dir, const std::string& stage) {
  return join_path(run_dir, stage + ".daemon.json");
}

std::string dockerd_config_flag(const std::string& run_dir, const std::string& stage) {
  return "--config-file=" + dockerd_config_file(run_dir, stage);
}

void use_live_restore(StageSpec& spec, const std::string& run_dir) {
  auto& p = std::get<ProcessSpec>(spec.launch);
  const std::string file = dockerd_config_file(run_dir, spec.name);
  spec.prepare.push_back(WriteFile{file, kLiveRestoreOn, 0644});
  p.reload_before_stop = ReloadBeforeStop{file, kLiveRestoreOff, Millis{500}};
}

}  // namespace kna::stages
