#pragma once
// Short human-readable durations for the core's log lines and messages ("350ms", "1.2s", "20s").

#include <string>

#include "kna/time.hpp"

namespace kna::core {

// "350ms" below a second; "1.2s" (or "20s" when whole) below a minute; then "3m5s", "2h4m".
std::string format_elapsed(Duration d);

}  // namespace kna::core
