#pragma once
// What `reset` needs from /proc and from signals: finding the processes a dead agent left by
// their command line, and stopping a process that is not our child (blocking, bounded).

#include <string>
#include <string_view>
#include <vector>

#include "kna/time.hpp"

namespace kna::app {

// The argv of a live process (empty when it is gone or a kernel thread).
std::vector<std::string> cmdline_of(int pid);
// Every pid in /proc, ascending.
std::vector<int> all_pids();
// The processes whose parent is `pid`.
std::vector<int> children_of(int pid);
// The base name of argv[0] ("dockerd", "containerd-shim-runc-v2"), or "pid N" when unknown.
std::string program_of(int pid);

// Pure: does this argv run a dockerd on `socket` / with `exec_root` / with `data_root`? Both the
// "--flag=value" and the "--flag value" forms count; the socket only for a program named
// dockerd (a `docker -H` client names it too).
bool is_dockerd_of(const std::vector<std::string>& argv, std::string_view socket,
                   std::string_view exec_root, std::string_view data_root);
// Pure: does an argument name a path under `root` (containerd's config, a shim's -address)?
bool names_path_under(const std::vector<std::string>& argv, std::string_view root);

enum class Stopped {
  gone,        // not running when we came
  terminated,  // ended after the first signal
  killed,      // ended after SIGKILL
  survived,    // still there after SIGKILL and `kill_wait`
};
const char* to_string(Stopped s);

// `first_signal` (SIGTERM), up to `budget` for the process to end, then SIGKILL and up to
// `kill_wait`. Its end is seen through a pidfd, so the process need not be our child.
Stopped stop_process(int pid, int first_signal, Millis budget, Millis kill_wait);

}  // namespace kna::app
