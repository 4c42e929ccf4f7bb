#pragma once
// Captures what is logged through spdlog's default logger while it lives, as "<level> <message>"
// lines, so tests can check log wording and levels.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

namespace kna::test {

class LogCapture {
 public:
  LogCapture()
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10'000)) {
    sink_->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Levels are spdlog's names: trace, debug, info, warning, error, critical.
  std::vector<std::string> lines() const {
    auto out = sink_->last_formatted();
    for (auto& l : out)
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    return out;
  }
  bool has(const std::string& level, const std::string& text) const {
    const auto all = lines();
    return std::any_of(all.begin(), all.end(), [&](const std::string& l) {
      return l.rfind(level + " ", 0) == 0 && l.find(text) != std::string::npos;
    });
  }
  bool has_line(const std::string& exact) const {
    const auto all = lines();
    return std::find(all.begin(), all.end(), exact) != all.end();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace kna::test
