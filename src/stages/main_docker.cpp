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

// The images the bootstrap dockerd runs (etcd's and flannel's, as containers; etcd's on a worker
// too, whose airgap folder is often a copy of the master's), unless the kubelet needs one of them
// as well: the main daemon does not load a tarball that holds nothing else.
std::vector<std::string> bootstrap_images(const StageContext& ctx,
                                          const std::vector<std::string>& kubelets) {
  std::vector<std::string> images;
  for (const char* stage : {kStageEtcd, kStageFlannel}) {
    const StageConfig sc = ctx.stage(stage);
    if (sc.runtime != RuntimeKind::container) continue;
    std::string image = sc.image.empty() ? default_image(ctx.cfg, stage) : sc.image;
    if (image.empty() || std::find(kubelets.begin(), kubelets.end(), image) != kubelets.end() ||
        std::find(images.begin(), images.end(), image) != images.end())
      continue;
    images.push_back(std::move(image));
  }
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
  // behind it; the bootstrap daemon's are not its to load.
  std::vector<std::string> first = kubelet_images(ctx);
  std::vector<std::string> elsewhere = bootstrap_images(ctx, first);
  spec.ready.then = LoadAirgapImages{paths.main_docker_socket, paths.image_dir, std::move(first),
                                     std::move(elsewhere)};
  // A daemon does not lose images on its own: once they are in, no inspect per check.
  spec.ready.then_every = kThenOncePerRun;
  return spec;
}

}  // namespace kna::stages
