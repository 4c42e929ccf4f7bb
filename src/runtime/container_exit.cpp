#include "runtime/container_exit.hpp"

#include <csignal>

#include <fmt/format.h>

namespace kna {

ExitStatus container_exit_status(int exit_code, bool stop_requested, bool oom_killed) {
  ExitStatus s;
  // 128+N is how a shell and docker report death by signal N; real signals stop at 64.
  if (exit_code > 128 && exit_code <= 128 + 64) {
    s.signaled = true;
    s.code = exit_code - 128;
    s.detail = fmt::format("docker exit code {}", exit_code);
  } else {
    s.code = exit_code;
  }
  if (!stop_requested) {
    s.cause = ExitStatus::Cause::exited;
  } else if (s.signaled && s.code == SIGKILL) {
    s.cause = ExitStatus::Cause::killed;
  } else {
    s.cause = ExitStatus::Cause::terminated;
  }
  if (oom_killed) s.detail += s.detail.empty() ? "out of memory" : ", out of memory";
  return s;
}

ExitStatus container_gone_status(bool stop_requested, std::string detail) {
  ExitStatus s;
  s.cause = stop_requested ? ExitStatus::Cause::terminated : ExitStatus::Cause::lost;
  s.detail = std::move(detail);
  return s;
}

std::string short_container_id(const std::string& id) {
  return id.substr(0, 12);
}

}  // namespace kna
