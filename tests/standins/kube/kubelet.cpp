// A stand-in for the kubelet (not the real program), written for kube-node-agent's tests and demo.
// It takes the real kubelet's flags as its version has them, gets a client certificate by TLS
// bootstrap (--bootstrap-kubeconfig), registers the node with the API server and keeps its Ready
// condition fresh, serves /healthz, and runs static pods from a manifest folder as Docker
// containers. It runs no API-scheduled pods, volumes or probes, and rotates no certificates.

#include <signal.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "clients/docker_client.hpp"
#include "kube/components.hpp"
#include "kube/kubelet_bootstrap.hpp"
#include "kube/kubelet_node.hpp"
#include "kube/kubelet_pods.hpp"
#include "kube/standin_api.hpp"
#include "kube/standin_cli.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace {

struct KubeletFlags {
  std::string api_servers;
  std::string kubeconfig;
  bool require_kubeconfig{false};
  std::string bootstrap_kubeconfig;
  std::string cert_dir;  // the version's default when empty (cert_dir())
  bool rotate_certificates{false};
  std::string config;  // static pod folder until v1.10, then a KubeletConfiguration file
  std::string pod_manifest_path;
  bool allow_privileged{false};
  std::string docker_endpoint{"unix:///var/run/docker.sock"};
  std::string container_runtime{"docker"};
  std::string container_runtime_endpoint;
  std::string hostname_override;
  std::string address{"0.0.0.0"};
  std::string node_ip;
  std::string healthz_bind_address{"127.0.0.1"};
  int healthz_port{10248};
  // Accepted for compatibility; they change nothing in the stand-in.
  std::string cluster_dns, cluster_domain, v, root_dir, node_labels, network_plugin;
  std::string cgroup_driver, read_only_port;
  int port{10250};
  bool enable_server{true}, register_node{true}, fail_swap_on{true}, logtostderr{true};
};

void add_flags(StandinCli& cli, KubeletFlags& f) {
  cli.option("--api-servers", f.api_servers, until(8));
  cli.flag("--require-kubeconfig", f.require_kubeconfig, {4, 10});
  cli.option("--kubeconfig", f.kubeconfig, since(4));
  // --experimental-bootstrap-kubeconfig from v1.4; renamed in v1.7, the old name gone in v1.23.
  cli.option("--experimental-bootstrap-kubeconfig", f.bootstrap_kubeconfig, {4, 23});
  cli.option("--bootstrap-kubeconfig", f.bootstrap_kubeconfig, since(7));
  cli.option("--cert-dir", f.cert_dir);
  cli.flag("--rotate-certificates", f.rotate_certificates, since(8));
  cli.option("--config", f.config);
  cli.option("--pod-manifest-path", f.pod_manifest_path, since(5));
  cli.flag("--allow-privileged", f.allow_privileged, until(15));
  cli.option("--docker-endpoint", f.docker_endpoint, until(24));
  cli.option("--container-runtime", f.container_runtime, until(27));
  cli.option("--container-runtime-endpoint", f.container_runtime_endpoint, since(5));
  cli.option("--hostname-override", f.hostname_override);
  cli.option("--address", f.address);
  cli.option("--node-ip", f.node_ip);
  cli.option("--healthz-bind-address", f.healthz_bind_address);
  cli.option("--healthz-port", f.healthz_port);
  cli.option("--cluster-dns", f.cluster_dns);
  cli.option("--cluster-domain", f.cluster_domain);
  cli.option("--v", f.v);
  cli.option("--root-dir", f.root_dir);
  cli.option("--port", f.port);
  cli.option("--read-only-port", f.read_only_port);
  cli.flag("--enable-server", f.enable_server);
  cli.flag("--register-node", f.register_node);
  cli.option("--node-labels", f.node_labels);
  cli.option("--network-plugin", f.network_plugin, until(24));
  cli.option("--cgroup-driver", f.cgroup_driver, since(6));
  cli.flag("--fail-swap-on", f.fail_swap_on, since(8));
  cli.flag("--logtostderr", f.logtostderr, until(26));
}

// The static pod folder. From v1.10 --config names a KubeletConfiguration file: its staticPodPath
// is read when the file is JSON (the stand-in reads no YAML).
Result<std::string> manifest_dir(const StandinCli& cli, const KubeletFlags& f) {
  if (!f.pod_manifest_path.empty()) return f.pod_manifest_path;
  if (f.config.empty()) return std::string();
  if (!cli.at_least(10)) return f.config;
  std::ifstream in(f.config);
  if (!in) return Error{"failed to load Kubelet config file " + f.config + ": cannot read it"};
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object())
    return Error{"failed to load Kubelet config file " + f.config +
                 ": not JSON (the stand-in reads JSON only)"};
  const auto path = j.find("staticPodPath");
  return path != j.end() && path->is_string() ? path->get<std::string>() : std::string();
}

// --cert-dir: /var/run/kubernetes by default until v1.10 (kubeadm passed /var/lib/kubelet/pki),
// /var/lib/kubelet/pki since.
std::string cert_dir(const StandinCli& cli, const KubeletFlags& f) {
  if (!f.cert_dir.empty()) return f.cert_dir;
  return cli.at_least(10) ? "/var/lib/kubelet/pki" : "/var/run/kubernetes";
}

// Waits up to `timeout` for SIGTERM or SIGINT (blocked in every thread); its number, or 0.
int exit_signal_within(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    timespec ts{static_cast<std::time_t>(left.count() / 1'000'000'000),
                static_cast<long>(left.count() % 1'000'000'000)};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno != EINTR) return 0;
  }
}

// The dockerd socket the static pods run in; nullopt when the kubelet speaks CRI, which the
// stand-in cannot.
std::optional<std::string> docker_socket(const StandinCli& cli, const KubeletFlags& f) {
  std::string cri;
  if (cli.at_least(24))  // dockershim is gone: the kubelet speaks CRI only
    cri = f.container_runtime_endpoint.empty() ? "unix:///run/containerd/containerd.sock"
                                               : f.container_runtime_endpoint;
  else if (f.container_runtime == "remote")
    cri = f.container_runtime_endpoint;
  if (!cri.empty()) {
    spdlog::warn(
        "Container runtime endpoint {} speaks CRI, which the kubelet stand-in does not: "
        "it runs no pods, and still registers the node",
        cri);
    return std::nullopt;
  }
  const std::string prefix = "unix://";
  if (f.docker_endpoint.rfind(prefix, 0) == 0) return f.docker_endpoint.substr(prefix.size());
  if (!f.docker_endpoint.empty() && f.docker_endpoint.front() == '/') return f.docker_endpoint;
  spdlog::warn(
      "--docker-endpoint {}: the stand-in reaches dockerd through a unix socket only; "
      "it runs no pods",
      f.docker_endpoint);
  return std::nullopt;
}

}  // namespace

int kubelet_main(int argc, char** argv) {
  block_exit_signals();
  init_logging("kubelet");
  StandinCli cli("kubelet (kube-node-agent stand-in)");
  KubeletFlags f;
  add_flags(cli, f);
  if (auto code = cli.parse(argc, argv)) return *code;
  const auto node = node_identity(f.hostname_override, f.node_ip, f.address, cli.version());

  if (!f.bootstrap_kubeconfig.empty()) {
    if (f.kubeconfig.empty()) {
      spdlog::error(
          "--bootstrap-kubeconfig needs --kubeconfig: the file the bootstrapped credentials are "
          "written to");
      return 1;
    }
    if (f.rotate_certificates)
      spdlog::info("--rotate-certificates: the stand-in does not rotate its client certificate");
    int signal = 0;
    const StopWait wait = [&](std::chrono::milliseconds timeout) {
      signal = exit_signal_within(timeout);
      return signal != 0;
    };
    const BootstrapOptions options{f.kubeconfig, f.bootstrap_kubeconfig, cert_dir(cli, f),
                                   node.name, standin_user_agent("kubelet", cli.version())};
    const auto done = bootstrap_client_certificate(options, wait);
    if (!done) {
      spdlog::error("failed to run Kubelet: {}", done.error().message);
      return 1;
    }
    if (done.value() == Bootstrap::stopped) {
      spdlog::info("Exiting on signal {} during the TLS bootstrap", signal);
      return 0;
    }
  }

  std::optional<ApiServer> api;
  if (!f.kubeconfig.empty()) {
    auto read = read_kubeconfig(f.kubeconfig);
    if (!read) {
      spdlog::error("{}", read.error().message);
      return 1;
    }
    api = read.value();
  }
  if (!f.api_servers.empty()) {
    if (!api) api = ApiServer{};
    api->url = first_url(f.api_servers);
  }
  auto manifests = manifest_dir(cli, f);
  if (!manifests) {
    spdlog::error("{}", manifests.error().message);
    return 1;
  }
  spdlog::info("Kubelet stand-in {} for node {} ({})", cli.version(), node.name, node.internal_ip);

  StopFlag stop;
  Workers workers(stop);
  HealthzServer healthz;
  if (f.healthz_port > 0)  // 0 turns the health server off, as in the real kubelet
    healthz.start_retrying(f.healthz_bind_address, f.healthz_port);
  if (api && !f.register_node) {
    spdlog::info("Not registering node {}: --register-node=false", node.name);
  } else if (api) {
    // The real kubelet posts its status every 10 s (--node-status-update-frequency); 2 s here so
    // that tests see heartbeats quickly.
    const auto period = period_from_env("KNA_STANDIN_STATUS_PERIOD_S", std::chrono::seconds(2));
    workers.spawn(
        [&, period, client = ApiClient(*api, standin_user_agent("kubelet", cli.version()))] {
          NodeStatus(client, node, period).run(stop);
        });
  } else {
    spdlog::info(
        "No API server given (--api-servers or --kubeconfig): running standalone, "
        "static pods only");
  }
  std::unique_ptr<DockerClient> docker;
  const auto socket = docker_socket(cli, f);
  if (!manifests.value().empty() && socket) {
    docker = std::make_unique<DockerClient>(DockerClientOptions{*socket});
    workers.spawn([&, dir = manifests.value()] {
      StaticPods(dir, node.name, cli.version(), *docker).run(stop);
    });
  }

  const int sig = wait_for_exit_signal();
  spdlog::info("Exiting on signal {}; pod containers keep running", sig);
  healthz.stop();
  if (docker) docker->stop();  // aborts a pull or stop in flight
  workers.finish(std::chrono::seconds(2));
  return 0;
}

}  // namespace kna::standins
