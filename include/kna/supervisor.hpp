#pragma once
// The supervisor owns the stage graph: it starts a stage when its dependencies are ready, gates it
// on a readiness probe with a deadline, restarts it with backoff when it dies, restarts what
// depends on it, and stops everything in reverse order. Loop thread only; no I/O of its own.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kna/error.hpp"
#include "kna/probe.hpp"
#include "kna/runtime.hpp"
#include "kna/spec.hpp"
#include "kna/time.hpp"

namespace kna {

// The lifecycle of one stage. See src/core/stage_machine.cpp for the transition table.
enum class StageState {
  waiting,   // not started: a dependency is not ready yet
  starting,  // launch requested from the runtime, not yet confirmed
  running,   // launched; readiness probe not yet passed
  ready,     // launched and the readiness probe passed
  unready,   // was ready; the probe has failed failure_threshold times in a row
  backoff,   // died or failed to start or get ready; a restart is scheduled
  stopping,  // stop requested; waiting for the workload to end
  stopped,   // stopped by request (shutdown, or a dependency went away)
};
const char* to_string(StageState s);

enum class StageEvent {
  deps_ready,       // every dependency is ready
  launched,         // the runtime started the workload
  launch_failed,    // the runtime (or resolving the spec) failed
  probe_ok,         // a readiness probe passed
  probe_failed,     // a readiness probe failed (below or at the threshold)
  deadline,         // not ready within the readiness deadline
  exited,           // the workload ended without being asked to
  backoff_expired,  // the restart delay is over
  stop,             // stop requested (shutdown, a dependency restarted, restart())
  stopped,          // the workload ended after a stop request
};
const char* to_string(StageEvent e);

// The state that `event` leads to from `from`, or nullopt when the event is illegal there (the
// supervisor logs and ignores it). Pure; tested as a table.
std::optional<StageState> next_state(StageState from, StageEvent event);

struct Transition {
  std::string stage;
  StageState from;
  StageState to;
  StageEvent event;
  Duration after;       // time spent in `from`
  std::string because;  // human-readable cause
  TimePoint at;
};

// A snapshot of one stage for status reports.
struct StageStatus {
  std::string name;
  StageState state{StageState::waiting};
  TimePoint since;  // entered `state`
  std::optional<TimePoint> ready_since;
  int restarts{0};       // launches after the first
  std::string workload;  // "pid 1234", "container …", or empty
  std::optional<int> pid;
  std::optional<ExitStatus> last_exit;
  std::string last_error;
  // Running or unready: why the latest readiness probe failed (empty once it passed).
  std::string probe_detail;
  std::optional<TimePoint> next_retry;  // in backoff: when the next launch happens
  std::vector<std::string> deps;
};

// What an earlier agent of this boot left in its checkpoint about one stage (app/checkpoint).
struct StageHistory {
  std::string stage;
  int restarts{0};
  std::optional<ExitStatus> last_exit;
  std::string last_error;
  bool operator==(const StageHistory&) const = default;
};

// Produces the current specification of a stage right before each launch (e.g. main-docker with
// the subnet flannel leased). An error counts as a failed launch.
using SpecResolver = std::function<Result<StageSpec>(const std::string& stage)>;
// Uniform random numbers in [0, 1), for backoff jitter; injected so tests are deterministic.
using RandomSource = std::function<double()>;

class Supervisor {
 public:
  // `stages` lists every stage with its dependencies, in any order; the graph must be acyclic and
  // every dependency must be listed (a broken invariant: throws std::invalid_argument).
  Supervisor(Dispatcher& dispatcher, Runtime& runtime, Prober& prober,
             std::vector<StageSpec> stages, SpecResolver resolve, RandomSource random);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Before start(): carries on the restart counts, last exits and errors of an earlier agent.
  // Unknown stages are ignored.
  void restore(const std::vector<StageHistory>& history);
  // Starts every stage whose dependencies are ready, and the rest as they become ready. Stages in
  // `adopt` (Runtime::recover's adoptable ones) whose restart-with dependencies are adopted too
  // start at once through Runtime::adopt(), without waiting for their dependencies: they are
  // running already, and their probes decide when they are ready. Adopting is not a restart.
  void start(const std::vector<std::string>& adopt = {});
  // Stops every stage, dependents before their dependencies, each within its stop budget; `done`
  // runs once everything has stopped. Idempotent: a second call only adds another `done`.
  void stop(std::function<void()> done);
  // Stops and starts `stage` (and whatever restarts with it) now, without backoff; e.g. when the
  // flannel subnet changed. Ignored while stopping.
  void restart(const std::string& stage, const std::string& reason);

  // A new configuration: `stages` replaces every stage's specification (the same stages with the
  // same dependencies, else an error and nothing changes). The stages named in `changed` restart
  // now, each with what restarts with it (a changed stage restarted by a changed dependency is
  // not restarted twice); the others are left alone, and use their new specification at their
  // next launch. Ignored while stopping (an error).
  Status reconfigure(std::vector<StageSpec> stages, const std::vector<std::string>& changed,
                     const std::string& reason);

  std::vector<StageStatus> status() const;
  bool all_ready() const;
  bool stopping() const;

  // Called after every transition, on the loop.
  void add_observer(std::function<void(const Transition&)> observer);
  // Called on the loop when a stage's last error changed without a transition (a probe failing
  // for another reason, an error cleared).
  void add_change_observer(std::function<void()> observer);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kna
