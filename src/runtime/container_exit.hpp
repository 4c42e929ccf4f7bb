#pragma once
// How a container's end reads as an ExitStatus. Docker reports a process killed by signal N as
// exit code 128+N; whether the agent had asked it to stop decides exited / terminated / killed.

#include <string>

#include "kna/runtime.hpp"

namespace kna {

// `exit_code` as docker reports it (die event, State.ExitCode).
ExitStatus container_exit_status(int exit_code, bool stop_requested, bool oom_killed);

// The container is gone or the daemon cannot tell: terminated when we had asked it to stop,
// lost otherwise.
ExitStatus container_gone_status(bool stop_requested, std::string detail);

// The first 12 hex digits, as docker shows ids.
std::string short_container_id(const std::string& id);

}  // namespace kna
