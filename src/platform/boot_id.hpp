#pragma once
// The kernel's boot id: recorded with checkpoints so that nothing from before a reboot is adopted.

#include <string>

#include "kna/error.hpp"

namespace kna {

inline constexpr const char* kBootIdPath = "/proc/sys/kernel/random/boot_id";

// The id without the trailing newline, e.g. "3f2a1c9b-0d12-4e5f-8a7b-6c5d4e3f2a1b".
Result<std::string> boot_id(const std::string& path = kBootIdPath);

}  // namespace kna
