#pragma once
// Writes flannel's network configuration (<prefix>/config) into etcd as docker-multinode did,
// through whichever API the client speaks (flannel <= 0.6 reads v2, later flannel v3).

#include <string>

#include "clients/etcd_client.hpp"
#include "kna/error.hpp"

namespace kna {

enum class NetworkConfigChange {
  created,    // the key did not exist
  updated,    // the key held a different configuration (or something that is not JSON)
  unchanged,  // the key already held the same JSON, perhaps formatted differently
};
const char* to_string(NetworkConfigChange change);

struct NetworkConfigOutcome {
  NetworkConfigChange change{NetworkConfigChange::unchanged};
  std::string key;       // e.g. /coreos.com/network/config
  std::string value;     // what the key holds now
  std::string previous;  // updated: what it held before
  // "created /coreos.com/network/config = {…}", for a log line.
  std::string describe() const;
};

// {"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}
std::string flannel_network_config(const std::string& network, const std::string& backend);
// "<prefix>/config", without a doubled '/'.
std::string flannel_config_key(const std::string& prefix);

// Writes `value` (JSON) to `key` only when the key is missing or holds something whose parsed
// JSON differs (a value that only differs in formatting or key order is left alone, so that an
// agent restart never rewrites what flanneld or an admin wrote equivalently). Blocking.
Result<NetworkConfigOutcome> ensure_json_value(EtcdClient& etcd, const std::string& key,
                                               const std::string& value);

// Makes <prefix>/config hold flannel_network_config(network, backend). Writes only that key, and
// only when its parsed JSON differs from the wanted one. Blocking (see EtcdClient).
Result<NetworkConfigOutcome> ensure_network_config(EtcdClient& etcd, const std::string& prefix,
                                                   const std::string& network,
                                                   const std::string& backend);

}  // namespace kna
