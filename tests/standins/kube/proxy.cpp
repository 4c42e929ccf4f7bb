// A stand-in for kube-proxy (not the real program), written for kube-node-agent's tests and demo.
// It takes kube-proxy's flags as its version has them, serves /healthz where that version does,
// and watches the API server, logging when it becomes unreachable or reachable. It programs no
// iptables rules.

#include <string>

#include <spdlog/spdlog.h>

#include "kube/components.hpp"
#include "kube/standin_api.hpp"
#include "kube/standin_cli.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace {

struct ProxyFlags {
  std::string master;
  std::string kubeconfig;
  std::string hostname_override;
  std::string healthz_bind_address;
  int healthz_port{-1};  // -1: the version's default
  // Accepted for compatibility; they change nothing in the stand-in.
  std::string v, proxy_mode, cluster_cidr, bind_address, conntrack_max_per_core;
  std::string resource_container, cleanup_iptables;
  bool masquerade_all{false};
};

// Until v1.7 kube-proxy served /healthz on 127.0.0.1:10249; from v1.7 on 0.0.0.0:10256, with
// --healthz-bind-address taking "ip:port".
void healthz_address(const StandinCli& cli, const ProxyFlags& f, std::string& host, int& port) {
  host = cli.at_least(7) ? "0.0.0.0" : "127.0.0.1";
  port = cli.at_least(7) ? 10256 : 10249;
  if (!f.healthz_bind_address.empty()) {
    host = f.healthz_bind_address;
    const auto colon = host.rfind(':');
    if (colon != std::string::npos && host.find(':') == colon) {  // ip:port, not IPv6
      port = std::atoi(host.c_str() + colon + 1);
      host.resize(colon);
    }
  }
  if (f.healthz_port >= 0) port = f.healthz_port;
}

}  // namespace

int proxy_main(int argc, char** argv) {
  block_exit_signals();
  init_logging("kube-proxy");
  StandinCli cli("kube-proxy (kube-node-agent stand-in)");
  ProxyFlags f;
  cli.option("--master", f.master);
  cli.option("--kubeconfig", f.kubeconfig, since(4));
  cli.option("--hostname-override", f.hostname_override);
  cli.option("--healthz-bind-address", f.healthz_bind_address);
  cli.option("--healthz-port", f.healthz_port);
  cli.option("--v", f.v);
  cli.option("--proxy-mode", f.proxy_mode);
  cli.option("--cluster-cidr", f.cluster_cidr);
  cli.option("--bind-address", f.bind_address);
  cli.option("--conntrack-max-per-core", f.conntrack_max_per_core);
  cli.option("--resource-container", f.resource_container);
  cli.option("--cleanup-iptables", f.cleanup_iptables);
  cli.flag("--masquerade-all", f.masquerade_all);
  if (auto code = cli.parse(argc, argv)) return *code;

  auto server = api_server_from_flags(f.master, f.kubeconfig);
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  std::string host;
  int port = 0;
  healthz_address(cli, f, host, port);
  spdlog::info("kube-proxy stand-in {} against {}; /healthz on {}", cli.version(),
               server.value().url, host_port(host, port));

  StopFlag stop;
  Workers workers(stop);
  HealthzServer healthz;
  healthz.start_retrying(host, port);
  const auto period = period_from_env("KNA_STANDIN_STATUS_PERIOD_S", std::chrono::seconds(2));
  workers.spawn(
      [&, api = ApiClient(server.value(), standin_user_agent("kube-proxy", cli.version()))] {
        watch_api(api, "/api/v1/nodes", period, stop);
      });

  const int sig = wait_for_exit_signal();
  spdlog::info("Exiting on signal {}", sig);
  healthz.stop();
  workers.finish(std::chrono::seconds(2));
  return 0;
}

}  // namespace kna::standins
