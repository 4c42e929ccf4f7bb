// Checks of the master's control plane: the Kubernetes version it can run and the service network
// of its API server. Only a master runs the control plane, so only a master is checked: a
// worker's DNS_SERVER_IP follows the master's range, which the worker cannot see.

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "config/checks.hpp"
#include "config/validate.hpp"
#include "kna/ipv4.hpp"

namespace kna::config {
namespace {

constexpr const char* kServiceRange = "control_plane.service_cluster_ip_range";

void check_service_range_on_master(Layers& l, const Ipv4Cidr& range) {
  const std::string network = format_cidr(range.network(), range.prefix);
  if (auto flannel = parse_cidr(l.string_at("flannel_network"))) {
    // Two networks overlap when they agree on the shorter of their prefixes.
    const int prefix = std::min(range.prefix, flannel->prefix);
    if (Ipv4Cidr{range.address, prefix}.contains(Ipv4Cidr{flannel->address, prefix}))
      l.problem(kServiceRange,
                fmt::format("{} overlaps flannel_network {}; service addresses inside the pod "
                            "network would be routed to pods: use a range outside it, such as "
                            "10.0.0.0/24 with 10.1.0.0/16",
                            shown(l, kServiceRange), l.string_at("flannel_network")));
  }

  const auto dns = parse_ipv4(l.string_at("dns_server_ip"));
  if (!dns) return;  // reported on its own
  const std::string dns_text = l.string_at("dns_server_ip");
  const std::string dns_origin = describe(l.origin("dns_server_ip"));
  if (!range.contains(Ipv4Cidr{*dns, 32})) {
    l.problem(kServiceRange,
              fmt::format("{} does not contain dns_server_ip {} ({}); the cluster DNS service "
                          "takes its address from this range: use a range that holds it, or a "
                          "DNS_SERVER_IP inside {}",
                          shown(l, kServiceRange), dns_text, dns_origin, network));
    return;
  }
  // The API server gives the range's first address to the `kubernetes` service.
  const std::uint32_t broadcast = range.network() | ~range.mask();
  if (*dns == range.network() || *dns == range.network() + 1 || *dns == broadcast)
    l.problem(kServiceRange,
              fmt::format("{} cannot give dns_server_ip {} ({}) to the DNS service: it is the "
                          "range's network, broadcast or first address (the API server takes the "
                          "first for the kubernetes service); use another DNS_SERVER_IP inside "
                          "{}, such as {}",
                          shown(l, kServiceRange), dns_text, dns_origin, network,
                          format_ipv4(range.network() + 10)));
}

}  // namespace

void validate_control_plane(Layers& l) {
  const bool master = l.string_at("role") == "master";
  for (const char* image : {"apiserver_image", "controller_manager_image", "scheduler_image"})
    check_image(l, std::string("control_plane.") + image);

  const auto range = parse_cidr(l.string_at(kServiceRange));
  if (!range) {
    l.problem(kServiceRange,
              fmt::format("{} is not a network in CIDR notation; use an address and a prefix "
                          "length such as 10.0.0.0/24",
                          shown(l, kServiceRange)));
    return;
  }
  if (master) check_service_range_on_master(l, *range);
}

}  // namespace kna::config
