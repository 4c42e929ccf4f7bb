#pragma once
// The flanneld stand-in's work against etcd: read the network config, lease a subnet the way
// flannel does (keep the old one when possible), renew it, and write subnet.env atomically.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "clients/etcd_client.hpp"
#include "kna/error.hpp"

namespace kna::standin {

// <prefix>/config as flannel reads it.
struct NetworkConfig {
  std::uint32_t network{0};
  int prefix{0};
  int subnet_len{24};          // SubnetLen
  std::string backend{"udp"};  // Backend.Type
  int mtu{1472};               // from the backend: udp 1472, vxlan 1450, host-gw 1500
  std::string network_text;    // as written, e.g. 10.1.0.0/16
};
Result<NetworkConfig> parse_network_config(const std::string& json_text);

struct LeaseRequest {
  std::string prefix;     // e.g. /coreos.com/network
  std::string public_ip;  // our identity: a lease carrying it is ours
  std::chrono::seconds ttl{24 * 3600};
};

struct Lease {
  std::uint32_t subnet{0};
  int len{0};
  std::string key;   // <prefix>/subnets/10.1.33.0-24
  std::string cidr;  // 10.1.33.0/24
};

// Leases `previous` again if it still fits the network and is free or ours; else a subnet that
// already carries our PublicIP; else the first free one, claimed atomically (create-if-absent).
Result<Lease> acquire_lease(EtcdClient& etcd, const NetworkConfig& network,
                            const LeaseRequest& request, std::optional<std::uint32_t> previous);
// Extends the lease; re-creates it if it expired meanwhile. An error when another node took it.
EtcdResult<EtcdDone> renew_lease(EtcdClient& etcd, const NetworkConfig& network,
                                 const LeaseRequest& request, const Lease& lease);

// The subnet (network address) recorded in an existing subnet.env, if the file parses and the
// subnet lies in `network` with its SubnetLen.
std::optional<std::uint32_t> previous_subnet(const std::string& subnet_file,
                                             const NetworkConfig& network);
// Writes flannel's four lines to a temporary file beside `path`, then renames it into place.
Result<bool> write_subnet_env(const std::string& path, const NetworkConfig& network,
                              const Lease& lease, bool ipmasq);

}  // namespace kna::standin
