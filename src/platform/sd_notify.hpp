#pragma once
// Telling systemd (Type=notify) how the agent is doing: the transport only. What is said, and
// when, is app/service_notifier's. Harmless without NOTIFY_SOCKET: nothing is sent.

#include <chrono>
#include <optional>
#include <string_view>

namespace kna {

// Sends one datagram ("READY=1\nSTATUS=…", "WATCHDOG=1", …). True when it was sent.
bool notify_raw(std::string_view message);

// The watchdog interval systemd asks for (WatchdogSec=: WATCHDOG_USEC, for this pid), or nullopt.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace kna
