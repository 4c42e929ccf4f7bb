#pragma once
// Re-executing the agent in place, for an upgrade without disturbance: the process keeps its pid
// (systemd's MAINPID, the parent of its children), the new binary recovers what runs. The
// executable and arguments are captured at start, before the binary can be replaced on disk.

#include <string>
#include <vector>

#include "kna/error.hpp"

namespace kna {

struct SelfExec {
  std::string executable;         // the path the agent was started from (not /proc/self/exe
                                  // later: after an upgrade that names the deleted old file)
  std::vector<std::string> argv;  // as given
};

// Reads /proc/self/exe and /proc/self/cmdline.
Result<SelfExec> capture_self();
// execv()s `self`; returns only when that failed, with the reason.
Error exec_self(const SelfExec& self);

}  // namespace kna
