#include "stages/flannel_network.hpp"

#include <nlohmann/json.hpp>

namespace kna::stages {

std::string network_config_key(const std::string& prefix) {
  std::string key = prefix;
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key + "/config";
}

std::string network_config_json(const std::string& network, const std::string& backend) {
  // ordered_json keeps flannel's documented key order: Network first.
  const nlohmann::ordered_json config{{"Network", network}, {"Backend", {{"Type", backend}}}};
  return config.dump();
}

}  // namespace kna::stages
