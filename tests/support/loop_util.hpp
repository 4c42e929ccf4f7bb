#pragma once
// Test helpers for real processes on a real loop: run the io_context in the test thread until a
// condition holds (bounded, so that a hang fails instead of blocking), and capture the log.

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "support/log_capture.hpp"

namespace kna::test {

// Runs `io` until `done()` is true or `limit` has passed; returns done().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  // The guard keeps run_one_for blocking while results are still on their way from other threads.
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return done();
    io.run_one_for(left);
  }
  return true;
}

}  // namespace kna::test
