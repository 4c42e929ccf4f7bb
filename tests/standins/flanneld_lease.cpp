// Subnet leasing as flannel does it: leases live under <prefix>/subnets/<a.b.c.d>-<len> with the
// holder's PublicIP in the value, so a restarted node can recognise and keep its own.

#include "flanneld_lease.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "kna/catalogue.hpp"
#include "kna/ipv4.hpp"

namespace kna::standin {

namespace {

using nlohmann::json;

int backend_mtu(const std::string& backend) {
  if (backend == "udp") return 1472;
  if (backend == "vxlan") return 1450;
  return 1500;  // host-gw and anything unencapsulated
}

std::uint32_t block_size(int len) {
  return std::uint32_t{1} << (32 - len);
}

std::string lease_key(const std::string& prefix, std::uint32_t subnet, int len) {
  return prefix + "/subnets/" + format_ipv4(subnet) + "-" + std::to_string(len);
}

std::string lease_value(const LeaseRequest& request, const NetworkConfig& network) {
  // flannel's field order.
  return nlohmann::ordered_json{{"PublicIP", request.public_ip}, {"BackendType", network.backend}}
      .dump();
}

std::string holder_of(const std::string& value) {
  const auto parsed = json::parse(value, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("PublicIP") || !parsed["PublicIP"].is_string())
    return {};
  return parsed["PublicIP"].get<std::string>();
}

// "10.1.33.0-24" at the end of a lease key.
std::optional<std::uint32_t> subnet_of_key(const std::string& key, int len) {
  const auto slash = key.rfind('/');
  const auto dash = key.rfind('-');
  if (slash == std::string::npos || dash == std::string::npos || dash < slash) return std::nullopt;
  if (key.substr(dash + 1) != std::to_string(len)) return std::nullopt;
  return parse_ipv4(key.substr(slash + 1, dash - slash - 1));
}

Lease make_lease(const std::string& prefix, std::uint32_t subnet, int len) {
  return Lease{subnet, len, lease_key(prefix, subnet, len), format_cidr(subnet, len)};
}

enum class Claim { ours, taken };

// Creates the lease, or recognises it as ours (and refreshes it).
EtcdResult<Claim> claim(EtcdClient& etcd, const NetworkConfig& network, const LeaseRequest& request,
                        const Lease& lease) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto won = etcd.create(lease.key, lease_value(request, network), request.ttl);
    if (!won) return won.error();
    if (won.value()) return Claim::ours;
    auto held = etcd.get(lease.key);
    if (!held) return held.error();
    if (!held.value()) continue;  // expired between our create and get: try again
    if (holder_of(held.value()->value) != request.public_ip) return Claim::taken;
    auto refreshed = etcd.refresh(lease.key, request.ttl);
    if (refreshed) return Claim::ours;
    if (refreshed.error().kind != EtcdErrorKind::not_found) return refreshed.error();
  }
  return Claim::taken;
}

Error etcd_error(const EtcdError& error) {
  return Error{error.message};
}

}  // namespace

Result<NetworkConfig> parse_network_config(const std::string& json_text) {
  const auto parsed = json::parse(json_text, nullptr, false);
  if (!parsed.is_object()) return Error{"network config is not a JSON object: " + json_text};
  NetworkConfig config;
  if (!parsed.contains("Network") || !parsed["Network"].is_string())
    return Error{"network config has no \"Network\": " + json_text};
  config.network_text = parsed["Network"].get<std::string>();
  const auto cidr = parse_cidr(config.network_text);
  if (!cidr || cidr->host_bits_set())
    return Error{"network config \"Network\" is not an IPv4 network: " + config.network_text};
  config.network = cidr->address;
  config.prefix = cidr->prefix;
  if (parsed.contains("SubnetLen")) {
    if (!parsed["SubnetLen"].is_number_integer())
      return Error{"network config \"SubnetLen\" is not a number: " + json_text};
    config.subnet_len = parsed["SubnetLen"].get<int>();
  }
  if (config.subnet_len <= config.prefix || config.subnet_len > 30)
    return Error{"network config SubnetLen " + std::to_string(config.subnet_len) +
                 " does not fit in " + config.network_text};
  if (parsed.contains("Backend")) {
    const auto& backend = parsed["Backend"];
    if (!backend.is_object()) return Error{"network config \"Backend\" is not an object"};
    if (backend.contains("Type") && backend["Type"].is_string())
      config.backend = backend["Type"].get<std::string>();
  }
  config.mtu = backend_mtu(config.backend);
  return config;
}

Result<Lease> acquire_lease(EtcdClient& etcd, const NetworkConfig& network,
                            const LeaseRequest& request, std::optional<std::uint32_t> previous) {
  const auto len = network.subnet_len;
  if (previous) {
    const auto lease = make_lease(request.prefix, *previous, len);
    auto claimed = claim(etcd, network, request, lease);
    if (!claimed) return etcd_error(claimed.error());
    if (claimed.value() == Claim::ours) return lease;
    spdlog::warn("Previous subnet {} is leased by another node; choosing another", lease.cidr);
  }

  auto leases = etcd.list(request.prefix + "/subnets/");
  if (!leases) return etcd_error(leases.error());
  std::set<std::uint32_t> taken;
  for (const auto& kv : leases.value()) {
    const auto subnet = subnet_of_key(kv.key, len);
    if (!subnet) continue;
    taken.insert(*subnet);
    if (holder_of(kv.value) == request.public_ip) {
      const auto lease = make_lease(request.prefix, *subnet, len);
      auto claimed = claim(etcd, network, request, lease);
      if (!claimed) return etcd_error(claimed.error());
      if (claimed.value() == Claim::ours) return lease;
    }
  }

  const std::uint64_t count = std::uint64_t{1} << (len - network.prefix);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto subnet = network.network + static_cast<std::uint32_t>(i) * block_size(len);
    if (taken.count(subnet) != 0) continue;
    const auto lease = make_lease(request.prefix, subnet, len);
    auto claimed = claim(etcd, network, request, lease);
    if (!claimed) return etcd_error(claimed.error());
    if (claimed.value() == Claim::ours) return lease;
    taken.insert(subnet);  // another node won the race for it
  }
  return Error{"no free subnet of length " + std::to_string(len) + " left in " +
               network.network_text};
}

EtcdResult<EtcdDone> renew_lease(EtcdClient& etcd, const NetworkConfig& network,
                                 const LeaseRequest& request, const Lease& lease) {
  auto refreshed = etcd.refresh(lease.key, request.ttl);
  if (refreshed || refreshed.error().kind != EtcdErrorKind::not_found) return refreshed;
  auto claimed = claim(etcd, network, request, lease);
  if (!claimed) return claimed.error();
  if (claimed.value() == Claim::ours) return EtcdDone{};
  return EtcdError{EtcdErrorKind::bad_response, refreshed.error().endpoint,
                   "lease " + lease.cidr + " expired and another node took it"};
}

std::optional<std::uint32_t> previous_subnet(const std::string& subnet_file,
                                             const NetworkConfig& network) {
  std::ifstream in(subnet_file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const auto parsed = parse_subnet_env(text.str());
  if (!parsed) {
    spdlog::warn("Ignoring {}: {}", subnet_file, parsed.error().message);
    return std::nullopt;
  }
  const auto cidr = parse_cidr(parsed.value().subnet);
  const Ipv4Cidr net{network.network, network.prefix};
  if (!cidr || cidr->prefix != network.subnet_len || !net.contains(*cidr)) return std::nullopt;
  return cidr->network();
}

Result<bool> write_subnet_env(const std::string& path, const NetworkConfig& network,
                              const Lease& lease, bool ipmasq) {
  const FlannelSubnet subnet{network.network_text, format_cidr(lease.subnet + 1, lease.len),
                             network.mtu, ipmasq};
  const auto text = format_subnet_env(subnet);
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return Error{"cannot create a file beside " + path + ": " + std::strerror(errno)};
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = written ? errno : saved;
    ::unlink(temp.c_str());
    return Error{"cannot write " + path + ": " + std::strerror(err)};
  }
  return true;
}

}  // namespace kna::standin
