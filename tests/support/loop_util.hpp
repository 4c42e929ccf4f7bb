#pragma once
// Test helpers for real processes on a real loop: run the io_context in the test thread until a
// condition holds (bounded, so that a hang fails instead of blocking), and capture the log.

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

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

// Sends the default logger's output (message text only) to a string for the object's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const {
    spdlog::default_logger()->flush();
    return out_.str();
  }
  bool contains(const std::string& s) const { return text().find(s) != std::string::npos; }
  // Whole lines equal to `line`.
  int count_lines(const std::string& line) const {
    std::istringstream in(text());
    int n = 0;
    for (std::string l; std::getline(in, l);) n += l == line ? 1 : 0;
    return n;
  }
  int count_containing(const std::string& s) const {
    std::istringstream in(text());
    int n = 0;
    for (std::string l; std::getline(in, l);) n += l.find(s) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace kna::test
