// kube-proxy: programs the node's iptables for Kubernetes services. Needs only the API server;
// runs in the main dockerd with host networking, privileged for iptables.

#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

Result<StageSpec> build_kube_proxy(const StageContext& ctx) {
  const Config& cfg = ctx.cfg;
  const std::vector<std::string> flags{"--master=http://" + cfg.master_ip + ":8080", "--v=2"};
  StageSpec spec;
  spec.name = kStageKubeProxy;
  spec.deps.push_back(daemon_dependency(ctx, kStageKubeProxy, kStageMainDocker));
  if (ctx.in_container(kStageKubeProxy)) {
    ContainerSpec c;
    c.cmd = {"/hyperkube", "proxy"};
    c.cmd.insert(c.cmd.end(), flags.begin(), flags.end());
    c.network_mode = "host";
    spec.launch =
        finish_container(ctx, kStageKubeProxy, "proxy", cfg.paths.main_docker_socket, std::move(c));
  } else {
    spec.launch = make_process(ctx.stage(kStageKubeProxy), flags);
  }
  const int port = kube_proxy_healthz_port(parse_version(cfg.k8s_version));
  spec.ready = http_probe("http://127.0.0.1:" + std::to_string(port) + "/healthz");
  return spec;
}

}  // namespace kna::stages
