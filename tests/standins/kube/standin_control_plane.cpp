#include "kube/standin_control_plane.hpp"

#include <spdlog/spdlog.h>

#include "kube/standin_api.hpp"
#include "kube/standin_cli.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace {

struct ControlPlaneFlags {
  std::string master;
  std::string kubeconfig;
  std::string address{"127.0.0.1"};
  int port{0};
  // Accepted for compatibility; they change nothing in the stand-ins.
  std::string v, cluster_cidr, service_cluster_ip_range;
  std::string cluster_name, root_ca_file, service_account_private_key_file, node_monitor_period;
  bool allocate_node_cidrs{false}, leader_elect{false};
};

}  // namespace

int control_plane_main(const ControlPlaneComponent& component, int argc, char** argv) {
  block_exit_signals();
  init_logging(component.name);
  StandinCli cli(component.name + " (kube-node-agent stand-in)");
  ControlPlaneFlags f;
  f.port = component.healthz_port;
  cli.option("--master", f.master);
  cli.option("--kubeconfig", f.kubeconfig);
  cli.option("--address", f.address);
  cli.option("--port", f.port);
  cli.option("--v", f.v);
  cli.flag("--leader-elect", f.leader_elect);
  if (component.controller_manager) {
    cli.option("--cluster-cidr", f.cluster_cidr);
    cli.option("--service-cluster-ip-range", f.service_cluster_ip_range);
    cli.flag("--allocate-node-cidrs", f.allocate_node_cidrs);
    cli.option("--cluster-name", f.cluster_name);
    cli.option("--root-ca-file", f.root_ca_file);
    cli.option("--service-account-private-key-file", f.service_account_private_key_file);
    cli.option("--node-monitor-period", f.node_monitor_period);
  }
  if (auto code = cli.parse(argc, argv)) return *code;

  auto server = api_server_from_flags(f.master, f.kubeconfig);
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  // The real programs exit when they cannot serve /healthz (glog.Fatal on ListenAndServe).
  HealthzServer healthz;
  std::string error;
  if (!healthz.start(f.address, f.port, &error)) {
    spdlog::error("{}", error);
    return 1;
  }
  spdlog::info("{} stand-in {} against {}; /healthz on {}", component.name, cli.version(),
               server.value().url, host_port(f.address, f.port));

  StopFlag stop;
  Workers workers(stop);
  const auto period = period_from_env("KNA_STANDIN_STATUS_PERIOD_S", std::chrono::seconds(2));
  workers.spawn(
      [&, api = ApiClient(server.value(), standin_user_agent(component.name, cli.version()))] {
        watch_api(api, "/healthz", period, stop);
      });

  const int sig = wait_for_exit_signal();
  spdlog::info("Exiting on signal {}", sig);
  healthz.stop();
  workers.finish(std::chrono::seconds(2));
  return 0;
}

}  // namespace kna::standins
