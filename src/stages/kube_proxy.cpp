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
      flags.push_back("--master=" + api_server_url(cfg));
      break;
    case KubeProxyProfile::Api::kubeconfig:
      // The same file as the kubelet's, or joined by token the one naming the kubelet's own
      // certificate; mounted at its host path in a container.
      flags.push_back("--kubeconfig=" + cfg.paths.kubeconfig);
      if (join_mode(cfg) == JoinMode::control_plane) {
        // Its own identity, and before it starts, once the master's node is Ready (its API
        // server answers), what the workers need to join.
        for (auto& step : issue_identity(cfg, "system:kube-proxy", {}, kube_proxy_client_cert(cfg),
                                         cfg.paths.kubeconfig))
          spec.prepare.push_back(std::move(step));
        spec.prepare.push_back(publish_step(cfg));
      } else {
        spec.prepare.push_back(kubeconfig_file(cfg));
      }
      break;
  }
  // The first time, kube-proxy starts once the kubelet is ready, as kubeadm's DaemonSet does
  // once the node is registered: the node turns Ready sooner when the two do not start side by
  // side (on two cores, 0.2-0.4 s of a worker's join), and kube-proxy has nothing to proxy
  // before the node can run pods. Joined by token, the node's certificate it uses exists only
  // then; a master's API server runs under its kubelet.
  spec.deps.push_back(Dependency{kStageKubelet, false});
  // The name the kubelet registered the node under, not the host name.
  flags.push_back("--hostname-override=" + cfg.node_name);
  flags.push_back("--v=2");

  if (ctx.in_container(kStageKubeProxy)) {
    ContainerSpec c;
    c.cmd = {"/hyperkube", "proxy"};
    c.cmd.insert(c.cmd.end(), flags.begin(), flags.end());
    c.network_mode = "host";
    for (const auto& file : steps_of<WriteFile>(spec.prepare)) mount_file(c, file);
    if (const auto ca = cluster_ca_file(cfg); !ca.empty())
      c.mounts.push_back(Mount{ca, ca, true, ""});
    if (join_mode(cfg) == JoinMode::token) {
      const std::string dir = kubelet_cert_dir(cfg);
      c.mounts.push_back(Mount{dir, dir, true, ""});
    }
    if (join_mode(cfg) == JoinMode::control_plane) {
      const std::string pem = kube_proxy_client_cert(cfg);
      c.mounts.push_back(Mount{pem, pem, true, ""});
    }
    for (const auto& file : {cfg.cluster.client_cert_file, cfg.cluster.client_key_file})
      if (!file.empty()) c.mounts.push_back(Mount{file, file, true, ""});
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
