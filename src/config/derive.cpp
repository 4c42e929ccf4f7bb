#include <vector>

#include <fmt/format.h>

#include "config/checks.hpp"
#include "config/machine.hpp"
#include "config/options.hpp"
#include "config/validate.hpp"

namespace kna::config {
namespace {

std::string env_value(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

std::string lowercase(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool is_default(const Layers& layers, const std::string& key) {
  return layers.origin(key).source == ValueSource::default_value;
}

}  // namespace

void apply_machine_defaults(Layers& layers, const std::map<std::string, std::string>& env,
                            const MachineFacts& machine) {
  if (layers.string_at("node_name").empty()) {
    bool found = false;
    for (const char* var : {"RESIN_DEVICE_UUID", "BALENA_DEVICE_UUID"}) {
      if (auto uuid = env_value(env, var); !uuid.empty()) {
        layers.set("node_name", uuid, Origin{ValueSource::env, var});
        found = true;
        break;
      }
    }
    // kubelet lowercases the host name for the node name too.
    if (!found)
      layers.set("node_name", lowercase(machine.hostname),
                 Origin{ValueSource::machine, "host name"});
  }

  if (layers.string_at("arch").empty()) {
    const Origin uname{ValueSource::machine, "uname -m"};
    if (auto arch = arch_from_uname(machine.uname_machine); !arch.empty()) {
      layers.set("arch", arch, uname);
    } else {
      layers.problem("arch", uname,
                     fmt::format("cannot map machine \"{}\" to an architecture; {} to one of "
                                 "amd64, arm, arm64, ppc64le",
                                 machine.uname_machine, how_to_set("arch")));
    }
  }

  if (layers.string_at("net_interface").empty()) {
    const Origin route{ValueSource::machine, "default route"};
    if (!machine.default_route_interface.empty()) {
      layers.set("net_interface", machine.default_route_interface, route);
    } else if (layers.at("stages.flannel.enabled").get<bool>()) {
      layers.problem("net_interface", route,
                     fmt::format("there is no default route to take flannel's interface from; {}",
                                 how_to_set("net_interface")));
    }
  }

  if (layers.string_at("master_ip").empty()) {
    const std::string role = layers.string_at("role");
    if (role == "master") {
      const Origin address{ValueSource::machine, "address of the default route's interface"};
      if (!machine.default_route_address.empty()) {
        layers.set("master_ip", machine.default_route_address, address);
      } else {
        layers.problem("master_ip", address,
                       fmt::format("no IPv4 address found to advertise for this master; {}",
                                   how_to_set("master_ip")));
      }
    } else if (role == "worker") {
      layers.problem("master_ip", Origin{ValueSource::default_value, "not set"},
                     "MASTER_IP is required for a worker: " + how_to_set("master_ip"));
    }
  }
}

void apply_derived_defaults(Layers& layers) {
  const Tree& timeout = layers.at("timeout_for_services");
  if (timeout.is_number_integer() && timeout.get<std::int64_t>() > 0 &&
      timeout.get<std::int64_t>() <= kMaxTimeoutForServices) {
    const Origin origin = layers.origin("timeout_for_services");
    std::vector<std::string> stages;
    for (const auto& item : layers.tree().at("stages").items()) stages.push_back(item.key());
    for (const auto& stage : stages) {
      const std::string key = fmt::format("stages.{}.probe.deadline_ms", stage);
      if (is_default(layers, key)) layers.set(key, timeout.get<std::int64_t>() * 1000, origin);
    }
  }

  // Several nodes on one machine only need distinct run and state folders.
  const auto follow = [&layers](const std::string& key, const std::string& base, const char* leaf) {
    const std::string dir = layers.string_at(base);
    if (is_default(layers, key) && !is_default(layers, base) && dir.starts_with('/'))
      layers.set(key, dir + "/" + leaf, layers.origin(base));
  };
  follow("paths.status_socket", "paths.run_dir", "agent.sock");
  follow("paths.image_dir", "paths.state_dir", "images");
  follow("paths.kubeconfig", "paths.state_dir", "kubeconfig");
  follow("paths.bootstrap_kubeconfig", "paths.state_dir", "bootstrap-kubeconfig");
  follow("paths.cluster_ca", "paths.state_dir", "cluster-ca.crt");

  // The API server's insecure port went in v1.20: from then on a node joins over TLS, on 6443.
  const std::string master_ip = layers.string_at("master_ip");
  if (layers.string_at("cluster.api_server").empty() && !master_ip.empty()) {
    const auto version = kubernetes_minor(layers.string_at("k8s_version"));
    // A master serves its API server the same way: TLS from v1.20 (validate_cluster.cpp).
    const bool tls = version && *version >= std::pair{1, 20};
    layers.set(
        "cluster.api_server",
        tls ? "https://" + master_ip + ":6443" : "http://" + master_ip + ":8080",
        Origin{ValueSource::default_value,
               tls ? "default from MASTER_IP (K8S_VERSION v1.20 or later: TLS)"
                   : "default from MASTER_IP (K8S_VERSION before v1.20: the insecure port)"});
  }
}

}  // namespace kna::config
