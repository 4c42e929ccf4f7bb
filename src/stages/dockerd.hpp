#pragma once
// What the two dockerd stages share: the helper a killed dockerd leaves behind, a daemon
// shutdown that fits inside the stage's stop budget, and live-restore.

#include <string>

#include "kna/spec.hpp"
#include "kna/time.hpp"

namespace kna::stages {

// dockerd 20.10 starts its own containerd and records its pid here. After dockerd is SIGKILLed
// that containerd is dying or an unreaped zombie, and a new dockerd that finds the file believes
// it still runs ("containerd is still running") and waits 15 s for it in vain.
std::string containerd_pidfile(const std::string& exec_root);

// After its containers, a stopping dockerd still has to stop its containerd and unmount: this
// much of the stop budget is kept for that, so that the SIGKILL does not leave them behind.
inline constexpr Millis kDockerdShutdownMargin{5'000};

// "--shutdown-timeout=N": how long dockerd gives its containers to stop, in whole seconds — the
// stage's stop budget less kDockerdShutdownMargin, and at least 1 (dockerd's own default is 15 s,
// whatever our budget).
std::string dockerd_shutdown_flag(Millis stop_budget);

// dockerd's configuration file, <run_dir>/<stage>.daemon.json (the host's /etc/docker/daemon.json
// does not apply to the node's daemons), written before each launch with live-restore on: the
// containers of a dockerd that dies (kill -9, a crash, a hang the agent ends) keep running, and the
// next dockerd restores them, so that no pod restarts. Before the agent itself stops the daemon
// (shutdown, a restart, a replacement such as a new --bip), the file turns live-restore off and
// SIGHUP reloads it, so that an ordered stop still ends the containers.
inline constexpr const char* kLiveRestoreOn = "{\"live-restore\": true}\n";
inline constexpr const char* kLiveRestoreOff = "{\"live-restore\": false}\n";
std::string dockerd_config_file(const std::string& run_dir, const std::string& stage);
// "--config-file=<that file>", the last of the built-in arguments (the user's `args` follow).
std::string dockerd_config_flag(const std::string& run_dir, const std::string& stage);
// Adds the file's WriteFile step and its reload before stop to the spec of a dockerd started
// with dockerd_config_flag().
void use_live_restore(StageSpec& spec, const std::string& run_dir);

}  // namespace kna::stages
