// A stand-in for flanneld written for kube-node-agent's tests and demo: it takes flanneld's
// flags, reads the network config from etcd (v2 or v3), leases a subnet like flannel, writes
// subnet.env and keeps the lease renewed until SIGTERM. It sets up no tunnel and no routes.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "clients/etcd_client.hpp"
#include "flanneld_lease.hpp"
#include "kna/ipv4.hpp"

namespace {

using namespace kna;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Flags {
  std::string etcd_endpoints{"http://127.0.0.1:2379"};
  std::string etcd_prefix{"/coreos.com/network"};
  std::string iface;
  bool ip_masq{false};
  std::string subnet_file{"/run/flannel/subnet.env"};
  std::string public_ip;
  std::string etcd_api{"v2"};  // stand-in only: real flannel <= 0.6 speaks v2, later v3
  long lease_ttl_s{24 * 3600};
  int config_attempts{5};
  long retry_interval_ms{1000};
};

// SIGTERM and SIGINT stay blocked and are collected here, so a signal that arrives during an etcd
// call is not lost and no handler runs in the middle of one.
sigset_t exit_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Waits up to `timeout`; true when an exit signal arrived.
bool exit_signal_within(milliseconds timeout) {
  const auto set = exit_signals();
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>(timeout.count() % 1000) * 1'000'000};
  int sig = -1;
  do {
    sig = sigtimedwait(&set, nullptr, &ts);
  } while (sig < 0 && errno == EINTR);
  if (sig < 0) return false;
  spdlog::info("Exiting cleanly on signal {}", sig);
  return true;
}

// --public-ip, else the address of --iface (a name or an address), else loopback.
std::optional<std::string> public_ip(const Flags& flags) {
  if (!flags.public_ip.empty()) {
    if (!parse_ipv4(flags.public_ip)) return std::nullopt;
    return flags.public_ip;
  }
  if (flags.iface.empty()) return "127.0.0.1";
  if (parse_ipv4(flags.iface)) return flags.iface;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (auto* it = list; it != nullptr && !found; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if (flags.iface != it->ifa_name) continue;
    sockaddr_in addr{};
    std::memcpy(&addr, it->ifa_addr, sizeof(addr));
    found = format_ipv4(ntohl(addr.sin_addr.s_addr));
  }
  freeifaddrs(list);
  return found;
}

int run(const Flags& flags) {
  const auto endpoints = parse_etcd_endpoints(flags.etcd_endpoints);
  if (!endpoints) {
    spdlog::error("{}", endpoints.error().message);
    return 1;
  }
  if (flags.etcd_api != "v2" && flags.etcd_api != "v3") {
    spdlog::error("--etcd-api must be v2 or v3, not '{}'", flags.etcd_api);
    return 1;
  }
  const auto ip = public_ip(flags);
  if (!ip) {
    spdlog::error("Failed to find interface to use: '{}' has no IPv4 address",
                  flags.public_ip.empty() ? flags.iface : flags.public_ip);
    return 1;
  }
  std::string prefix = flags.etcd_prefix;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();

  EtcdClient etcd(EtcdOptions{endpoints.value(), flags.etcd_api == "v3" ? EtcdApi::v3 : EtcdApi::v2,
                              Millis(5000)});
  spdlog::info("Using etcd API {} at {} with prefix {}; public IP {}", flags.etcd_api,
               flags.etcd_endpoints, prefix, *ip);

  const auto config_key = prefix + "/config";
  std::optional<standin::NetworkConfig> network;
  for (int attempt = 1; !network; ++attempt) {
    auto value = etcd.get(config_key);
    std::string problem;
    if (!value) {
      problem = value.error().message;
    } else if (!value.value()) {
      problem = "100: Key not found (" + config_key + ")";
    } else {
      auto parsed = standin::parse_network_config(value.value()->value);
      if (parsed)
        network = parsed.value();
      else
        problem = parsed.error().message;
    }
    if (network) break;
    spdlog::error("Couldn't fetch network config: {}", problem);
    if (attempt >= flags.config_attempts) {
      spdlog::error("Giving up after {} attempts", attempt);
      return 1;
    }
    if (exit_signal_within(milliseconds(flags.retry_interval_ms))) return 0;
  }

  const standin::LeaseRequest request{prefix, *ip, seconds(flags.lease_ttl_s)};
  auto lease = standin::acquire_lease(etcd, *network, request,
                                      standin::previous_subnet(flags.subnet_file, *network));
  if (!lease) {
    spdlog::error("Failed to acquire lease: {}", lease.error().message);
    return 1;
  }
  if (auto written =
          standin::write_subnet_env(flags.subnet_file, *network, lease.value(), flags.ip_masq);
      !written) {
    spdlog::error("Failed to write subnet file: {}", written.error().message);
    return 1;
  }
  spdlog::info("Subnet lease acquired: {}", lease.value().cidr);

  // flannel renews an hour into a day-long lease; shortened TTLs renew proportionally sooner.
  const auto renew_every =
      milliseconds(std::clamp<long>(flags.lease_ttl_s * 1000 / 3, 500, 3'600'000));
  while (!exit_signal_within(renew_every)) {
    auto renewed = standin::renew_lease(etcd, *network, request, lease.value());
    if (renewed) {
      spdlog::info("Lease renewed: {}", lease.value().cidr);
    } else if (renewed.error().kind == EtcdErrorKind::unreachable ||
               renewed.error().kind == EtcdErrorKind::timeout) {
      spdlog::warn("Lease renewal failed, will retry: {}", renewed.error().message);
    } else {
      spdlog::error("Lost lease {}: {}", lease.value().cidr, renewed.error().message);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto signals = exit_signals();
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  spdlog::set_default_logger(spdlog::stderr_color_st("flanneld"));
  spdlog::set_pattern("%L%m%d %H:%M:%S.%f %P flanneld] %v");

  Flags flags;
  CLI::App app{"flanneld stand-in for kube-node-agent's tests and demo"};
  // Like flannel, every flag can also come from FLANNELD_<FLAG> in the environment.
  app.add_option("--etcd-endpoints", flags.etcd_endpoints, "comma-separated etcd URLs")
      ->envname("FLANNELD_ETCD_ENDPOINTS");
  app.add_option("--etcd-prefix", flags.etcd_prefix)->envname("FLANNELD_ETCD_PREFIX");
  app.add_option("--iface", flags.iface, "interface name or address")->envname("FLANNELD_IFACE");
  app.add_flag("--ip-masq", flags.ip_masq)->envname("FLANNELD_IP_MASQ");
  app.add_option("--subnet-file", flags.subnet_file)->envname("FLANNELD_SUBNET_FILE");
  app.add_option("--public-ip", flags.public_ip)->envname("FLANNELD_PUBLIC_IP");
  app.add_option("--etcd-api", flags.etcd_api, "v2 or v3 (stand-in only)")
      ->envname("FLANNELD_ETCD_API");
  app.add_option("--lease-ttl-s", flags.lease_ttl_s, "subnet lease TTL (stand-in only)")
      ->check(CLI::PositiveNumber)
      ->envname("FLANNELD_LEASE_TTL_S");
  app.add_option("--config-attempts", flags.config_attempts,
                 "reads of the network config before giving up (stand-in only)")
      ->check(CLI::PositiveNumber)
      ->envname("FLANNELD_CONFIG_ATTEMPTS");
  app.add_option("--retry-interval-ms", flags.retry_interval_ms,
                 "pause between reads of the network config (stand-in only)")
      ->check(CLI::NonNegativeNumber)
      ->envname("FLANNELD_RETRY_INTERVAL_MS");
  app.allow_extras();  // real flanneld has many more flags; they do not matter here
  CLI11_PARSE(app, argc, argv);
  for (const auto& extra : app.remaining()) spdlog::warn("Ignoring unsupported argument {}", extra);
  return run(flags);
}
