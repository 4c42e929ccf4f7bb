#include "app/service_notifier.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace kna::app {
namespace {

bool deps_ready(const StageStatus& stage, const std::vector<StageStatus>& stages) {
  for (const auto& dep : stage.deps) {
    for (const auto& s : stages)
      if (s.name == dep && s.state != StageState::ready) return false;
  }
  return true;
}

std::string why_not_ready(const StageStatus& s, TimePoint now) {
  switch (s.state) {
    case StageState::waiting:
      return fmt::format("{} waiting to start", s.name);
    case StageState::starting:
      return fmt::format("starting {}", s.name);
    case StageState::running:
      if (!s.last_error.empty()) return fmt::format("waiting for {}: {}", s.name, s.last_error);
      if (!s.probe_detail.empty()) return fmt::format("waiting for {}: {}", s.name, s.probe_detail);
      return fmt::format("waiting for {} to answer its readiness probe", s.name);
    case StageState::unready:
      return fmt::format("{} not ready: {}", s.name,
                         s.last_error.empty() ? s.probe_detail : s.last_error);
    case StageState::backoff: {
      std::string text = fmt::format("{} failed", s.name);
      if (!s.last_error.empty()) text += ": " + s.last_error;
      if (s.next_retry) {
        const auto in = std::chrono::duration_cast<std::chrono::seconds>(
            std::max(Duration::zero(), *s.next_retry - now) + std::chrono::milliseconds(999));
        text += fmt::format("; restart in {}s", in.count());
      }
      return text;
    }
    case StageState::stopping:
      return fmt::format("{} stopping", s.name);
    case StageState::stopped:
      return fmt::format("{} stopped", s.name);
    case StageState::ready:
      break;
  }
  return s.name + " ready";
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::uint64_t usec(Duration d) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

std::string describe_progress(const std::vector<StageStatus>& stages, bool stopping,
                              TimePoint now) {
  const auto total = stages.size();
  if (stopping) {
    const auto running = std::count_if(stages.begin(), stages.end(), [](const StageStatus& s) {
      return s.state != StageState::stopped && s.state != StageState::waiting &&
             s.state != StageState::backoff;
    });
    return fmt::format("stopping: {} of {} stages still running", running, total);
  }
  const auto ready = std::count_if(stages.begin(), stages.end(), [](const StageStatus& s) {
    return s.state == StageState::ready;
  });
  std::string text = fmt::format("{}/{} stages ready", ready, total);
  if (static_cast<std::size_t>(ready) == total) return text;
  // The first stage that holds the node up: not ready although everything it needs is.
  const StageStatus* holding = nullptr;
  for (const auto& s : stages) {
    if (s.state == StageState::ready) continue;
    if (!holding) holding = &s;
    if (deps_ready(s, stages)) {
      holding = &s;
      break;
    }
  }
  return one_line(text + "; " + why_not_ready(*holding, now));
}

ServiceNotifier::ServiceNotifier(Dispatcher& dispatcher, Send send, Observe observe,
                                 ServiceNotifierOptions options)
    : dispatcher_(dispatcher),
      send_(std::move(send)),
      observe_(std::move(observe)),
      options_(std::move(options)) {}

ServiceNotifier::~ServiceNotifier() {
  stop();
}

void ServiceNotifier::start() {
  update();
  if (options_.watchdog && *options_.watchdog > Duration::zero()) ping();
  if (options_.refresh > Duration::zero())
    refresh_timer_ = dispatcher_.call_after(options_.refresh, [this] { refresh(); });
}

void ServiceNotifier::update() {
  if (stopped_) return;
  const Snapshot now = observe_();
  const std::string progress = describe_progress(now.stages, now.stopping, dispatcher_.now());
  std::string status = progress;
  if (!note_.empty()) {
    if (note_for_ == progress) {
      status += "; " + note_;
    } else {
      note_.clear();
    }
  }
  const bool all_ready =
      !now.stopping && std::all_of(now.stages.begin(), now.stages.end(),
                                   [](const auto& s) { return s.state == StageState::ready; });
  std::string message;
  if (all_ready && !ready_sent_) {
    ready_sent_ = true;
    message = "READY=1\n";
  }
  if (status != last_status_) {
    last_status_ = status;
    message += "STATUS=" + status;
  }
  // A launch in progress before the node was ever ready: an image load or pull may take longer
  // than TimeoutStartSec allows for the whole start; each one in progress buys more time.
  const bool launching = std::any_of(now.stages.begin(), now.stages.end(),
                                     [](const auto& s) { return s.state == StageState::starting; });
  if (!ready_sent_ && !now.stopping && launching &&
      (!last_extend_ || dispatcher_.now() - *last_extend_ >= options_.extend_by / 3)) {
    last_extend_ = dispatcher_.now();
    if (!message.empty() && message.back() != '\n') message += "\n";
    message += fmt::format("EXTEND_TIMEOUT_USEC={}", usec(options_.extend_by));
  }
  if (message.empty()) return;
  if (message.back() == '\n') message.pop_back();
  send_(message);
}

void ServiceNotifier::reloading(const std::string& what) {
  if (stopped_) return;
  last_status_ = one_line(what);
  send_(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS={}",
                    usec(dispatcher_.now().time_since_epoch()), last_status_));
}

void ServiceNotifier::reloaded(const std::string& outcome) {
  if (stopped_) return;
  const Snapshot now = observe_();
  note_for_ = describe_progress(now.stages, now.stopping, dispatcher_.now());
  note_ = one_line(outcome);
  last_status_ = note_for_ + "; " + note_;
  send_((ready_sent_ ? "READY=1\nSTATUS=" : "STATUS=") + last_status_);
}

void ServiceNotifier::stopping() {
  if (stopped_) return;
  note_.clear();
  const Snapshot now = observe_();
  last_status_ = describe_progress(now.stages, true, dispatcher_.now());
  send_("STOPPING=1\nSTATUS=" + last_status_);
}

void ServiceNotifier::stop() {
  stopped_ = true;
  dispatcher_.cancel(ping_timer_);
  dispatcher_.cancel(refresh_timer_);
  ping_timer_ = refresh_timer_ = 0;
}

// From the loop, so that a loop that no longer turns stops the pings and systemd's watchdog
// ends the agent (its stages keep running; the next agent adopts them).
void ServiceNotifier::ping() {
  if (stopped_) return;
  send_("WATCHDOG=1");
  ping_timer_ = dispatcher_.call_after(*options_.watchdog / 2, [this] { ping(); });
}

void ServiceNotifier::refresh() {
  if (stopped_) return;
  update();
  refresh_timer_ = dispatcher_.call_after(options_.refresh, [this] { refresh(); });
}

}  // namespace kna::app
