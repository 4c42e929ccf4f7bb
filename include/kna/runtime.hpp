#pragma once
// Running a stage's LaunchSpec: host processes (src/runtime/process_runtime) or containers
// (src/runtime/container_runtime). The supervisor sees only this interface.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  int code{0};           // exit code, or signal number when signaled; -1: not known (a process
                         // adopted from an earlier agent is not our child)
  std::string detail;    // anything else worth logging

  std::string describe() const;  // "exit code 1", "signal 9 (SIGKILL)", with the cause
  bool operator==(const ExitStatus&) const = default;
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

// What recover() found.
struct RecoveryReport {
  std::vector<std::string> adoptable;  // stages whose adopt() takes over a live workload as it is
  std::vector<std::string> removed;    // leftovers of stages no longer planned, stopped and removed
  std::vector<std::string> notes;      // one line per thing looked at and left, for the log
};
using RecoverDone = std::function<void(RecoveryReport)>;

// The recovery contract. An agent that was killed, crashed or re-executed itself leaves its
// workloads running: both dockerds, the containers in them, the stages run as processes. Before
// the supervisor starts, the next agent asks every runtime to recover():
//   - a workload that is provably ours (a container with our labels for this node, or a live
//     process whose record, environment marker, start time and boot id all match), of a planned
//     stage, with the spec hash the stage has now, is *adoptable*: adopt() takes it over as it is,
//     with no restart, no new container and no new process;
//   - ours with another spec hash is left for launch(), which replaces it;
//   - ours of a stage that is no longer planned is stopped and removed;
//   - anything not provably ours is never touched;
//   - nothing from another boot is adopted (a process from another boot cannot be alive; a record
//     or pid file from one is stale and removed).
// Tests: tests/unit/runtime/process_runtime_recover_test.cpp, tests/integration/agent/
// agent_restart.sh (kill -9 of the agent, then the same dockerd pids and container ids).
class Runtime {
 public:
  virtual ~Runtime() = default;
  // Starts spec.launch. `done` runs on the loop exactly once, with the workload or an error saying
  // what failed. After a successful launch `on_exit` runs on the loop exactly once, when the
  // workload ends for any reason. Neither runs synchronously inside launch(). Never two at once:
  // the process runtime stops an earlier agent's process of this stage first, whatever its spec;
  // the container runtime replaces a container of another spec and takes over a running one of
  // the same spec (one its daemon restarted by policy is as good as new).
  virtual void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) = 0;

  // Like launch(), but takes over the live workload of an earlier agent when it matches `spec`
  // (see the contract above); otherwise the same as launch(). Callbacks as for launch().
  virtual void adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
    launch(spec, std::move(done), std::move(on_exit));
  }

  // Abandons the launch of `stage` in flight, if any (shutdown or a restart while an image is
  // pulled or loaded, or while the host is prepared): the blocking work is aborted, and the
  // launch's `done` runs soon after with an error saying it was cancelled, or with the workload
  // if it came up first (the caller then stops it). Loop thread; idempotent. The default does
  // nothing: the launch runs to its end.
  virtual void cancel(const std::string& stage) { (void)stage; }

  // Looks at what an earlier agent left for `planned` (every stage, resolved as it would be
  // launched now) and reports it; stops and removes leftovers of stages not planned. `done` runs
  // on the loop exactly once. The default finds nothing and calls `done` at once.
  virtual void recover(const std::vector<StageSpec>& planned, RecoverDone done) {
    (void)planned;
    done(RecoveryReport{});
  }
};

}  // namespace kna
