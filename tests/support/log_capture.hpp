#pragma once
// Captures what is logged through spdlog's default logger while it lives: the message text (text,
// contains, count_*) and, per line, "<level> <message>" (lines, has), so tests can check wording
// and levels. The one LogCapture of the tests.

#include <algorithm>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

namespace kna::test {

// The formatted lines in one string, read under the sink's own lock: the agent's threads log while
// a test reads (an ostream sink's stream cannot be read safely then).
class TextSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

class LogCapture {
 public:
  LogCapture()
      : previous_(spdlog::default_logger()),
        text_(std::make_shared<TextSink>()),
        leveled_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10'000)) {
    text_->set_pattern("%v");
    leveled_->set_pattern("%l %v");
    auto logger =
        std::make_shared<spdlog::logger>("capture", spdlog::sinks_init_list{text_, leveled_});
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return text_->text(); }
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

  // "<level> <message>" per line; levels are spdlog's names: trace, debug, info, warning, error,
  // critical. The last 10 000 lines.
  std::vector<std::string> lines() const {
    auto out = leveled_->last_formatted();
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
  // A line "<level> <message>" exactly.
  bool has_line(const std::string& exact) const {
    const auto all = lines();
    return std::find(all.begin(), all.end(), exact) != all.end();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<TextSink> text_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> leveled_;
};

}  // namespace kna::test
