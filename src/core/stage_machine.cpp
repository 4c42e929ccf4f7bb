// The lifecycle of one stage as a pure table. The supervisor (supervisor*.cpp) is the only
// caller; it performs and logs every change in its one transition function.
//
//   event \ from     waiting  starting running  ready    unready  backoff  stopping stopped
//   deps_ready       starting -        -        -        -        -        -        starting
//   launched         -        running  -        -        -        -        stopping -
//   launch_failed    -        backoff  -        -        -        -        stopped  -
//   probe_ok         -        -        ready    ready    ready    -        -        -
//   probe_failed     -        -        running  unready  unready  -        -        -
//   deadline         -        -        backoff  -        backoff  -        -        -
//   exited           -        -        backoff  backoff  backoff  -        -        -
//   backoff_expired  -        -        -        -        -        waiting  -        -
//   stop             stopped  stopping stopping stopping stopping stopped  stopping stopped
//   stopped          -        -        -        -        -        -        stopped  -
//
//   "-" is illegal: logged at warn and ignored. A state mapped to itself is legal but no change.
//
// Why some cells are what they are:
// - backoff_expired leads to waiting, not starting: the stage starts from there once its
//   dependencies are ready, which may be at once (then deps_ready follows in the same turn).
// - stopped × deps_ready: a stage stopped because a dependency went away (or by restart()) starts
//   again from stopped when its dependencies are ready again. After shutdown nothing sends it.
// - stopping × launched: a launch that completes after stop was requested; the supervisor stops
//   the new workload and waits for its exit. stopping × launch_failed: nothing left to stop.
// - ready × probe_failed: the supervisor sends it only when failure_threshold failures in a row
//   are reached; in running and unready every failure is an event and changes nothing.
// - no deadline in ready: the deadline guards getting ready (running) and staying unready.
// - exited in stopping is reported as stopped: any end of the workload completes a stop.

#include "kna/supervisor.hpp"

namespace kna {

const char* to_string(StageState s) {
  switch (s) {
    case StageState::waiting:
      return "waiting";
    case StageState::starting:
      return "starting";
    case StageState::running:
      return "running";
    case StageState::ready:
      return "ready";
    case StageState::unready:
      return "unready";
    case StageState::backoff:
      return "backoff";
    case StageState::stopping:
      return "stopping";
    case StageState::stopped:
      return "stopped";
  }
  return "unknown";
}

const char* to_string(StageEvent e) {
  switch (e) {
    case StageEvent::deps_ready:
      return "deps_ready";
    case StageEvent::launched:
      return "launched";
    case StageEvent::launch_failed:
      return "launch_failed";
    case StageEvent::probe_ok:
      return "probe_ok";
    case StageEvent::probe_failed:
      return "probe_failed";
    case StageEvent::deadline:
      return "deadline";
    case StageEvent::exited:
      return "exited";
    case StageEvent::backoff_expired:
      return "backoff_expired";
    case StageEvent::stop:
      return "stop";
    case StageEvent::stopped:
      return "stopped";
  }
  return "unknown";
}

std::optional<StageState> next_state(StageState from, StageEvent event) {
  using S = StageState;
  using E = StageEvent;
  switch (from) {
    case S::waiting:
      if (event == E::deps_ready) return S::starting;
      if (event == E::stop) return S::stopped;
      return std::nullopt;
    case S::starting:
      if (event == E::launched) return S::running;
      if (event == E::launch_failed) return S::backoff;
      if (event == E::stop) return S::stopping;
      return std::nullopt;
    case S::running:
      if (event == E::probe_ok) return S::ready;
      if (event == E::probe_failed) return S::running;
      if (event == E::deadline || event == E::exited) return S::backoff;
      if (event == E::stop) return S::stopping;
      return std::nullopt;
    case S::ready:
      if (event == E::probe_ok) return S::ready;
      if (event == E::probe_failed) return S::unready;
      if (event == E::exited) return S::backoff;
      if (event == E::stop) return S::stopping;
      return std::nullopt;
    case S::unready:
      if (event == E::probe_ok) return S::ready;
      if (event == E::probe_failed) return S::unready;
      if (event == E::deadline || event == E::exited) return S::backoff;
      if (event == E::stop) return S::stopping;
      return std::nullopt;
    case S::backoff:
      if (event == E::backoff_expired) return S::waiting;
      if (event == E::stop) return S::stopped;
      return std::nullopt;
    case S::stopping:
      if (event == E::launched || event == E::stop) return S::stopping;
      if (event == E::launch_failed || event == E::stopped) return S::stopped;
      return std::nullopt;
    case S::stopped:
      if (event == E::deps_ready) return S::starting;
      if (event == E::stop) return S::stopped;
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace kna
