#pragma once
// Reading the run-time facts that stage specifications depend on (flannel's subnet.env).

#include <string>

#include "kna/catalogue.hpp"
#include "kna/config.hpp"
#include "kna/error.hpp"

namespace kna::app {

std::string subnet_env_path(const Config& cfg);
// The subnet flannel leased: an error when subnet.env is missing, unreadable or malformed.
Result<FlannelSubnet> read_subnet(const Config& cfg);
// Whatever is known now; a missing or bad subnet.env leaves the subnet out.
PlanFacts current_facts(const Config& cfg);

}  // namespace kna::app
