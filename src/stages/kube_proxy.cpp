// kube-proxy: programs the node's iptables for Kubernetes services. Needs only the API server;
// runs in the main dockerd with host networking, privileged for iptables. Its flags follow the
// Kubernetes version (stages/version.hpp).

#include "core/request_count.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

Result<StageSpec> build_kube_proxy(const StageContext& ctx) {
  const Config& cfg = ctx.cfg;
  const KubeProxyProfile profile = kube_proxy_profile(parse_version(cfg.k8s_version));
  StageSpec spec;
  spec.name = kStageKubeProxy;
  spec.deps.push_back(daemon_dependency(ctx, kStageKubeProxy, kStageMainDocker));

  std::vector<std::string> flags;
  switch (profile.api) {
    case KubeProxyProfile::Api::master_url:
      flags.push_back("--master=http://" + cfg.master_ip + ":8080");
      break;
    case KubeProxyProfile::Api::kubeconfig:
      // The same file as the kubelet's; mounted at its host path in a container.
      flags.push_back("--kubeconfig=" + cfg.paths.kubeconfig);
      spec.prepare.push_back(kubeconfig_file(cfg));
      break;
  }
  // The name the kubelet registered the node under, not the host name.
  flags.push_back("--hostname-override=" + cfg.node_name);
  flags.push_back("--v=2");

  if (ctx.in_container(kStageKubeProxy)) {
    ContainerSpec c;
    c.cmd = {"/hyperkube", "proxy"};
    c.cmd.insert(c.cmd.end(), flags.begin(), flags.end());
    c.network_mode = "host";
    for (const auto& file : steps_of<WriteFile>(spec.prepare)) mount_file(c, file);
    spec.launch =
        finish_container(ctx, kStageKubeProxy, "proxy", cfg.paths.main_docker_socket, std::move(c));
  } else {
    spec.launch = make_process(ctx.stage(kStageKubeProxy), flags);
  }
  spec.ready = http_probe("http://127.0.0.1:" + std::to_string(profile.healthz_port) + "/healthz",
                          kTargetKubeProxy);
  return spec;
}

}  // namespace kna::stages
