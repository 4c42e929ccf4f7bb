#include "app/facts.hpp"

#include <fstream>
#include <sstream>

namespace kna::app {

std::string subnet_env_path(const Config& cfg) {
  return cfg.paths.flannel_run_dir + "/subnet.env";
}

Result<FlannelSubnet> read_subnet(const Config& cfg) {
  const std::string path = subnet_env_path(cfg);
  std::ifstream in(path);
  if (!in) return Error{path + " is not there yet (flannel writes it once it has leased a subnet)"};
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_subnet_env(text.str());
  if (!parsed) return Error{path + ": " + parsed.error().message};
  return parsed;
}

PlanFacts current_facts(const Config& cfg) {
  PlanFacts facts;
  if (auto subnet = read_subnet(cfg)) facts.subnet = subnet.value();
  return facts;
}

}  // namespace kna::app
