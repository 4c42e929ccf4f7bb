#include "core/exit_status.hpp"

#include <csignal>

#include <fmt/format.h>

#include "core/format.hpp"

namespace kna {

std::string ExitStatus::describe() const {
  return core::describe_exit(*this, std::nullopt);
}

namespace core {

std::string signal_name(int signo) {
  switch (signo) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGALRM:
      return "SIGALRM";
    case SIGTERM:
      return "SIGTERM";
    case SIGCHLD:
      return "SIGCHLD";
    case SIGCONT:
      return "SIGCONT";
    case SIGSTOP:
      return "SIGSTOP";
    case SIGTSTP:
      return "SIGTSTP";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    case SIGSYS:
      return "SIGSYS";
    default:
      return fmt::format("SIG{}", signo);
  }
}

std::string describe_exit(const ExitStatus& status, std::optional<Millis> stop_budget) {
  std::string text;
  if (status.cause == ExitStatus::Cause::lost) {
    text = "lost track of it; its state is unknown";
  } else if (status.signaled) {
    text = fmt::format("killed by signal {} ({})", status.code, signal_name(status.code));
  } else if (status.code < 0) {
    text = "ended, exit status unknown";
  } else {
    text = fmt::format("exit code {}", status.code);
  }
  switch (status.cause) {
    case ExitStatus::Cause::exited:
    case ExitStatus::Cause::lost:
      break;
    case ExitStatus::Cause::terminated:
      text += " after SIGTERM";
      break;
    case ExitStatus::Cause::killed:
      text += stop_budget ? fmt::format(" after SIGKILL at the end of the {} stop budget",
                                        format_elapsed(*stop_budget))
                          : std::string(" after SIGKILL at the end of the stop budget");
      break;
  }
  if (!status.detail.empty()) text += ": " + status.detail;
  return text;
}

}  // namespace core
}  // namespace kna
