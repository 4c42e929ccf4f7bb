#pragma once
// The effective-configuration printout at start, in docker-multinode's words
// ("K8S_VERSION is set to: v1.2.4"), one line per docker-multinode option (README, Configuration).

#include <string>
#include <vector>

#include "kna/config.hpp"

namespace kna {

std::vector<std::string> startup_report(const Config& config);

}  // namespace kna
