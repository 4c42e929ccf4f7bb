#include "config/report.hpp"

#include <fmt/format.h>

namespace kna {

std::vector<std::string> startup_report(const Config& c) {
  const std::vector<std::pair<const char*, std::string>> options{
      {"K8S_VERSION", c.k8s_version},
      {"ETCD_VERSION", c.etcd_version},
      {"FLANNEL_VERSION", c.flannel_version},
      {"FLANNEL_IPMASQ", c.flannel_ipmasq ? "true" : "false"},
      {"FLANNEL_NETWORK", c.flannel_network},
      {"FLANNEL_BACKEND", c.flannel_backend},
      {"DNS_DOMAIN", c.dns_domain},
      {"DNS_SERVER_IP", c.dns_server_ip},
      {"RESTART_POLICY", c.restart_policy},
      {"MASTER_IP", c.master_ip},
      {"ARCH", c.arch},
      {"NET_INTERFACE", c.net_interface},
      {"TIMEOUT_FOR_SERVICES", std::to_string(c.timeout_for_services)},
  };
  std::vector<std::string> lines;
  lines.reserve(options.size());
  for (const auto& [name, value] : options)
    lines.push_back(fmt::format("{} is set to: {}", name, value));
  return lines;
}

}  // namespace kna
