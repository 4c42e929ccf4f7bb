// The main dockerd: runs the kubelet, kube-proxy and the pods, on a bridge inside flannel's
// subnet. It needs flannel's subnet.env, not flanneld itself: a changed subnet restarts it
// explicitly, a restart of flanneld alone does not.

#include <algorithm>

#include "stages/control_plane.hpp"
#include "stages/dockerd.hpp"
#include "stages/stage_builders.hpp"

namespace kna::stages {

namespace {

// The bridge dockerd creates (and keeps, whatever its address) when --bridge is not given.
constexpr const char* kBridge = "docker0";

// The images the kubelet needs before it can register the node and run its static pods: its own
// and kube-proxy's where they run as containers, a master's control plane. Loaded before the
// daemon counts as ready; the rest of the airgap folder loads behind it.
std::vector<std::string> kubelet_images(const StageContext& ctx) {
  std::vector<std::string> images;
  auto add = [&images](const std::string& image) {
    if (!image.empty() && std::find(images.begin(), images.end(), image) == images.end())
      images.push_back(image);
  };
  for (const char* stage : {kStageKubelet, kStageKubeProxy}) {
    const StageConfig sc = ctx.stage(stage);
    if (sc.enabled && sc.runtime == RuntimeKind::container)
      add(sc.image.empty() ? default_image(ctx.cfg, stage) : sc.image);
  }
  if (ctx.cfg.role == Role::master)
    for (const char* component : {"kube-apiserver", "kube-controller-manager", "kube-scheduler"})
      add(control_plane_image(ctx.cfg, component));
  return images;
}

}  // namespace

Result<StageSpec> build_main_docker(const StageContext& ctx) {
  const Paths& paths = ctx.cfg.paths;
  std::string bip = "${FLANNEL_SUBNET}";
  std::string mtu = "${FLANNEL_MTU}";
  if (ctx.facts.subnet) {
    bip = ctx.facts.subnet->subnet;
    mtu = std::to_string(ctx.facts.subnet->mtu);
  } else if (!ctx.placeholders) {
    return Error{"main-docker needs flannel's subnet: " + subnet_env_path(ctx.cfg) +
                 " is not there yet"};
  }

  StageSpec spec;
  spec.name = kStageMainDocker;
  spec.deps.push_back(Dependency{kStageFlannel, false});
  // A docker daemon is always a host process: StageConfig::runtime has no effect here.
  const StageConfig sc = ctx.stage(kStageMainDocker);
  ProcessSpec p = make_process(
      sc, {"-H", unix_url(paths.main_docker_socket), "-p", paths.main_docker_pidfile,
           "--data-root=" + paths.main_docker_data_root,
           "--exec-root=" + paths.main_docker_exec_root, dockerd_shutdown_flag(sc.stop_timeout),
           "--bip=" + bip, "--mtu=" + mtu, dockerd_config_flag(paths.run_dir, kStageMainDocker)});
  p.pidfile = paths.main_docker_pidfile;
  p.helper_pidfiles = {containerd_pidfile(paths.main_docker_exec_root)};
  spec.launch = std::move(p);
  use_live_restore(spec, paths.run_dir);
  spec.prepare.push_back(DeleteStaleBridge{kBridge, bip});
  spec.ready = docker_ping_probe(paths.main_docker_socket);
  // The kubelet cannot pull (airgap): its own images are loaded before it starts, its pods'
  // behind it.
  spec.ready.then =
      LoadAirgapImages{paths.main_docker_socket, paths.image_dir, kubelet_images(ctx)};
  // A daemon does not lose images on its own: once they are in, no inspect per check.
  spec.ready.then_every = kThenOncePerRun;
  return spec;
}

}  // namespace kna::stages
