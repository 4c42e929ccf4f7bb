#pragma once
// Flannel's network config as the master's etcd stage stores it (StoreFlannelConfig): the key and
// the JSON text, the same bytes as clients/flannel_config renders (a test in tests/unit/app holds
// them together; the catalogue cannot see the clients).

#include <string>

namespace kna::stages {

// "<prefix>/config", without a doubled '/'.
std::string network_config_key(const std::string& prefix);
// {"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}
std::string network_config_json(const std::string& network, const std::string& backend);

}  // namespace kna::stages
