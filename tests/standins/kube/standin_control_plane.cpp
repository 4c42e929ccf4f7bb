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
  // kubeadm's: the secure serving port's address and its delegated authentication and
  // authorization (the stand-ins serve plain /healthz on --address:--port), the CSR signer's CA
  // (the API server stand-in signs itself, with ca.key beside its --client-ca-file), and which
  // controllers run, with which credentials (none run).
  std::string bind_address, authentication_kubeconfig, authorization_kubeconfig;
  std::string client_ca_file, requestheader_client_ca_file;
  std::string cluster_signing_cert_file, cluster_signing_key_file, controllers;
  bool use_service_account_credentials{false};
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
  cli.option("--bind-address", f.bind_address);
  cli.option("--authentication-kubeconfig", f.authentication_kubeconfig);
  cli.option("--authorization-kubeconfig", f.authorization_kubeconfig);
  cli.option("--client-ca-file", f.client_ca_file);
  cli.option("--requestheader-client-ca-file", f.requestheader_client_ca_file);
  if (component.controller_manager) {
    cli.option("--cluster-cidr", f.cluster_cidr);
    cli.option("--service-cluster-ip-range", f.service_cluster_ip_range);
    cli.flag("--allocate-node-cidrs", f.allocate_node_cidrs);
    cli.option("--cluster-name", f.cluster_name);
    cli.option("--root-ca-file", f.root_ca_file);
    cli.option("--service-account-private-key-file", f.service_account_private_key_file);
    cli.option("--node-monitor-period", f.node_monitor_period);
    cli.option("--cluster-signing-cert-file", f.cluster_signing_cert_file);
    cli.option("--cluster-signing-key-file", f.cluster_signing_key_file);
    cli.option("--controllers", f.controllers);
    cli.flag("--use-service-account-credentials", f.use_service_account_credentials);
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
