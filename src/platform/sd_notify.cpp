#include "platform/sd_notify.hpp"

#include <systemd/sd-daemon.h>

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

bool notify_raw(std::string_view message) {
  return send(std::string(message));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  // 0: keep WATCHDOG_USEC/WATCHDOG_PID, so that a re-executed agent (same pid) finds them again.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

}  // namespace kna
