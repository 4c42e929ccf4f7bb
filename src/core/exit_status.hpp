#pragma once
// Wording of how a workload ended, shared by ExitStatus::describe() and the supervisor's logs
// (which also know the stop budget).

#include <optional>
#include <string>

#include "kna/runtime.hpp"

namespace kna::core {

// "SIGKILL" for 9; "SIG42" for numbers without a name.
std::string signal_name(int signo);

// ExitStatus::describe(), plus the stop budget when the caller knows it:
// "killed by signal 9 (SIGKILL) after SIGKILL at the end of the 10s stop budget".
std::string describe_exit(const ExitStatus& status, std::optional<Millis> stop_budget);

}  // namespace kna::core
