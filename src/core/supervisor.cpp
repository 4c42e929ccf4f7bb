// The Supervisor facade, and the Impl's bookkeeping: construction, the transition function, the
// pump that settles stops and starts, observers and status.

#include "kna/supervisor.hpp"

#include <algorithm>
#include <utility>

#include "core/format.hpp"
#include "core/supervisor_impl.hpp"

namespace kna {

Supervisor::Supervisor(Dispatcher& dispatcher, Runtime& runtime, Prober& prober,
                       std::vector<StageSpec> stages, SpecResolver resolve, RandomSource random)
    : impl_(std::make_unique<Impl>(dispatcher, runtime, prober, std::move(stages),
                                   std::move(resolve), std::move(random))) {}
Supervisor::~Supervisor() = default;

void Supervisor::restore(const std::vector<StageHistory>& history) {
  impl_->restore(history);
}
void Supervisor::start(const std::vector<std::string>& adopt) {
  impl_->start(adopt);
}
void Supervisor::stop(std::function<void()> done) {
  impl_->stop(std::move(done));
}
void Supervisor::restart(const std::string& stage, const std::string& reason) {
  impl_->restart(stage, reason);
}
Status Supervisor::reconfigure(std::vector<StageSpec> stages,
                               const std::vector<std::string>& changed, const std::string& reason) {
  return impl_->reconfigure(std::move(stages), changed, reason);
}
std::vector<StageStatus> Supervisor::status() const {
  return impl_->status();
}
bool Supervisor::all_ready() const {
  return impl_->all_ready();
}
bool Supervisor::stopping() const {
  return impl_->stopping();
}
void Supervisor::add_observer(std::function<void(const Transition&)> observer) {
  impl_->add_observer(std::move(observer));
}
void Supervisor::add_change_observer(std::function<void()> observer) {
  impl_->add_change_observer(std::move(observer));
}

Supervisor::Impl::Impl(Dispatcher& dispatcher, Runtime& runtime, Prober& prober,
                       std::vector<StageSpec> stages, SpecResolver resolve, RandomSource random)
    : dispatcher_(dispatcher),
      runtime_(runtime),
      prober_(prober),
      resolve_(std::move(resolve)),
      random_(random),
      specs_(std::move(stages)),
      graph_(specs_),
      beat_origin_(dispatcher_.now()) {
  stages_.reserve(specs_.size());
  for (auto& spec : specs_) stages_.emplace_back(std::move(spec), random, dispatcher_.now());
  specs_.clear();
  published_errors_.resize(stages_.size());
}

Supervisor::Impl::~Impl() {
  for (auto& s : stages_) cancel_timers(s);
}

void Supervisor::Impl::restore(const std::vector<StageHistory>& history) {
  act([&] {
    if (started_) {
      spdlog::warn("supervisor: restore ignored: already started");
      return;
    }
    for (const auto& h : history) {
      std::size_t i = 0;
      while (i < stages_.size() && name(i) != h.stage) ++i;
      if (i == stages_.size()) continue;
      auto& s = stages_[i];
      s.has_history = true;
      s.restored_restarts = std::max(0, h.restarts);
      s.last_exit = h.last_exit;
      s.last_error = h.last_error;
    }
  });
}

void Supervisor::Impl::start(const std::vector<std::string>& adopt) {
  act([&] {
    if (shutting_down_) {
      spdlog::warn("supervisor: start ignored: already stopping");
      return;
    }
    if (started_) return;
    started_ = true;
    // Stages are in start order: a dependency's verdict is known before its dependents'.
    int adopting = 0;
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      auto& s = stages_[i];
      s.adopt = std::find(adopt.begin(), adopt.end(), name(i)) != adopt.end();
      if (!s.adopt) continue;
      for (const auto& e : graph_.deps(i)) {
        if (e.restart_with && !stages_[e.stage].adopt) {
          spdlog::info(
              "{}: not adopting what an earlier agent left: its dependency '{}' starts anew",
              name(i), name(e.stage));
          s.adopt = false;
          break;
        }
      }
      adopting += s.adopt ? 1 : 0;
    }
    spdlog::info("supervisor: starting {} stages ({} adopted from an earlier agent)",
                 stages_.size(), adopting);
  });
}

void Supervisor::Impl::stop(std::function<void()> done) {
  act([&] {
    if (done) done_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;
    spdlog::info("supervisor: stopping every stage, dependents first");
    for (std::size_t i = 0; i < stages_.size(); ++i) request_stop(i, "shutdown");
  });
}

void Supervisor::Impl::restart(const std::string& stage, const std::string& reason) {
  act([&] {
    std::size_t i = 0;
    while (i < stages_.size() && name(i) != stage) ++i;
    if (i == stages_.size()) {
      spdlog::warn("supervisor: restart of unknown stage '{}' ignored", stage);
      return;
    }
    auto& s = stages_[i];
    if (shutting_down_) {
      spdlog::info("{}: restart ignored while stopping ({})", stage, reason);
      return;
    }
    const bool has_run = s.state != StageState::waiting && s.state != StageState::stopped;
    if (!has_run && !s.stop_requested) {
      spdlog::info("{}: restart ignored: not running ({})", stage, reason);
      return;
    }
    spdlog::info("{}: restart requested: {}", stage, reason);
    const std::string because = fmt::format("restart requested: {}", reason);
    s.start_reason = because;
    request_stop(i, because);
    stop_dependents(i, fmt::format("'{}' is restarting", stage));
  });
}

std::vector<StageStatus> Supervisor::Impl::status() const {
  std::vector<StageStatus> out;
  out.reserve(stages_.size());
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const auto& s = stages_[i];
    StageStatus st;
    st.name = s.spec.name;
    st.state = s.state;
    st.since = s.since;
    st.ready_since = s.ready_since;
    // The first launch of this agent is a restart too when the stage ran under an earlier agent,
    // unless it adopted that workload.
    const int first = s.launches > 0 && (s.adopted_first || !s.has_history) ? 1 : 0;
    st.restarts = s.restored_restarts + s.launches - first;
    if (s.workload) {
      st.workload = s.workload->id();
      st.pid = s.workload->pid();
    }
    st.last_exit = s.last_exit;
    st.last_error = s.last_error;
    if (s.state == StageState::running || s.state == StageState::unready)
      st.probe_detail = s.last_probe_detail;
    st.next_retry = s.next_retry;
    for (const auto& e : graph_.deps(i)) st.deps.push_back(name(e.stage));
    out.push_back(std::move(st));
  }
  return out;
}

bool Supervisor::Impl::all_ready() const {
  for (const auto& s : stages_)
    if (s.state != StageState::ready) return false;
  return true;
}

void Supervisor::Impl::add_observer(std::function<void(const Transition&)> observer) {
  if (observer) observers_.push_back(std::move(observer));
}

void Supervisor::Impl::add_change_observer(std::function<void()> observer) {
  if (observer) change_observers_.push_back(std::move(observer));
}

bool Supervisor::Impl::transition(std::size_t i, StageEvent event, const std::string& because,
                                  Level level) {
  auto& s = stages_[i];
  const auto to = next_state(s.state, event);
  if (!to) {
    spdlog::warn("{}: ignored event {} in state {} ({})", s.spec.name, to_string(event),
                 to_string(s.state), because);
    return false;
  }
  if (*to == s.state) {
    spdlog::debug("{}: still {} after event {} ({})", s.spec.name, to_string(s.state),
                  to_string(event), because);
    return true;
  }
  const TimePoint now = dispatcher_.now();
  Transition t{s.spec.name, s.state, *to, event, now - s.since, because, now};
  cancel_timers(s);
  s.state = *to;
  s.since = now;
  if (*to == StageState::ready) {
    s.ready_since = now;
  } else {
    s.ready_since.reset();
  }
  if (*to != StageState::backoff) s.next_retry.reset();
  spdlog::log(level, "{}: {} → {} after {} because {}", t.stage, to_string(t.from), to_string(t.to),
              core::format_elapsed(t.after), because);
  unnotified_.push_back(std::move(t));
  dirty_ = true;
  return true;
}

void Supervisor::Impl::cancel_timers(core::StageRecord& s) {
  for (auto* id : {&s.backoff_timer, &s.deadline_timer, &s.probe_timer}) {
    dispatcher_.cancel(*id);
    *id = 0;
  }
}

// Settles the graph: stops what must stop (dependents first), starts what can start, and ends
// the shutdown when everything is down. Repeats while a pass changed something.
void Supervisor::Impl::pump() {
  if (pumping_) {
    dirty_ = true;
    return;
  }
  pumping_ = true;
  do {
    dirty_ = false;
    for (std::size_t i = stages_.size(); i-- > 0;)
      if (stages_[i].stop_requested) advance_stop(i);
    if (started_ && !shutting_down_) {
      for (std::size_t i = 0; i < stages_.size(); ++i)
        if (can_start(i)) launch(i);
    }
    finish_shutdown();
  } while (dirty_);
  pumping_ = false;
}

void Supervisor::Impl::notify_observers() {
  // An observer may call back into the supervisor; its transitions queue up behind this one.
  if (notifying_ || pumping_) return;
  notifying_ = true;
  bool told = !unnotified_.empty();
  while (!unnotified_.empty()) {
    const Transition t = std::move(unnotified_.front());
    unnotified_.pop_front();
    for (std::size_t k = 0; k < observers_.size(); ++k) {
      auto observer = observers_[k];  // a copy: the observer may add observers
      observer(t);
    }
  }
  bool errors_changed = false;
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (published_errors_[i] == stages_[i].last_error) continue;
    published_errors_[i] = stages_[i].last_error;
    errors_changed = true;
  }
  if (errors_changed && !told) {
    for (std::size_t k = 0; k < change_observers_.size(); ++k) {
      auto observer = change_observers_[k];
      observer();
    }
  }
  notifying_ = false;
}

}  // namespace kna
