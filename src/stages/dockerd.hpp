#pragma once
// What the two dockerd stages share: the helper a killed dockerd leaves behind, and a daemon
// shutdown that fits inside the stage's stop budget.

#include <string>

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

}  // namespace kna::stages
