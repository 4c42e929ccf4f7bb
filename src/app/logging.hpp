#pragma once
// Log setup for the agent: text for terminals and journald, JSON lines for log collectors.

#include <string>

#include "kna/config.hpp"

namespace kna::app {

// Before the configuration is known: text at info, to stderr.
void init_logging();
// Applies the configured level and format. Returns false (and logs why) for an unknown level.
bool configure_logging(const std::string& level, LogFormat format);

}  // namespace kna::app
