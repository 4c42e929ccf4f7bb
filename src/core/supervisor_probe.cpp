// Readiness: probing after launch until ready or the deadline, re-probing once ready, and the
// unready deadline. At most one probe per stage is in flight.

#include <algorithm>
#include <cmath>
#include <utility>
#include <variant>

#include "core/format.hpp"
#include "core/supervisor_impl.hpp"

namespace kna {

namespace {

bool is_probing(StageState s) {
  return s == StageState::running || s == StageState::ready || s == StageState::unready;
}

}  // namespace

void Supervisor::Impl::enter_running(std::size_t i) {
  auto& s = stages_[i];
  if (s.current.ready.kind == ProbeKind::none) {
    transition(i, StageEvent::probe_ok, "it has no readiness probe");
    enter_ready(i);
    return;
  }
  const std::uint64_t epoch = s.epoch;
  s.deadline_timer =
      dispatcher_.call_after(s.current.ready.policy.deadline,
                             guarded([this, i, epoch] { act([&] { on_deadline(i, epoch); }); }));
  issue_probe(i);
}

void Supervisor::Impl::enter_ready(std::size_t i) {
  auto& s = stages_[i];
  if (!s.first_ready) s.first_ready = dispatcher_.now();
  s.probe_failures = 0;
  if (s.current.ready.kind != ProbeKind::none)
    schedule_probe(i, on_beat(s.current.ready.policy.period));
}

Duration Supervisor::Impl::on_beat(Duration period) const {
  if (period <= Duration::zero()) return period;
  // A passing check answers a few milliseconds after its beat: the next beat is a period away.
  // A stage that just became ready waits for the beat after next if the next is too close.
  Duration delay = period - (dispatcher_.now() - beat_origin_) % period;
  if (delay < period / 2) delay += period;
  return delay;
}

void Supervisor::Impl::schedule_probe(std::size_t i, Duration delay) {
  auto& s = stages_[i];
  dispatcher_.cancel(s.probe_timer);
  const std::uint64_t epoch = s.epoch;
  s.probe_timer = dispatcher_.call_after(delay, guarded([this, i, epoch] {
                                           act([&] {
                                             auto& st = stages_[i];
                                             if (st.epoch != epoch || !is_probing(st.state)) return;
                                             st.probe_timer = 0;
                                             issue_probe(i);
                                           });
                                         }));
}

void Supervisor::Impl::issue_probe(std::size_t i) {
  auto& s = stages_[i];
  if (s.probe_in_flight) {
    s.probe_wanted = true;  // sent when the earlier probe answers
    return;
  }
  s.probe_in_flight = true;
  s.probe_wanted = false;
  const std::uint64_t epoch = s.epoch;
  auto done = guarded(
      [this, i, epoch](ProbeResult result) { act([&] { on_probe_result(i, epoch, result); }); });
  const ProbeSpec& spec = s.current.ready;
  s.probe_has_then = !std::holds_alternative<std::monostate>(spec.then);
  if (s.probe_has_then && s.state == StageState::ready && s.then_fresh_until &&
      dispatcher_.now() < *s.then_fresh_until) {
    // The step passed a moment ago in this run: the check alone tells the stage is still ready.
    s.probe_has_then = false;
    ProbeSpec check_only = spec;
    check_only.then = std::monostate{};
    prober_.check(check_only, std::move(done));
    return;
  }
  prober_.check(spec, std::move(done));
}

void Supervisor::Impl::note_step_passed(std::size_t i) {
  auto& s = stages_[i];
  const Millis every = s.current.ready.then_every;
  if (every <= Millis{0}) return;
  if (every == kThenOncePerRun) {
    s.then_fresh_until = TimePoint::max();
    return;
  }
  // Up to a fifth more, at random: a fleet's agents started together drift apart.
  const double r = std::clamp(random_ ? random_() : 0.5, 0.0, 1.0);
  s.then_fresh_until = dispatcher_.now() + every +
                       Millis(std::llround(static_cast<double>(every.count()) * 0.2 * r));
}

Duration Supervisor::Impl::retry_delay(std::size_t i, Duration usual, const ProbeResult& result) {
  auto& s = stages_[i];
  if (!result.outside) {
    s.outside_backoff.reset();
    return usual;
  }
  // A stage coming up keeps its pace for one readiness deadline: a master's kubelet sees its own
  // API server the moment that answers. Past that, or once it has been ready, it backs off.
  if (s.state == StageState::running && !s.first_ready &&
      dispatcher_.now() - s.since < s.current.ready.policy.deadline)
    return usual;
  return std::max<Duration>(usual, s.outside_backoff.next_delay());
}

void Supervisor::Impl::on_probe_result(std::size_t i, std::uint64_t epoch,
                                       const ProbeResult& result) {
  auto& s = stages_[i];
  s.probe_in_flight = false;
  if (epoch != s.epoch || !is_probing(s.state)) {
    spdlog::debug("{}: ignored a probe result from an earlier run or state", s.spec.name);
    if (s.probe_wanted && is_probing(s.state)) issue_probe(i);
    return;
  }
  s.probe_wanted = false;
  const ProbePolicy& policy = s.current.ready.policy;
  if (result.ok) {
    s.probe_failures = 0;
    s.outside_backoff.reset();
    if (s.probe_has_then && !result.again) note_step_passed(i);
    // What the stage waited for outside itself is there now: no longer an error to show.
    if (s.last_probe_outside) s.last_error.clear();
    s.last_probe_outside = false;
    if (s.state == StageState::ready) {
      schedule_probe(i, on_beat(policy.period));
      return;
    }
    const char* because = s.state == StageState::running ? "the readiness probe passed"
                                                         : "the readiness probe passed again";
    // Ready is the answer to whatever went wrong before: status shows no stale error.
    s.last_error.clear();
    transition(i, StageEvent::probe_ok, because);
    enter_ready(i);
    return;
  }

  s.last_probe_detail = result.detail;
  s.last_probe_outside = result.outside;
  s.then_fresh_until.reset();
  // A cause outside the workload is what status should show while the stage waits for it.
  if (result.outside) s.last_error = result.detail;
  switch (s.state) {
    case StageState::running:
      transition(i, StageEvent::probe_failed, result.detail);
      schedule_probe(i, retry_delay(i, policy.interval, result));
      return;
    case StageState::ready:
      if (++s.probe_failures < policy.failure_threshold) {
        spdlog::info("{}: readiness probe failed ({} of {}): {}", s.spec.name, s.probe_failures,
                     policy.failure_threshold, result.detail);
        schedule_probe(i, retry_delay(i, policy.period, result));
        return;
      }
      s.last_error = fmt::format("readiness probe failed {} times in a row: {}", s.probe_failures,
                                 result.detail);
      transition(i, StageEvent::probe_failed, s.last_error, spdlog::level::warn);
      s.deadline_timer = dispatcher_.call_after(
          policy.deadline, guarded([this, i, epoch] { act([&] { on_deadline(i, epoch); }); }));
      schedule_probe(i, retry_delay(i, policy.period, result));
      return;
    default:  // unready
      ++s.probe_failures;
      transition(i, StageEvent::probe_failed, result.detail);
      schedule_probe(i, retry_delay(i, policy.period, result));
      return;
  }
}

void Supervisor::Impl::on_deadline(std::size_t i, std::uint64_t epoch) {
  auto& s = stages_[i];
  if (epoch != s.epoch || (s.state != StageState::running && s.state != StageState::unready))
    return;
  s.deadline_timer = 0;
  if (s.last_probe_outside) {
    // Restarting the workload would not bring back what it waits for; keep waiting and probing.
    spdlog::info("{}: still not ready after {}, not restarting it: {}", s.spec.name,
                 core::format_elapsed(s.current.ready.policy.deadline), s.last_probe_detail);
    s.deadline_timer =
        dispatcher_.call_after(s.current.ready.policy.deadline,
                               guarded([this, i, epoch] { act([&] { on_deadline(i, epoch); }); }));
    return;
  }
  const std::string detail =
      s.last_probe_detail.empty() ? "no readiness probe has answered" : s.last_probe_detail;
  const std::string deadline = core::format_elapsed(s.current.ready.policy.deadline);
  const std::string cause = s.state == StageState::running
                                ? fmt::format("not ready within {}: {}", deadline, detail)
                                : fmt::format("unready for longer than {}: {}", deadline, detail);
  fail(i, StageEvent::deadline, cause);
  send_stop(i);  // the stage restarts only once this workload has ended
}

}  // namespace kna
