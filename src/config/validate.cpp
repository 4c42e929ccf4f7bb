#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <initializer_list>
#include <vector>

#include <fmt/format.h>

#include "config/checks.hpp"
#include "config/options.hpp"
#include "kna/ipv4.hpp"

namespace kna::config {
namespace {

using Allowed = std::initializer_list<std::string_view>;

std::string list(Allowed allowed) {
  std::string out;
  for (auto a : allowed) out += fmt::format("{}{}", out.empty() ? "" : ", ", a);
  return out;
}

// The default of a paths.* key, to show what an absolute path there looks like.
std::string example_path(const std::string& key) {
  static const Tree defaults = config_to_tree(default_config()).at("paths");
  const auto name = key.substr(key.find('.') + 1);
  return defaults.contains(name) ? defaults.at(name).get<std::string>() : "/var/lib/example";
}

bool one_of(const std::string& value, Allowed allowed) {
  for (auto a : allowed)
    if (value == a) return true;
  return false;
}

// Checks of one configuration; `l` collects the problems.
class Validator {
 public:
  explicit Validator(Layers& l) : l_(l) {}

  void run() {
    check_enum("role", "a role", {"master", "worker"});
    check_node_name();
    check_version("k8s_version", is_kubernetes_version,
                  "a Kubernetes version; use the form v1.2.4 (a pre-release such as "
                  "v1.3.0-alpha.5 is allowed)");
    check_version("etcd_version", is_component_version,
                  "an etcd version; use the form 2.2.5 or v3.0.4");
    check_version("flannel_version", is_component_version,
                  "a flannel version; use the form 0.5.5 or v0.6.1");
    check_flannel_network();
    check_enum("flannel_backend", "a flannel backend",
               {"udp", "vxlan", "host-gw", "aws-vpc", "gce", "alloc"});
    check_enum("flannel_etcd_api", "an etcd API version", {"v2", "v3"});
    check_etcd_prefix();
    check_dns_domain();
    check_ipv4("dns_server_ip");
    check_dns_inside_network();
    check_restart_policy();
    if (!str("master_ip").empty()) check_ipv4("master_ip");
    if (!str("arch").empty())
      check_enum("arch", "an architecture", {"amd64", "arm", "arm64", "ppc64le"});
    check_interface();
    check_timeout();
    validate_control_plane(l_);
    validate_cluster_access(l_);
    check_enum("log.level", "a log level",
               {"trace", "debug", "info", "warn", "error", "critical", "off"});
    check_enum("log.format", "a log format", {"text", "json"});
    check_enum("init.container", "a container-init mode", {"auto", "on", "off"});
    check_socket_group();
    check_enum("api.socket_mode", "a mode for the status socket", {"0600", "0660", "0666"});
    check_metrics_address();
    for (const auto& item : l_.tree().at("paths").items()) check_path("paths." + item.key());
    for (const auto& item : l_.tree().at("stages").items()) check_stage("stages." + item.key());
  }

 private:
  std::string str(const std::string& key) const { return l_.string_at(key); }
  std::int64_t integer(const std::string& key) const { return l_.at(key).get<std::int64_t>(); }
  double number(const std::string& key) const { return l_.at(key).get<double>(); }
  std::string shown(const std::string& key) const { return shown_value(key, l_.at(key)); }
  void fail(const std::string& key, const std::string& message) { l_.problem(key, message); }

  void check_enum(const std::string& key, std::string_view what, Allowed allowed) {
    if (!one_of(str(key), allowed))
      fail(key, fmt::format("{} is not {}; use one of {}", shown(key), what, list(allowed)));
  }

  void check_version(const std::string& key, bool (*valid)(std::string_view),
                     std::string_view what) {
    if (!valid(str(key))) fail(key, fmt::format("{} is not {}", shown(key), what));
  }

  void check_node_name() {
    const std::string name = str("node_name");
    if (name.empty()) {
      fail("node_name", fmt::format("no node name could be found; {} (or RESIN_DEVICE_UUID)",
                                    how_to_set("node_name")));
      return;
    }
    if (is_dns1123_subdomain(name)) return;
    std::string message = fmt::format(
        "{} is not a valid node name: it must be a DNS-1123 subdomain (lowercase letters, digits, "
        "'-' and '.', starting and ending with a letter or digit, at most 253 characters)",
        shown("node_name"));
    std::string lower = name;
    for (char& c : lower)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (lower != name && is_dns1123_subdomain(lower))
      message += fmt::format("; did you mean \"{}\"?", lower);
    fail("node_name", message);
  }

  void check_socket_group() {
    const std::string group = str("api.socket_group");
    const bool name_ok =
        !group.empty() && group.size() <= 32 && group.front() != '-' &&
        std::all_of(group.begin(), group.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (!group.empty() && !name_ok)
      fail("api.socket_group",
           fmt::format("{} is not a group name or number (letters, digits, '_', '-', '.')",
                       shown("api.socket_group")));
  }

  void check_metrics_address() {
    const std::string address = str("metrics.address");
    if (address.empty()) return;
    const auto colon = address.rfind(':');
    const std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
    const bool port_ok = !port.empty() && port.size() <= 5 &&
                         std::all_of(port.begin(), port.end(), ::isdigit) && std::stoi(port) >= 1 &&
                         std::stoi(port) <= 65535;
    const bool host_ok = host.empty() || host == "localhost" || static_cast<bool>(parse_ipv4(host));
    if (colon == std::string::npos || !port_ok || !host_ok)
      fail("metrics.address",
           fmt::format("{} is not IPV4:PORT; use e.g. 127.0.0.1:9101, or :9101 for every address "
                       "(the control API never listens on TCP: this serves /metrics only)",
                       shown("metrics.address")));
  }

  void check_dns_domain() {
    if (!is_dns1123_subdomain(str("dns_domain")))
      fail("dns_domain", fmt::format("{} is not a DNS domain; use lowercase letters, digits, '-' "
                                     "and '.', such as cluster.local",
                                     shown("dns_domain")));
  }

  bool check_ipv4(const std::string& key) {
    auto address = parse_ipv4(str(key));
    if (!address) {
      fail(key, fmt::format("{} is not an IPv4 address; use four numbers 0-255 such as 10.0.0.10",
                            shown(key)));
      return false;
    }
    if (*address == 0 || *address == 0xffffffff) {
      fail(key, fmt::format("{} cannot be reached as a single host; use a host's own address",
                            shown(key)));
      return false;
    }
    return true;
  }

  void prefix_out_of_range(const std::string& key, const std::string& prefix) {
    fail(key, fmt::format("{} has prefix length {}; use {} to {} (flannel leases a subnet per "
                          "node out of it, /28 at the smallest)",
                          shown(key), prefix, kMinFlannelPrefix, kMaxFlannelPrefix));
  }

  void check_flannel_network() {
    const std::string key = "flannel_network";
    const std::string text = str(key);
    auto network = parse_cidr(text);
    const auto slash = text.find('/');
    if (!network && slash != std::string::npos && parse_ipv4(text.substr(0, slash)) &&
        text.size() > slash + 1 && text.size() <= slash + 3 &&
        text.find_first_not_of("0123456789", slash + 1) == std::string::npos) {
      prefix_out_of_range(key, text.substr(slash + 1));
      return;
    }
    if (!network) {
      fail(key, fmt::format("{} is not a network in CIDR notation; use an address and a prefix "
                            "length such as 10.1.0.0/16",
                            shown(key)));
      return;
    }
    if (network->prefix < kMinFlannelPrefix || network->prefix > kMaxFlannelPrefix) {
      prefix_out_of_range(key, std::to_string(network->prefix));
      return;
    }
    const std::uint32_t base = network->network();
    if (network->host_bits_set())
      fail(key, fmt::format("{} has host bits set; did you mean {}/{}?", shown(key),
                            format_ipv4(base), network->prefix));
  }

  // Service addresses inside the pod network would be routed to pods.
  void check_dns_inside_network() {
    auto network = parse_cidr(str("flannel_network"));
    auto dns = parse_ipv4(str("dns_server_ip"));
    if (!network || !dns || network->prefix < kMinFlannelPrefix ||
        network->prefix > kMaxFlannelPrefix)
      return;
    if ((*dns & network->mask()) == network->network())
      fail("dns_server_ip",
           fmt::format("{} lies inside flannel_network {}; use a service address outside the pod "
                       "network, such as 10.0.0.10 with 10.1.0.0/16",
                       shown("dns_server_ip"), str("flannel_network")));
  }

  void check_etcd_prefix() {
    const std::string prefix = str("flannel_etcd_prefix");
    if (!prefix.starts_with('/') || prefix.size() < 2 || prefix.ends_with('/'))
      fail("flannel_etcd_prefix",
           fmt::format("{} is not an etcd key prefix; use an absolute key without a trailing '/', "
                       "such as /coreos.com/network",
                       shown("flannel_etcd_prefix")));
  }

  void check_restart_policy() {
    const std::string policy = str("restart_policy");
    if (one_of(policy, {"no", "always", "unless-stopped", "on-failure"})) return;
    // docker also takes a retry count: on-failure:5
    constexpr std::string_view kOnFailure = "on-failure:";
    if (policy.starts_with(kOnFailure) && policy.size() > kOnFailure.size() &&
        policy.find_first_not_of("0123456789", kOnFailure.size()) == std::string::npos)
      return;
    fail("restart_policy",
         fmt::format("{} is not a docker restart policy; use one of no, always, unless-stopped, "
                     "on-failure (or on-failure:N)",
                     shown("restart_policy")));
  }

  void check_interface() {
    const std::string iface = str("net_interface");
    if (!iface.empty() && !is_interface_name(iface))
      fail("net_interface",
           fmt::format("{} is not a plausible interface name; use 1 to 15 characters without "
                       "'/', ':' or spaces, such as eth0",
                       shown("net_interface")));
  }

  void check_timeout() {
    const std::int64_t seconds = integer("timeout_for_services");
    if (seconds < 1 || seconds > kMaxTimeoutForServices)
      fail("timeout_for_services",
           fmt::format("{} is not a positive whole number of seconds; use 1 to {} (how long each "
                       "readiness wait lasts)",
                       seconds, kMaxTimeoutForServices));
  }

  void check_path(const std::string& key) {
    const std::string path = str(key);
    const std::string example = example_path(key);
    if (!path.starts_with('/')) {
      fail(key, fmt::format("{} is not an absolute path; use one that starts with '/', such as {}",
                            shown(key), example));
      return;
    }
    // sun_path holds 108 bytes including the terminating NUL.
    constexpr std::size_t kMaxSocketPath = 107;
    if (key.ends_with("_socket") && path.size() > kMaxSocketPath)
      fail(key, fmt::format("{} is {} bytes long; a unix socket path can be at most {} bytes",
                            shown(key), path.size(), kMaxSocketPath));
  }

  void positive(const std::string& key, std::string_view meaning) {
    if (integer(key) <= 0)
      fail(key, fmt::format("{} is not positive; use a number above 0 ({})", shown(key), meaning));
  }

  void check_stage(const std::string& stage) {
    const std::string runtime = stage + ".runtime";
    check_enum(runtime, "a runtime", {"container", "process"});

    const std::string binary_key = stage + ".binary";
    const std::string binary = str(binary_key);
    if (binary.find('/') != std::string::npos && !binary.starts_with('/')) {
      fail(binary_key,
           fmt::format("{} contains '/' but is not an absolute path; use an absolute "
                       "path such as /usr/bin/dockerd, or a bare name looked up in PATH",
                       shown(binary_key)));
    } else if (binary.empty() && str(runtime) == "process" &&
               l_.at(stage + ".enabled").get<bool>()) {
      fail(binary_key,
           "a stage run as a process needs a binary; use an absolute path or a bare "
           "name looked up in PATH");
    }

    check_image(l_, stage + ".image");

    for (const auto& item : l_.at(stage + ".env").items()) {
      const std::string& name = item.key();
      if (name.empty() || name.find('=') != std::string::npos)
        fail(stage + ".env." + name,
             fmt::format("\"{}\" is not an environment variable name; use a non-empty name "
                         "without '='",
                         name));
    }

    const std::string b = stage + ".backoff.";
    positive(b + "initial_ms", "the first restart delay in milliseconds");
    if (number(b + "multiplier") < 1.0)
      fail(b + "multiplier", fmt::format("{} is less than 1; use 1 for a fixed delay or more, such "
                                         "as 2 to double each time",
                                         shown(b + "multiplier")));
    if (integer(b + "max_ms") < integer(b + "initial_ms"))
      fail(b + "max_ms", fmt::format("{} is less than backoff.initial_ms ({}); use a cap of at "
                                     "least the initial delay",
                                     shown(b + "max_ms"), integer(b + "initial_ms")));
    const double jitter = number(b + "jitter");
    if (jitter < 0.0 || jitter >= 1.0)
      fail(b + "jitter", fmt::format("{} is out of range; use a fraction from 0 up to (not "
                                     "including) 1, such as 0.1",
                                     shown(b + "jitter")));
    positive(b + "reset_after_ms", "how long a stage must stay ready to reset its backoff, in ms");

    const std::string p = stage + ".probe.";
    positive(p + "interval_ms", "milliseconds between readiness attempts");
    positive(p + "timeout_ms", "milliseconds each attempt may take");
    positive(p + "deadline_ms", "milliseconds a stage has to become ready");
    positive(p + "period_ms", "milliseconds between probes once ready");
    positive(p + "failure_threshold", "failures in a row that make a stage unready");
    if (integer(p + "failure_threshold") > INT_MAX)
      fail(p + "failure_threshold",
           fmt::format("{} is too large; use at most {}", shown(p + "failure_threshold"), INT_MAX));

    const std::string stop = stage + ".stop_timeout_ms";
    if (integer(stop) < 0)
      fail(stop, fmt::format("{} is negative; use 0 (kill at once) or more milliseconds between "
                             "SIGTERM and SIGKILL",
                             shown(stop)));
  }

  Layers& l_;
};

}  // namespace

void validate(Layers& layers) {
  Validator(layers).run();
}

void check_image(Layers& layers, const std::string& key) {
  const std::string image = layers.string_at(key);
  if (image.find_first_of(" \t\n\r") != std::string::npos || image.starts_with('-'))
    layers.problem(key, fmt::format("{} is not an image reference; use a name such as "
                                    "quay.io/coreos/flannel:v0.6.1-amd64 (empty: chosen from ARCH "
                                    "and the version)",
                                    shown_value(key, layers.at(key))));
}

}  // namespace kna::config
