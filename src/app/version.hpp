#pragma once

namespace kna::app {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace kna::app
