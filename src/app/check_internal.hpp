#pragma once
// Helpers shared by the check_*.cpp files.

#include <optional>
#include <set>
#include <string>

#include "app/check.hpp"

namespace kna::app {

// `path` (absolute) inside the machine's root.
std::string under(const Machine& m, const std::string& path);
// The whole file; nullopt when it cannot be read.
std::optional<std::string> read_text(const std::string& path);
// The stages this configuration runs: its role's, enabled ones (as `plan` lists them).
std::set<std::string> running_stages(const Config& cfg);

}  // namespace kna::app
