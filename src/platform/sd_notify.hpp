#pragma once
// Telling systemd (Type=notify) how the agent is doing. Every call is harmless without
// NOTIFY_SOCKET: it then sends nothing and returns false.

#include <chrono>
#include <optional>
#include <string_view>

namespace kna {

// True when the message was sent.
bool notify_ready();
bool notify_stopping();
// RELOADING=1 with MONOTONIC_USEC, as systemd 253+ expects; READY=1 ends the reload.
bool notify_reloading();
bool notify_status(std::string_view text);
// Any message ("WATCHDOG=1", "EXTEND_TIMEOUT_USEC=…", several lines at once).
bool notify_raw(std::string_view message);

// The watchdog interval systemd asks for (WatchdogSec=: WATCHDOG_USEC, for this pid), or nullopt.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace kna
