#include "platform/sd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <time.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace kna {

namespace {

bool send(const std::string& message) {
  // Keeps NOTIFY_SOCKET set: the agent notifies more than once. Children never see it
  // (child_environment leaves systemd's variables out).
  const int r = sd_notify(0, message.c_str());
  if (r < 0) {
    spdlog::warn("sd_notify \"{}\" failed: {}", message, std::strerror(-r));
    return false;
  }
  return r > 0;
}

}  // namespace

bool notify_ready() {
  return send("READY=1");
}

bool notify_stopping() {
  return send("STOPPING=1");
}

bool notify_reloading() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1'000ULL;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool notify_raw(std::string_view message) {
  return send(std::string(message));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  // 0: keep WATCHDOG_USEC/WATCHDOG_PID, so that a re-executed agent (same pid) finds them again.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

bool notify_status(std::string_view text) {
  // One line: a newline would start another (bogus) assignment.
  std::string line(text);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return send("STATUS=" + line);
}

}  // namespace kna
