#include "app/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <memory>

#include <spdlog/details/fmt_helper.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace kna::app {
namespace {

// One JSON object per line: {"time":…,"level":…,"msg":…}; the message is escaped properly.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    nlohmann::json line = {
        {"ts", static_cast<double>(ms) / 1000.0},
        {"level", spdlog::level::to_string_view(msg.level).data()},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// `%*`: the line's priority as sd-daemon(3)'s "<N>" prefix, which journald strips and keeps as
// the entry's PRIORITY (so that `journalctl -p warning` works).
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    const std::string_view prefix = journal_priority_prefix(msg.level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

}  // namespace

std::string_view journal_priority_prefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return "<2>";  // SD_CRIT
    case spdlog::level::err:
      return "<3>";  // SD_ERR
    case spdlog::level::warn:
      return "<4>";  // SD_WARNING
    case spdlog::level::info:
      return "<6>";  // SD_INFO
    case spdlog::level::debug:
    case spdlog::level::trace:
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return "<7>";  // SD_DEBUG
}

bool journal_stream_names(const char* journal_stream, dev_t device, ino_t inode) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  const auto* end_dev = text.data() + colon;
  const auto* end = text.data() + text.size();
  const auto d = std::from_chars(text.data(), end_dev, dev);
  const auto i = std::from_chars(end_dev + 1, end, ino);
  if (d.ec != std::errc{} || d.ptr != end_dev || i.ec != std::errc{} || i.ptr != end) return false;
  return dev == static_cast<unsigned long long>(device) &&
         ino == static_cast<unsigned long long>(inode);
}

bool stderr_is_journal() {
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return journal_stream_names(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

void init_logging() {
  auto logger = spdlog::stderr_color_mt("kna");
  spdlog::set_default_logger(logger);
  if (stderr_is_journal()) {
    // journald stamps each line itself and reads its priority from the prefix. JOURNAL_STREAM
    // alone is not enough: children inherit it, and stderr may have been redirected since
    // (systemd.exec(5)).
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*%v");
    spdlog::set_formatter(std::move(formatter));
  } else if (isatty(STDERR_FILENO)) {
    spdlog::set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  spdlog::set_level(spdlog::level::info);
}

bool configure_logging(const std::string& level, LogFormat format) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    spdlog::error("log level '{}' is unknown", level);
    return false;
  }
  spdlog::set_level(lvl);
  if (format == LogFormat::json) spdlog::set_formatter(std::make_unique<JsonFormatter>());
  return true;
}

}  // namespace kna::app
