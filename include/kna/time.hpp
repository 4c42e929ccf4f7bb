#pragma once
// Time and timers as an injected dependency: the agent never reads a global clock, so tests can
// drive a simulated one (tests/support/sim_dispatcher.hpp) instead of sleeping.

#include <chrono>
#include <cstdint>
#include <functional>

namespace kna {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;
using Millis = std::chrono::milliseconds;
using Duration = std::chrono::nanoseconds;

// The event loop that owns all agent state. Every callback given to it runs on the loop thread.
// Only post() may be called from other threads.
class Dispatcher {
 public:
  using TimerId = std::uint64_t;

  virtual ~Dispatcher() = default;

  virtual TimePoint now() const = 0;
  virtual WallTime wall_now() const = 0;

  // Runs fn on the loop once `delay` has passed. The returned id is never 0.
  virtual TimerId call_after(Duration delay, std::function<void()> fn) = 0;
  // Cancels a pending timer; a no-op for 0, an unknown id or a timer that already fired.
  virtual void cancel(TimerId id) = 0;
  // Thread-safe: queues fn to run on the loop as soon as possible, in order of posting.
  virtual void post(std::function<void()> fn) = 0;
};

// Converts a steady time point into wall-clock time using the dispatcher's two clocks, for reports.
inline WallTime to_wall(const Dispatcher& d, TimePoint t) {
  return d.wall_now() + std::chrono::duration_cast<WallClock::duration>(t - d.now());
}

}  // namespace kna
