#pragma once
// Running a stage's LaunchSpec: host processes (src/runtime/process_runtime) or containers
// (src/runtime/container_runtime). The supervisor sees only this interface.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna {

// How a workload ended.
struct ExitStatus {
  enum class Cause {
    exited,      // ended by itself (or something outside the agent killed it)
    terminated,  // ended after the agent's stop request (SIGTERM / docker stop) within the budget
    killed,      // the agent had to SIGKILL it when the budget ran out
    lost,        // the runtime lost track of it (daemon gone); state unknown
  };
  Cause cause{Cause::exited};
  bool signaled{false};  // true: `code` is a signal number
  int code{0};           // exit code, or signal number when signaled
  std::string detail;    // anything else worth logging

  std::string describe() const;  // "exit code 1", "signal 9 (SIGKILL)", with the cause
};

// A running instance of a stage. Owned by the supervisor; destroying it does not stop the
// workload (call stop() and wait for on_exit first). Loop thread only.
class Workload {
 public:
  virtual ~Workload() = default;
  // "pid 1234" or "container 3f2a1c9b0d12"; for logs and status.
  virtual std::string id() const = 0;
  virtual std::optional<int> pid() const = 0;
  // Ask it to stop: SIGTERM (or docker stop) now, SIGKILL after `timeout`. Idempotent. The
  // workload's on_exit then fires with cause terminated or killed.
  virtual void stop(Millis timeout) = 0;
};

using LaunchDone = std::function<void(Result<std::unique_ptr<Workload>>)>;
using ExitCallback = std::function<void(const ExitStatus&)>;

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Starts spec.launch. `done` runs on the loop exactly once, with the workload or an error saying
  // what failed. After a successful launch `on_exit` runs on the loop exactly once, when the
  // workload ends for any reason. Neither runs synchronously inside launch().
  virtual void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) = 0;
};

}  // namespace kna
