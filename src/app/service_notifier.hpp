#pragma once
// What the agent tells its service manager (systemd, Type=notify): READY=1 once every stage is
// ready for the first time, a STATUS= line that says what the node waits for and stays current,
// EXTEND_TIMEOUT_USEC while a first launch (an image load, a pull) is still in progress, WATCHDOG=1
// from the event loop, RELOADING=1 and STOPPING=1. The messages go through `send`, so tests read
// them; the agent passes sd_notify. Loop thread only.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kna/supervisor.hpp"
#include "kna/time.hpp"

namespace kna::app {

// One line for STATUS=: "6/6 stages ready", or how many are ready and the first stage that holds
// the node up, and why ("2/6 stages ready; waiting for flannel: /run/flannel/subnet.env: No such
// file or directory"). `stages` in start order; `stopping`: the agent is stopping them.
std::string describe_progress(const std::vector<StageStatus>& stages, bool stopping, TimePoint now);

struct ServiceNotifierOptions {
  // systemd's WatchdogSec (WATCHDOG_USEC): WATCHDOG=1 every half of it. nullopt: no pings.
  std::optional<Duration> watchdog;
  // How often the status is looked at, besides every transition: a failing probe changes its
  // reason without a transition.
  Duration refresh{std::chrono::seconds(1)};  // zero: no refresh (nobody reads STATUS=)
  // Before READY=1, while a stage is being launched: EXTEND_TIMEOUT_USEC with this value, sent
  // again after a third of it, so that TimeoutStartSec bounds a bring-up that makes no progress
  // but not a long first image load.
  Duration extend_by{std::chrono::seconds(90)};
};

class ServiceNotifier {
 public:
  using Send = std::function<bool(const std::string& message)>;
  struct Snapshot {
    std::vector<StageStatus> stages;
    bool stopping{false};
  };
  using Observe = std::function<Snapshot()>;

  ServiceNotifier(Dispatcher& dispatcher, Send send, Observe observe,
                  ServiceNotifierOptions options);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // The first STATUS=, then the watchdog pings and the refresh.
  void start();
  // After a transition: STATUS= when it changed, READY=1 the first time every stage is ready.
  void update();
  // RELOADING=1 with MONOTONIC_USEC, and what is being reloaded as STATUS=.
  void reloading(const std::string& what);
  // The reload is over (applied or refused, said in `outcome`, shown as STATUS= until the next
  // change): READY=1 again, but only when the node had been ready; before that, READY=1 still
  // waits for every stage.
  void reloaded(const std::string& outcome);
  // STOPPING=1: the ordered stop has begun.
  void stopping();
  // No more pings or refreshes (the loop is about to end).
  void stop();

  bool ready_sent() const { return ready_sent_; }

 private:
  void ping();
  void refresh();

  Dispatcher& dispatcher_;
  Send send_;
  Observe observe_;
  ServiceNotifierOptions options_;
  bool ready_sent_{false};
  bool stopped_{false};
  std::string last_status_;
  std::string note_;  // said after the progress until the next change of it (a reload's outcome)
  std::string note_for_;  // the progress `note_` was said with
  std::optional<TimePoint> last_extend_;
  Dispatcher::TimerId ping_timer_{0};
  Dispatcher::TimerId refresh_timer_{0};
};

}  // namespace kna::app
