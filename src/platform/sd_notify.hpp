#pragma once
// Telling systemd (Type=notify) how the agent is doing. Every call is harmless without
// NOTIFY_SOCKET: it then sends nothing and returns false.

#include <string_view>

namespace kna {

// True when the message was sent.
bool notify_ready();
bool notify_stopping();
// RELOADING=1 with MONOTONIC_USEC, as systemd 253+ expects; READY=1 ends the reload.
bool notify_reloading();
bool notify_status(std::string_view text);

}  // namespace kna
