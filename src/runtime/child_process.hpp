#pragma once
// One host process on the event loop: exec'd from argv (never a shell) in its own process group,
// stdout and stderr read line by line from a pipe or written to a file, its exit noticed through
// its pidfd (no polling). Shared by the process runtime and the command probe. Loop thread only.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

// argv[0] as a full path: as given when it contains a '/', else the first match in PATH. The error
// says which program was missing or why it cannot be executed.
Result<std::string> resolve_executable(const std::string& program);

// The agent's own environment with `extra` added, replacing variables of the same name, as
// "NAME=value" strings. Left out unless `extra` sets them: systemd's notify and socket variables,
// the agent's own settings (KNA_*) and variables whose name looks secret (core/redact.hpp).
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra);

struct ChildExit {
  bool signaled{false};  // true: `code` is the signal number
  int code{0};
  std::string error;  // set when the exit status could not be collected (someone else reaped it)
};

struct ChildOptions {
  std::string executable;         // full path (resolve_executable)
  std::vector<std::string> args;  // after argv[0]
  std::vector<std::string> env;   // the whole environment
  Millis drain_grace{200};        // after exit, how long to wait for the rest of the output
  // Empty: stdout and stderr go to a pipe that the agent reads. Set: they are appended to this
  // file (created 0640 with its folders) and the agent reads nothing; a LogFollower reads it.
  // A workload that must outlive the agent needs the file: a pipe with no reader left kills its
  // next write with SIGPIPE.
  std::string output_file;
};

class ChildProcess {
  struct State;

 public:
  using LineFn = std::function<void(std::string_view line)>;
  using ExitFn = std::function<void(const ChildExit&)>;

  // Forks and execs. `on_line` runs for every line the child writes to stdout or stderr (one pipe,
  // so their order is kept); `on_exit` runs once, after the child was reaped and its output read
  // to the end (or `drain_grace` passed: a grandchild may hold the pipe open). With
  // `output_file`, `on_line` never runs and `on_exit` runs as soon as the child is reaped. Both
  // run on the loop, never inside spawn().
  static Result<ChildProcess> spawn(boost::asio::io_context& io, Dispatcher& dispatcher,
                                    ChildOptions options, LineFn on_line, ExitFn on_exit);

  // A reference that does not keep the child's state alive: whoever the exit callback keeps alive
  // must hold the child this way, or the two keep each other forever if the loop dies first.
  class Weak {
   public:
    std::optional<ChildProcess> lock() const;

   private:
    friend class ChildProcess;
    std::weak_ptr<State> state_;
  };
  Weak weak() const;

  int pid() const;
  // False once the exit has been collected.
  bool running() const;
  // Sends `sig` to the child, or with group=true to its whole process group. False when the child
  // is already gone.
  bool signal(int sig, bool group = false) const;

 private:
  explicit ChildProcess(std::shared_ptr<State> state) : state_(std::move(state)) {}
  // Shared with the pending I/O handlers; a running child is never killed by destruction.
  std::shared_ptr<State> state_;
};

// "signal 9 (SIGKILL)" or "exit code 1", for logs and probe details.
std::string describe_exit(const ChildExit& exit);

}  // namespace kna
