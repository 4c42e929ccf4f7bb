#pragma once
// Follows a host process's log file (tail -F style, on dispatcher timers) and hands each line to a
// callback; rotates the file by copy-truncate. The file, not a pipe, carries a stage's output so
// that the process survives an agent restart and the next agent can follow it from its end.
// Loop thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kna/time.hpp"

namespace kna {

class LogFollower {
 public:
  struct Options {
    Millis poll{250};  // how often the file is looked at
    // When longer than `poll`: each look that finds nothing new doubles the wait, up to this; the
    // first new byte brings it back to `poll`. A quiet daemon then costs a wakeup every couple
    // of seconds instead of four a second (docs/benchmarks.md, footprint).
    Millis idle_poll{0};
    std::uint64_t max_bytes{10 * 1024 * 1024};  // rotate once the file is larger than this
    bool rotate{true};
  };
  using LineFn = std::function<void(std::string_view line)>;

  // `dispatcher` must outlive this object. `on_line` runs on the loop, from a timer, poll_now() or
  // flush(), never after stop(); it may call stop() or destroy the follower.
  LogFollower(Dispatcher& dispatcher, std::string path, Options options, LineFn on_line);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Starts polling. from_end=true skips what the file holds now (an adopted process's old output,
  // or a previous run's); a file that does not exist yet is read from its start once it appears.
  // A second start() and a start() after stop() do nothing.
  void start(bool from_end);
  // Idempotent: no callback runs after it and the file is closed.
  void stop();
  // Reads what is new now, without waiting for the timer (bounded like one tick).
  void poll_now();
  // For when the writer has ended: reads to the end of the file and emits a last line that has
  // no newline.
  void flush();

 private:
  struct Impl;
  // Shared with the pending timer through a weak_ptr, so that destruction cancels it safely.
  std::shared_ptr<Impl> impl_;
};

}  // namespace kna
