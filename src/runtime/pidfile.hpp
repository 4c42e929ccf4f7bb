#pragma once
// Pid files left behind by an earlier run, and the ownership proof that decides what to do with
// them: only a live process whose environment carries our stage marker is ours to stop.

#include <functional>
#include <optional>
#include <string>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

struct PidfileCheck {
  enum class Kind {
    absent,   // no pid file: nothing to do
    stale,    // names no live process (or no pid at all): remove it
    ours,     // a live process started by an agent for this stage: stop it before starting anew
    foreign,  // a live process we cannot prove is ours: never touch it
    error,    // the file could not be read
  };
  Kind kind{Kind::absent};
  int pid{0};
  std::string detail;  // why, for logs and errors
};

// A live process named by a pid file that nobody can prove is ours is `foreign` and left alone,
// unless it started after the file was last written (two seconds of slack): then the pid was
// reused — the file is from another boot or another PID namespace (a container restarted over
// the same folders) — and the file is `stale`; the process is never touched.
PidfileCheck inspect_pidfile(const std::string& path, const std::string& stage);

// Why the process `pid` cannot be the one that wrote `path` (it started after the file's last
// write), or nullopt.
std::optional<std::string> pid_reused_since(const std::string& path, int pid);

// A pidfd for `pid` (close-on-exec), or -1 with errno set.
int open_pidfd(int pid);
// Signals the process a pidfd pins; false with errno set when it failed.
bool signal_pidfd(int pidfd, int sig);

// True when `pid` exists and has not exited (a zombie counts as exited).
bool process_alive(int pid);
// True when /proc/<pid>/environ holds KUBE_NODE_AGENT_STAGE=<stage>.
bool has_stage_marker(int pid, const std::string& stage);

// Stops an orphan of an earlier agent run: proves the marker again, SIGTERM, and SIGKILL when it
// is still alive after `budget`. Its exit is noticed through a pidfd (it is not our child).
// `done` runs on the loop once: ok, or an error saying why the process could not be stopped.
void stop_orphan(boost::asio::io_context& io, Dispatcher& dispatcher, int pid,
                 const std::string& stage, Millis budget, std::function<void(Result<bool>)> done);

}  // namespace kna
