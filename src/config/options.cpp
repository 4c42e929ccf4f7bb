#include "config/options.hpp"

#include <fmt/format.h>

namespace kna::config {

const std::vector<OptionName>& option_names() {
  static const std::vector<OptionName> names{
      {"role", "KNA_ROLE", "--role", "node role: master or worker"},
      {"node_name", "KNA_NODE_NAME", "--node-name",
       "Kubernetes node name (default: RESIN_DEVICE_UUID, BALENA_DEVICE_UUID, host name)"},
      {"master_ip", "MASTER_IP", "--master-ip", "address of the API server and etcd"},
      {"k8s_version", "K8S_VERSION", "--k8s-version", "Kubernetes version, e.g. v1.3.6"},
      {"etcd_version", "ETCD_VERSION", "--etcd-version", "etcd image version, e.g. 2.2.5"},
      {"flannel_version", "FLANNEL_VERSION", "--flannel-version",
       "flannel image version, e.g. 0.5.5"},
      {"flannel_ipmasq", "FLANNEL_IPMASQ", "--flannel-ipmasq", "flanneld --ip-masq (true/false)"},
      {"flannel_network", "FLANNEL_NETWORK", "--flannel-network",
       "overlay network written into etcd, e.g. 10.1.0.0/16"},
      {"flannel_backend", "FLANNEL_BACKEND", "--flannel-backend",
       "flannel backend: udp, vxlan, host-gw, aws-vpc, gce, alloc"},
      {"flannel_etcd_api", "KNA_FLANNEL_ETCD_API", "--flannel-etcd-api",
       "etcd API flannel reads its network config from: v2 or v3"},
      {"dns_domain", "DNS_DOMAIN", "--dns-domain", "kubelet --cluster-domain"},
      {"dns_server_ip", "DNS_SERVER_IP", "--dns-server-ip", "kubelet --cluster-dns"},
      {"restart_policy", "RESTART_POLICY", "--restart-policy",
       "docker restart policy: no, always, unless-stopped, on-failure"},
      {"arch", "ARCH", "--arch", "amd64, arm, arm64 or ppc64le (default from uname -m)"},
      {"net_interface", "NET_INTERFACE", "--net-interface",
       "interface flannel uses (default: the default route's)"},
      {"timeout_for_services", "TIMEOUT_FOR_SERVICES", "--timeout-for-services",
       "seconds each readiness wait lasts"},
      {"api_token", "KNA_API_TOKEN", "", "bearer token for the API server"},
      {"cluster.api_server", "KNA_API_SERVER", "--api-server",
       "URL of the API server (default http://MASTER_IP:8080 up to v1.19, "
       "https://MASTER_IP:6443 from v1.20)"},
      {"cluster.ca_file", "KNA_CA_FILE", "--ca-file", "PEM file of the cluster's CA"},
      {"cluster.ca_cert_hash", "KNA_CA_CERT_HASH", "--discovery-token-ca-cert-hash",
       "pin of the cluster's CA, sha256:<hex> (kubeadm's), checked when joining by token"},
      {"cluster.token", "KNA_JOIN_TOKEN", "",
       "bootstrap token <id>.<secret> to join with (kubeadm token create)"},
      {"cluster.client_cert_file", "KNA_CLIENT_CERT_FILE", "--client-cert-file",
       "PEM client certificate for the API server (instead of a token)"},
      {"cluster.client_key_file", "KNA_CLIENT_KEY_FILE", "--client-key-file",
       "PEM key of cluster.client_cert_file"},
      {"control_plane.service_cluster_ip_range", "SERVICE_CLUSTER_IP_RANGE", "",
       "the master's service network; holds DNS_SERVER_IP"},
      {"control_plane.pki_dir", "KNA_PKI_DIR", "--pki-dir",
       "a TLS master's cluster PKI in kubeadm's layout (ca.crt, ca.key, apiserver.crt/.key, "
       "sa.key, sa.pub)"},
      {"paths.status_socket", "KNA_STATUS_SOCKET", "--status-socket",
       "unix socket of the status API"},
      {"paths.state_dir", "", "--state-dir", "directory for the agent's checkpoints"},
      {"paths.run_dir", "", "--run-dir", "directory for the agent's runtime files"},
      {"log.level", "KNA_LOG_LEVEL", "--log-level",
       "trace, debug, info, warn, error, critical or off"},
      {"log.format", "KNA_LOG_FORMAT", "--log-format", "text or json"},
      {"init.container", "KNA_CONTAINER_INIT", "--container-init",
       "PID-1 duties before any stage (cgroups, / shared): auto (when PID 1), on or off"},
      {"init.hostname", "KNA_SET_HOSTNAME", "--set-hostname",
       "set the host name to the node name, as Resin's start.sh did (true/false)"},
      {"api.socket_group", "KNA_SOCKET_GROUP", "--socket-group",
       "group that may restart stages and read their logs through the status socket"},
      {"api.socket_mode", "", "", "octal mode of the status socket (0600, 0660 or 0666)"},
      {"metrics.address", "KNA_METRICS_ADDRESS", "--metrics-address",
       "IPV4:PORT to serve /metrics on over TCP as well (off by default)"},
  };
  return names;
}

const OptionName* find_option_name(std::string_view key) {
  for (const auto& n : option_names())
    if (n.key == key) return &n;
  return nullptr;
}

std::string how_to_set(std::string_view key) {
  const OptionName* n = find_option_name(key);
  std::vector<std::string> ways;
  if (n != nullptr && !n->env.empty()) ways.emplace_back(n->env);
  if (n != nullptr && !n->flag.empty())
    ways.emplace_back(n->flag);
  else
    ways.push_back(fmt::format("--set {}=...", key));
  ways.push_back(fmt::format("{} in the config file", key));
  if (ways.size() == 2) return fmt::format("set {} or {}", ways[0], ways[1]);
  return fmt::format("set {}, {} or {}", ways[0], ways[1], ways[2]);
}

}  // namespace kna::config
