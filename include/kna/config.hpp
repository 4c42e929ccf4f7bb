#pragma once
// The one validated configuration of a node. Built by src/config from defaults < JSON file <
// environment < flags; everything after that reads it and never the environment directly.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kna/time.hpp"

namespace kna {

enum class Role { master, worker };
enum class RuntimeKind { container, process };
enum class LogFormat { text, json };
enum class EtcdApi { v2, v3 };

// Stage names, in start order. Also the keys of Config::stages.
inline constexpr const char* kStageBootstrapDocker = "bootstrap-docker";
inline constexpr const char* kStageEtcd = "etcd";
inline constexpr const char* kStageFlannel = "flannel";
inline constexpr const char* kStageMainDocker = "main-docker";
inline constexpr const char* kStageCriDockerd = "cri-dockerd";
inline constexpr const char* kStageKubelet = "kubelet";
inline constexpr const char* kStageKubeProxy = "kube-proxy";

// Restart delays: initial, then multiplied after each failure up to cap, each delay randomised by
// ±jitter; back to initial once the stage has stayed ready for reset_after.
struct BackoffPolicy {
  Millis initial{100};
  double multiplier{2.0};
  Millis cap{30'000};
  double jitter{0.10};
  Millis reset_after{60'000};
  bool operator==(const BackoffPolicy&) const = default;
};

// Readiness probing: one attempt every `interval`, each bounded by `timeout`; a stage that is not
// ready within `deadline` of starting (default TIMEOUT_FOR_SERVICES) is restarted. Once ready it is
// re-probed every `period`; `failure_threshold` failures in a row make it unready.
struct ProbePolicy {
  Millis interval{100};
  Millis timeout{2'000};
  Millis deadline{20'000};
  Millis period{5'000};
  int failure_threshold{3};
  bool operator==(const ProbePolicy&) const = default;
};

struct StageConfig {
  bool enabled{true};
  RuntimeKind runtime{RuntimeKind::process};
  std::string image;   // container runtime; empty = chosen from ARCH and version
  std::string binary;  // process runtime; an absolute path, or a bare name searched in PATH
  std::vector<std::string> extra_args;     // appended to the built-in arguments
  std::map<std::string, std::string> env;  // added to the child's environment
  // Container runtime: run privileged (flanneld, kubelet and kube-proxy need it to manage the
  // host's network; a sandbox without every capability cannot grant it).
  bool privileged{false};
  BackoffPolicy backoff;
  ProbePolicy probe;
  Millis stop_timeout{10'000};  // SIGTERM (or docker stop) → this long → SIGKILL
};

// Every host path the agent touches. All absolute; all overridable so that several nodes can run
// on one machine.
struct Paths {
  std::string bootstrap_docker_socket{"/var/run/docker-bootstrap.sock"};
  std::string bootstrap_docker_data_root{"/var/lib/docker-bootstrap"};
  std::string bootstrap_docker_exec_root{"/var/run/docker-bootstrap"};
  std::string bootstrap_docker_pidfile{"/var/run/docker-bootstrap.pid"};
  std::string main_docker_socket{"/var/run/docker.sock"};
  std::string main_docker_data_root{"/var/lib/docker"};
  std::string main_docker_exec_root{"/var/run/docker"};
  std::string main_docker_pidfile{"/var/run/docker.pid"};
  std::string cri_dockerd_socket{"/run/cri-dockerd.sock"};
  std::string flannel_run_dir{"/run/flannel"};  // holds subnet.env
  std::string etcd_data_dir{"/var/lib/kubelet/etcd"};
  std::string kubelet_dir{"/var/lib/kubelet"};
  std::string kubelet_manifests_dir{"/etc/kubernetes/manifests-multi"};
  std::string container_logs_dir{"/var/log/containers"};
  std::string state_dir{"/var/lib/kube-node-agent"};
  std::string run_dir{"/run/kube-node-agent"};
  std::string status_socket{"/run/kube-node-agent/agent.sock"};
  std::string image_dir{"/var/lib/kube-node-agent/images"};  // *.tar loaded at start (airgap)
  // Written by the agent (mode 0600) for kubelet and kube-proxy from Kubernetes v1.6; with a join
  // token, for kube-proxy only (the kubelet writes its own after its TLS bootstrap).
  std::string kubeconfig{"/var/lib/kube-node-agent/kubeconfig"};
  // Join by token (ClusterAccess): the kubelet's --bootstrap-kubeconfig (CA + token, mode 0600),
  // and the cluster's CA as discovery accepted it (a PEM file, for kube-proxy and the agent).
  std::string bootstrap_kubeconfig{"/var/lib/kube-node-agent/bootstrap-kubeconfig"};
  std::string cluster_ca{"/var/lib/kube-node-agent/cluster-ca.crt"};
  bool operator==(const Paths&) const = default;
};

// The master's control plane, run by its kubelet as static pods from paths.kubelet_manifests_dir.
struct ControlPlaneConfig {
  // Empty: chosen from K8S_VERSION and ARCH (hyperkube up to v1.18, one image per component after).
  std::string apiserver_image;
  std::string controller_manager_image;
  std::string scheduler_image;
  std::string service_cluster_ip_range{"10.0.0.1/24"};  // holds DNS_SERVER_IP
  // A master over TLS (from v1.20): the cluster's PKI in kubeadm's layout (ca.crt, ca.key,
  // apiserver.crt, apiserver.key, sa.key, sa.pub; `kubeadm init phase certs all` makes it). The
  // agent mints its components' client certificates with the CA's key (docs/joining.md).
  std::string pki_dir{"/etc/kubernetes/pki"};
  bool operator==(const ControlPlaneConfig&) const = default;
};

// PID-1 duties in a container (src/platform/container_init): cgroups, / shared, the host name.
enum class ContainerInit { auto_detect, on, off };

struct InitConfig {
  ContainerInit container{ContainerInit::auto_detect};  // auto: when the agent is PID 1
  bool hostname{false};  // set the host name to node_name (as Resin's start.sh did)
  bool operator==(const InitConfig&) const = default;
};

// The agent's own API (docs/configuration.md#api-and-metrics).
struct ApiConfig {
  std::string socket_group;         // may restart stages and read logs; "" for root only
  std::string socket_mode{"0660"};  // octal, of paths.status_socket
  std::string metrics_address;      // "IPV4:PORT" to serve /metrics over TCP too; "" for none
  bool operator==(const ApiConfig&) const = default;
};

// How the node reaches and trusts the cluster's API server
// (docs/configuration.md#joining-a-cluster). Over http (up to v1.19's insecure port) none of the
// trust applies; over https the server is trusted through `ca_file` or the pin `ca_cert_hash`, and
// the node authenticates with `token` (a bootstrap token: the kubelet gets its own certificate
// through the CSR API), a client certificate, or Config::api_token.
struct ClusterAccess {
  // Resolved by the loader: http://MASTER_IP:8080 up to v1.19, https://MASTER_IP:6443 from v1.20.
  std::string api_server;
  std::string ca_file;           // PEM of the cluster's CA
  std::string ca_cert_hash;      // "sha256:<64 hex>", kubeadm's pin of the CA's public key
  std::string token;             // bootstrap token "<id>.<secret>"; a secret, always redacted
  std::string client_cert_file;  // PEM client certificate and its key, both or neither
  std::string client_key_file;
  bool operator==(const ClusterAccess&) const = default;
};

struct Config {
  Role role{Role::worker};
  std::string node_name;  // resolved: configured, else RESIN/BALENA_DEVICE_UUID, else host name

  // docker-multinode's options, with its defaults (the table in README.md).
  std::string k8s_version{"v1.3.6"};
  std::string etcd_version{"2.2.5"};
  std::string flannel_version{"0.5.5"};
  bool flannel_ipmasq{true};
  std::string flannel_network{"10.1.0.0/16"};
  std::string flannel_backend{"udp"};
  EtcdApi flannel_etcd_api{EtcdApi::v2};
  std::string flannel_etcd_prefix{"/coreos.com/network"};
  std::string dns_domain{"cluster.local"};
  std::string dns_server_ip{"10.0.0.10"};
  std::string restart_policy{"unless-stopped"};
  std::string master_ip;      // required for workers; a master defaults to NET_INTERFACE's address
  std::string arch;           // amd64, arm, arm64, ppc64le; default from uname -m
  std::string net_interface;  // default: the interface of the default route
  int timeout_for_services{20};  // seconds; the default readiness deadline of every stage

  std::string api_token;  // optional bearer token for the API server; a secret, always redacted
  ClusterAccess cluster;

  ControlPlaneConfig control_plane;
  Paths paths;
  std::map<std::string, StageConfig> stages;  // one entry per stage name above

  std::string log_level{"info"};  // trace, debug, info, warn, error, critical, off
  LogFormat log_format{LogFormat::text};

  InitConfig init;
  ApiConfig api;

  const StageConfig& stage(const std::string& name) const { return stages.at(name); }
};

// Built-in defaults of one stage (runtime, binary, probe interval); the rest are StageConfig's
// member defaults.
inline StageConfig default_stage_config(const std::string& stage) {
  StageConfig s;
  const bool in_container = stage == kStageEtcd || stage == kStageFlannel ||
                            stage == kStageKubelet || stage == kStageKubeProxy;
  s.runtime = in_container ? RuntimeKind::container : RuntimeKind::process;
  if (stage == kStageBootstrapDocker || stage == kStageMainDocker) {
    s.binary = "dockerd";
    // Above dockerd's own 15 s for stopping its containers (its --shutdown-timeout is set from this
    // budget), so that a SIGTERM'd daemon stops them and its containerd before the SIGKILL.
    s.stop_timeout = Millis(20'000);
  }
  if (stage == kStageFlannel) s.binary = "flanneld";
  if (stage == kStageEtcd || stage == kStageCriDockerd || stage == kStageKubelet ||
      stage == kStageKubeProxy)
    s.binary = stage;
  s.privileged = stage == kStageFlannel || stage == kStageKubelet || stage == kStageKubeProxy;
  // While a stage starts, a check that asks only this machine (a dockerd's socket, etcd's and
  // kube-proxy's health on loopback, flannel's subnet.env) runs every 20 ms: a join waits on
  // four stages in a row, and every 100 ms cost each of them 50 ms on average. The kubelet's
  // check ends with asking the API server whether the node is Ready, so it keeps 100 ms: a
  // fleet joining at once must not ask its shared API server five times as often.
  if (stage != kStageKubelet) s.probe.interval = Millis(20);
  return s;
}

inline const std::vector<std::string>& all_stage_names() {
  static const std::vector<std::string> names{
      kStageBootstrapDocker, kStageEtcd,    kStageFlannel,  kStageMainDocker,
      kStageCriDockerd,      kStageKubelet, kStageKubeProxy};
  return names;
}

// A configuration with every built-in default, including one StageConfig per stage (the loader
// starts from this; tests build on it). Machine-derived values (arch, net_interface, master_ip,
// node_name) are left empty.
inline Config default_config() {
  Config c;
  for (const auto& name : all_stage_names()) c.stages.emplace(name, default_stage_config(name));
  return c;
}

}  // namespace kna
