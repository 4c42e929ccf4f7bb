#include "app/logging.hpp"

#include <unistd.h>

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

}  // namespace

void init_logging() {
  auto logger = spdlog::stderr_color_mt("kna");
  spdlog::set_default_logger(logger);
  // journald adds its own time stamps; a terminal wants them.
  if (isatty(STDERR_FILENO)) {
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
