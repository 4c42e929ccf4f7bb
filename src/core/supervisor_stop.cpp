// Stopping: shutdown, restart() and dependents of a stage that went down, always dependents
// before what they depend on, each stage waiting for its workload's exit.

#include <utility>

#include "core/format.hpp"
#include "core/supervisor_impl.hpp"

namespace kna {

void Supervisor::Impl::request_stop(std::size_t i, const std::string& reason) {
  auto& s = stages_[i];
  if (s.stop_requested) return;
  s.stop_requested = true;
  s.stop_reason = reason;
  dirty_ = true;
}

void Supervisor::Impl::stop_dependents(std::size_t i, const std::string& why) {
  for (const std::size_t d : graph_.restart_closure(i))
    if (d != i) request_stop(d, why);
}

bool Supervisor::Impl::dependents_at_rest(std::size_t i) const {
  for (const auto& e : graph_.dependents(i)) {
    const auto& d = stages_[e.stage];
    if (d.stop_requested && (d.state != StageState::stopped || d.workload)) return false;
  }
  return true;
}

void Supervisor::Impl::advance_stop(std::size_t i) {
  auto& s = stages_[i];
  if (!dependents_at_rest(i)) return;
  switch (s.state) {
    case StageState::waiting:
      if (s.workload) return;  // ends on its own (it was stopped at its deadline)
      if (shutting_down_) {
        transition(i, StageEvent::stop, s.stop_reason);
      } else {
        s.stop_requested = false;  // nothing runs; it starts when its dependencies are ready
        dirty_ = true;
      }
      return;
    case StageState::backoff:
      dispatcher_.cancel(s.backoff_timer);
      s.backoff_timer = 0;
      s.next_retry.reset();
      if (s.workload) return;
      transition(i, StageEvent::stop, s.stop_reason);
      return;
    case StageState::starting:
      // The launch result is still to come; on_launched() stops what it brings. A pull or load
      // in flight is abandoned rather than waited for.
      transition(i, StageEvent::stop, s.stop_reason);
      runtime_.cancel(s.spec.name);
      return;
    case StageState::running:
    case StageState::ready:
    case StageState::unready:
      transition(i, StageEvent::stop, s.stop_reason);
      send_stop(i);
      return;
    case StageState::stopping:
      return;
    case StageState::stopped:
      if (!shutting_down_) {
        s.stop_requested = false;
        dirty_ = true;
      }
      return;
  }
}

void Supervisor::Impl::send_stop(std::size_t i) {
  auto& s = stages_[i];
  if (!s.workload || s.stop_sent) return;
  s.stop_sent = true;
  spdlog::info("{}: stopping '{}' (SIGKILL after {})", s.spec.name, s.workload->id(),
               core::format_elapsed(s.current.stop_timeout));
  s.workload->stop(s.current.stop_timeout);
}

void Supervisor::Impl::finish_shutdown() {
  if (!shutting_down_) return;
  if (!all_stopped_) {
    for (const auto& s : stages_)
      if (s.state != StageState::stopped || s.workload) return;
    all_stopped_ = true;
    spdlog::info("supervisor: every stage stopped");
  }
  // Posted, so that `done` never runs inside stop() or in the middle of a transition.
  for (auto& done : done_) dispatcher_.post(std::move(done));
  done_.clear();
}

}  // namespace kna
