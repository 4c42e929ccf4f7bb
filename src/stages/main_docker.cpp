// The main dockerd: runs the kubelet, kube-proxy and the pods, on a bridge inside flannel's
// subnet. It needs flannel's subnet.env, not flanneld itself: a changed subnet restarts it
// explicitly, a restart of flanneld alone does not.

#include "stages/dockerd.hpp"
#include "stages/stage_builders.hpp"

namespace kna::stages {

namespace {

// The bridge dockerd creates (and keeps, whatever its address) when --bridge is not given.
constexpr const char* kBridge = "docker0";

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
  // The kubelet cannot pull (airgap): the images its pods need are loaded before it starts.
  spec.ready.then = LoadAirgapImages{paths.main_docker_socket, paths.image_dir};
  return spec;
}

}  // namespace kna::stages
