#pragma once
// Helpers shared by the check_*.cpp files.

#include <set>
#include <string>

#include "app/check.hpp"

namespace kna::app {

// `path` (absolute) inside the machine's root.
std::string under(const Machine& m, const std::string& path);
// One line of the report.
CheckLine line(std::string name, CheckResult r, std::string found, std::string remedy = "",
               bool enforced = false);
// The stages this configuration runs: its role's, enabled ones (as `plan` lists them).
std::set<std::string> running_stages(const Config& cfg);

}  // namespace kna::app
