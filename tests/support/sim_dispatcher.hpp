#pragma once
// A Dispatcher on simulated time: nothing happens until the test calls run_posted() or advance().
// Lets tests check timing behaviour (backoff, deadlines) exactly, without sleeping.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "kna/time.hpp"

namespace kna::test {

class SimDispatcher : public Dispatcher {
 public:
  TimePoint now() const override { return now_; }
  WallTime wall_now() const override {
    return WallTime{} + std::chrono::hours(24 * 365 * 50) +
           std::chrono::duration_cast<WallClock::duration>(now_.time_since_epoch());
  }

  TimerId call_after(Duration delay, std::function<void()> fn) override {
    TimerId id = ++last_id_;
    timers_.emplace(std::make_pair(now_ + delay, id), std::move(fn));
    return id;
  }

  void cancel(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }

  void post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
    posted_cv_.notify_all();
  }

  // For code with worker threads that post their results: runs posted work, waiting (in real
  // time, up to `limit`) for more from other threads, until `done()` holds. Simulated time does
  // not move. Returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      run_posted();
      if (done()) return true;
      std::unique_lock lock(mu_);
      if (!posted_cv_.wait_until(lock, deadline, [&] { return !posted_.empty(); })) {
        lock.unlock();
        run_posted();
        return done();
      }
    }
  }

  // Runs posted work (including work posted by that work) until none is left. Returns how many ran.
  int run_posted() {
    int n = 0;
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lock(mu_);
        if (posted_.empty()) return n;
        fn = std::move(posted_.front());
        posted_.pop_front();
      }
      fn();
      ++n;
    }
  }

  // Moves time forward by `d`, firing due timers in time order (and posted work after each).
  void advance(Duration d) {
    const TimePoint end = now_ + d;
    run_posted();
    while (!timers_.empty() && timers_.begin()->first.first <= end) {
      auto it = timers_.begin();
      now_ = std::max(now_, it->first.first);
      auto fn = std::move(it->second);
      timers_.erase(it);
      fn();
      run_posted();
    }
    now_ = end;
    run_posted();
  }

  // Advances to the next pending timer and fires it; false if there is none.
  bool fire_next() {
    run_posted();
    if (timers_.empty()) return false;
    advance(timers_.begin()->first.first - now_);
    return true;
  }

  std::size_t pending_timers() const { return timers_.size(); }
  // Time until the earliest pending timer, if any.
  std::optional<Duration> next_timer_in() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->first.first - now_;
  }

 private:
  TimePoint now_{std::chrono::hours(1)};
  TimerId last_id_{0};
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers_;
  std::mutex mu_;
  std::condition_variable posted_cv_;
  std::deque<std::function<void()>> posted_;
};

}  // namespace kna::test
