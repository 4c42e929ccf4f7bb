#pragma once
// The supervisor's private parts, shared by the supervisor_*.cpp files: one record per stage and
// the Impl that drives them. Everything runs on the dispatcher's loop.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/backoff.hpp"
#include "core/stage_graph.hpp"
#include "kna/supervisor.hpp"

namespace kna {

namespace core {

struct StageRecord {
  StageRecord(StageSpec given, RandomSource random, TimePoint now)
      : spec(std::move(given)),
        current(spec),
        since(now),
        backoff(spec.backoff, random),
        outside_backoff(kOutsideRetry, std::move(random)) {}

  // Checks that fail for a cause outside the workload (a fleet's shared API server is down) are
  // retried no sooner than this backoff says: exponential, capped, and jittered by half, so that
  // the agents of a fleet that lost the API server at the same moment do not come back in step.
  static constexpr BackoffPolicy kOutsideRetry{Millis{1'000}, 2.0, Millis{30'000}, 0.5, Millis{0}};

  StageSpec spec;     // as given to the constructor: name, deps, defaults
  StageSpec current;  // as resolved for the latest launch: probe and stop budget come from here
  StageState state{StageState::waiting};
  TimePoint since;
  std::optional<TimePoint> ready_since;
  // First time this incarnation became ready; flapping probes do not undo that it came up.
  std::optional<TimePoint> first_ready;
  int launches{0};
  bool started_once{false};
  // Recovery: adopt the earlier agent's workload at the first start; restarts before this agent;
  // whether the first launch was an adoption (then it is not a restart).
  bool adopt{false};
  bool adopted_first{false};
  bool has_history{false};
  int restored_restarts{0};
  // Identifies the current incarnation; callbacks from an earlier one carry an older number.
  std::uint64_t epoch{0};

  // Outlives its state: after a deadline the stage is in backoff while this is still ending.
  std::unique_ptr<Workload> workload;
  bool stop_sent{false};
  std::optional<ExitStatus> last_exit;
  std::string last_error;

  Backoff backoff;
  std::optional<TimePoint> next_retry;
  Dispatcher::TimerId backoff_timer{0};
  Dispatcher::TimerId deadline_timer{0};
  Dispatcher::TimerId probe_timer{0};

  bool probe_in_flight{false};
  bool probe_wanted{false};  // a probe is due but an earlier one has not answered yet
  int probe_failures{0};     // in a row, while ready or unready
  std::string last_probe_detail;
  bool last_probe_outside{false};  // the last failure lay outside the workload (ProbeResult)
  Backoff outside_backoff;         // kOutsideRetry; reset by a passing check or another failure
  // The probe's step (ProbeSpec::then) passed in this run: until then a passing check alone keeps
  // the stage ready (ProbeSpec::then_every). Cleared by a launch of this stage or of one that
  // depends on it, and by a failed check.
  std::optional<TimePoint> then_fresh_until;
  bool probe_has_then{false};  // the check in flight runs the step

  // Set for shutdown, restart() and when a dependency goes down; cleared (except at shutdown)
  // once the stage is at rest.
  bool stop_requested{false};
  std::string stop_reason;
  std::string start_reason;  // said once at the next start instead of "dependencies ready"
};

}  // namespace core

class Supervisor::Impl {
 public:
  Impl(Dispatcher& dispatcher, Runtime& runtime, Prober& prober, std::vector<StageSpec> stages,
       SpecResolver resolve, RandomSource random);
  ~Impl();

  void restore(const std::vector<StageHistory>& history);
  void start(const std::vector<std::string>& adopt);
  void stop(std::function<void()> done);
  void restart(const std::string& stage, const std::string& reason);
  Status reconfigure(std::vector<StageSpec> stages, const std::vector<std::string>& changed,
                     const std::string& reason);
  std::vector<StageStatus> status() const;
  bool all_ready() const;
  bool stopping() const { return shutting_down_; }
  void add_observer(std::function<void(const Transition&)> observer);
  void add_change_observer(std::function<void()> observer);

 private:
  using Level = spdlog::level::level_enum;

  // Every entry point (public call, timer, runtime or prober callback) runs through act(): the
  // work, then pump() until nothing more follows, then the observers.
  template <typename F>
  void act(F&& work) {
    work();
    pump();
    notify_observers();
  }
  // Wraps a callback so that it does nothing once the supervisor is gone.
  template <typename F>
  auto guarded(F fn) {
    return [life = std::weak_ptr<char>(life_), fn = std::move(fn)](auto&&... args) mutable {
      if (life.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  // The one place that changes a stage's state and logs it. False (and a warning) when `event`
  // is illegal in the current state.
  bool transition(std::size_t i, StageEvent event, const std::string& because,
                  Level level = spdlog::level::info);
  void pump();
  void notify_observers();
  void cancel_timers(core::StageRecord& s);
  const std::string& name(std::size_t i) const { return stages_[i].spec.name; }

  // supervisor_launch.cpp
  bool can_start(std::size_t i) const;
  void launch(std::size_t i);
  void on_launched(std::size_t i, std::uint64_t epoch, Result<std::unique_ptr<Workload>> result);
  void on_exit(std::size_t i, std::uint64_t epoch, const ExitStatus& status);
  void fail(std::size_t i, StageEvent event, const std::string& cause);
  void on_backoff_timer(std::size_t i, std::uint64_t epoch);
  void set_aside(std::unique_ptr<Workload> workload, Millis stop_timeout);

  // supervisor_probe.cpp
  void enter_running(std::size_t i);
  void enter_ready(std::size_t i);
  void schedule_probe(std::size_t i, Duration delay);
  void issue_probe(std::size_t i);
  void on_probe_result(std::size_t i, std::uint64_t epoch, const ProbeResult& result);
  // The probe's step passed: how long the check alone will do (ProbeSpec::then_every).
  void note_step_passed(std::size_t i);
  // The delay before the next check after `result` failed: `usual`, or longer while the cause
  // lies outside the workload (kOutsideRetry).
  Duration retry_delay(std::size_t i, Duration usual, const ProbeResult& result);
  // The delay to the next check of a ready stage that passed: to the next beat of its period,
  // at least half a period away.
  Duration on_beat(Duration period) const;
  void on_deadline(std::size_t i, std::uint64_t epoch);

  // supervisor_stop.cpp
  void request_stop(std::size_t i, const std::string& reason);
  void stop_dependents(std::size_t i, const std::string& why);
  bool dependents_at_rest(std::size_t i) const;
  void advance_stop(std::size_t i);
  void send_stop(std::size_t i);
  void finish_shutdown();

  Dispatcher& dispatcher_;
  Runtime& runtime_;
  Prober& prober_;
  SpecResolver resolve_;
  RandomSource random_;           // for the backoff of a stage whose policy a reconfigure changed
  std::vector<StageSpec> specs_;  // in start order; only until stages_ is built
  core::StageGraph graph_;
  std::vector<core::StageRecord> stages_;
  // The checks of ready stages fall on multiples of their period from here, so that a node's
  // stages are checked at the same moments and the idle agent wakes once for all of them.
  TimePoint beat_origin_;

  bool started_{false};
  bool shutting_down_{false};
  bool all_stopped_{false};  // after shutdown: nothing runs and nothing will
  std::vector<std::function<void()>> done_;
  std::uint64_t last_epoch_{0};
  // Workloads that arrived when nobody wanted them (a misbehaving runtime); asked to stop and
  // kept, since destroying a Workload does not end it.
  std::vector<std::unique_ptr<Workload>> set_aside_;

  std::vector<std::function<void(const Transition&)>> observers_;
  std::vector<std::function<void()>> change_observers_;
  std::vector<std::string> published_errors_;  // last_error of each stage as observers saw it
  std::deque<Transition> unnotified_;
  bool pumping_{false};
  bool dirty_{false};
  bool notifying_{false};
  std::shared_ptr<char> life_ = std::make_shared<char>();
};

}  // namespace kna
