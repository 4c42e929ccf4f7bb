// Starting stages, their launch results and exits, and the restart delay after a failure.

#include <exception>
#include <utility>

#include "core/exit_status.hpp"
#include "core/format.hpp"
#include "core/supervisor_impl.hpp"

namespace kna {

namespace {

bool is_up(StageState s) {
  return s == StageState::running || s == StageState::ready || s == StageState::unready;
}

}  // namespace

bool Supervisor::Impl::can_start(std::size_t i) const {
  const auto& s = stages_[i];
  if (s.state != StageState::waiting && s.state != StageState::stopped) return false;
  if (s.stop_requested || s.workload) return false;
  // An adopted workload is running already: its dependencies' probes need not pass first.
  const bool adopting = s.adopt && !s.started_once;
  for (const auto& e : graph_.deps(i)) {
    if (adopting) break;
    // Dependencies that do not restart with this stage only gate its first start.
    if (s.started_once && !e.restart_with) continue;
    const auto& d = stages_[e.stage];
    if (d.state != StageState::ready || d.stop_requested) return false;
  }
  // A relaunch waits until what restarts with this stage is down, so dependents never see two
  // incarnations of their dependency.
  for (const auto& e : graph_.dependents(i)) {
    if (!e.restart_with) continue;
    const auto& d = stages_[e.stage];
    if (d.workload || is_up(d.state) || d.state == StageState::starting ||
        d.state == StageState::stopping)
      return false;
  }
  return true;
}

void Supervisor::Impl::launch(std::size_t i) {
  auto& s = stages_[i];
  const bool adopting = s.adopt && !s.started_once;
  s.adopt = false;
  std::string because = std::move(s.start_reason);
  s.start_reason.clear();
  if (adopting) {
    because = "adopting what an earlier agent left running";
  } else if (because.empty()) {
    std::string names;
    for (const auto& e : graph_.deps(i))
      if (!s.started_once || e.restart_with)
        names += (names.empty() ? "'" : ", '") + name(e.stage) + "'";
    because = names.empty() ? "nothing to wait for" : "dependencies ready: " + names;
  }
  if (!transition(i, StageEvent::deps_ready, because)) return;
  s.epoch = ++last_epoch_;
  s.first_ready.reset();
  s.probe_failures = 0;
  s.last_probe_detail.clear();
  s.last_probe_outside = false;
  s.outside_backoff.reset();
  s.then_fresh_until.reset();
  // A stage that starts again may need what its dependencies' steps do once more (flannel, say,
  // its network config in etcd): each runs again at its stage's next check.
  if (s.started_once)
    for (const auto& e : graph_.deps(i)) stages_[e.stage].then_fresh_until.reset();
  s.started_once = true;
  if (s.launches == 0) s.adopted_first = adopting;
  ++s.launches;

  std::optional<Error> error;
  try {
    Result<StageSpec> spec = resolve_ ? resolve_(s.spec.name) : Result<StageSpec>(s.spec);
    if (spec) {
      s.current = std::move(spec).value();
    } else {
      error = Error{"cannot build its specification: " + spec.error().message};
    }
  } catch (const std::exception& e) {
    error = Error{std::string("cannot build its specification: ") + e.what()};
  }
  if (error) {
    fail(i, StageEvent::launch_failed, error->message);
    return;
  }

  const std::uint64_t epoch = s.epoch;
  try {
    auto done = guarded([this, i, epoch](Result<std::unique_ptr<Workload>> result) {
      act([&] { on_launched(i, epoch, std::move(result)); });
    });
    auto exited = guarded(
        [this, i, epoch](const ExitStatus& status) { act([&] { on_exit(i, epoch, status); }); });
    if (adopting) {
      runtime_.adopt(s.current, std::move(done), std::move(exited));
    } else {
      runtime_.launch(s.current, std::move(done), std::move(exited));
    }
  } catch (const std::exception& e) {
    fail(i, StageEvent::launch_failed, std::string("launch failed: ") + e.what());
  }
}

void Supervisor::Impl::on_launched(std::size_t i, std::uint64_t epoch,
                                   Result<std::unique_ptr<Workload>> result) {
  auto& s = stages_[i];
  if (epoch != s.epoch) {
    spdlog::warn("{}: ignored a launch result from an earlier run", s.spec.name);
    if (result) set_aside(std::move(result).value(), s.current.stop_timeout);
    return;
  }
  if (!result) {
    const std::string cause = "launch failed: " + result.error().message;
    if (s.state == StageState::starting) {
      fail(i, StageEvent::launch_failed, cause);
    } else {
      if (s.state == StageState::stopping) s.last_error = cause;
      transition(i, StageEvent::launch_failed, cause);
    }
    return;
  }
  std::unique_ptr<Workload> workload = std::move(result).value();
  const std::string id = workload ? workload->id() : std::string();
  if (!workload || (s.state != StageState::starting && s.state != StageState::stopping)) {
    // Illegal here (transition() says so); the workload must still be ended.
    transition(i, StageEvent::launched, fmt::format("launched '{}'", id));
    if (workload) set_aside(std::move(workload), s.current.stop_timeout);
    return;
  }
  s.workload = std::move(workload);
  s.stop_sent = false;
  if (s.state == StageState::stopping) {
    spdlog::info("{}: launched '{}' after stop was requested; stopping it", s.spec.name, id);
    transition(i, StageEvent::launched, fmt::format("launched '{}'", id));
    send_stop(i);
    return;
  }
  transition(i, StageEvent::launched, fmt::format("launched '{}'", id));
  enter_running(i);
}

void Supervisor::Impl::on_exit(std::size_t i, std::uint64_t epoch, const ExitStatus& status) {
  auto& s = stages_[i];
  if (epoch != s.epoch) {
    spdlog::debug("{}: ignored the exit of a workload from an earlier run", s.spec.name);
    return;
  }
  const std::string id = s.workload ? s.workload->id() : std::string("its workload");
  if (!s.workload) {
    // No workload to end (e.g. an exit reported before the launch): transition() refuses it.
    transition(i, StageEvent::exited, fmt::format("'{}' ended: {}", id, status.describe()));
    return;
  }
  s.last_exit = status;
  const std::string how = core::describe_exit(status, s.current.stop_timeout);
  if (is_up(s.state)) {
    s.workload.reset();
    fail(i, StageEvent::exited, fmt::format("'{}' exited: {}", id, how));
  } else if (s.state == StageState::stopping) {
    s.workload.reset();
    const auto level =
        status.cause == ExitStatus::Cause::killed ? spdlog::level::warn : spdlog::level::info;
    transition(i, StageEvent::stopped, fmt::format("'{}' ended: {}", id, how), level);
  } else {
    // The workload of a run that missed its deadline, stopped while the stage waits to restart.
    spdlog::info("{}: '{}' ended: {}", s.spec.name, id, how);
    s.workload.reset();
    dirty_ = true;
  }
}

void Supervisor::Impl::fail(std::size_t i, StageEvent event, const std::string& cause) {
  auto& s = stages_[i];
  const bool was_up = is_up(s.state);
  if (!next_state(s.state, event)) {
    transition(i, event, cause);  // logs the illegal event
    return;
  }
  if (s.first_ready) s.backoff.note_ready_for(dispatcher_.now() - *s.first_ready);
  const Millis delay = s.backoff.next_delay();
  s.last_error = cause;
  const auto level = s.backoff.at_cap() ? spdlog::level::err : spdlog::level::warn;
  transition(i, event,
             fmt::format("{}; failure {} in a row, next attempt in {}", cause, s.backoff.failures(),
                         core::format_elapsed(delay)),
             level);
  s.next_retry = dispatcher_.now() + delay;
  const std::uint64_t epoch = s.epoch;
  s.backoff_timer = dispatcher_.call_after(
      delay, guarded([this, i, epoch] { act([&] { on_backoff_timer(i, epoch); }); }));
  if (was_up) stop_dependents(i, fmt::format("dependency '{}' went down: {}", s.spec.name, cause));
}

void Supervisor::Impl::on_backoff_timer(std::size_t i, std::uint64_t epoch) {
  auto& s = stages_[i];
  if (s.state != StageState::backoff || epoch != s.epoch) return;
  s.backoff_timer = 0;
  const Duration waited = dispatcher_.now() - s.since;
  transition(i, StageEvent::backoff_expired,
             fmt::format("the restart delay of {} is over", core::format_elapsed(waited)));
}

void Supervisor::Impl::set_aside(std::unique_ptr<Workload> workload, Millis stop_timeout) {
  spdlog::warn("supervisor: stopping unexpected workload '{}'", workload->id());
  workload->stop(stop_timeout);
  set_aside_.push_back(std::move(workload));
}

}  // namespace kna
