#include "core/format.hpp"

#include <fmt/format.h>

namespace kna::core {

std::string format_elapsed(Duration d) {
  const long long ms = std::chrono::duration_cast<Millis>(d).count();
  if (ms < 0) return "0ms";
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) {
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  }
  const long long s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
}

}  // namespace kna::core
