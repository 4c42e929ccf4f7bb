// The bootstrap dockerd: a private daemon for etcd and flanneld, which must run before (and
// outside) the main daemon whose bridge depends on flannel. No bridge, no iptables, no NAT.

#include "stages/dockerd.hpp"
#include "stages/stage_builders.hpp"

namespace kna::stages {

Result<StageSpec> build_bootstrap_docker(const StageContext& ctx) {
  const Paths& paths = ctx.cfg.paths;
  StageSpec spec;
  spec.name = kStageBootstrapDocker;
  // A docker daemon is always a host process: StageConfig::runtime has no effect here.
  const StageConfig sc = ctx.stage(kStageBootstrapDocker);
  ProcessSpec p = make_process(
      sc, {"-H", unix_url(paths.bootstrap_docker_socket), "-p", paths.bootstrap_docker_pidfile,
           "--data-root=" + paths.bootstrap_docker_data_root,
           "--exec-root=" + paths.bootstrap_docker_exec_root,
           dockerd_shutdown_flag(sc.stop_timeout), "--iptables=false", "--ip-masq=false",
           "--bridge=none", dockerd_config_flag(paths.run_dir, kStageBootstrapDocker)});
  p.pidfile = paths.bootstrap_docker_pidfile;
  p.helper_pidfiles = {containerd_pidfile(paths.bootstrap_docker_exec_root)};
  spec.launch = std::move(p);
  use_live_restore(spec, paths.run_dir);
  spec.ready = docker_ping_probe(paths.bootstrap_docker_socket);
  return spec;
}

}  // namespace kna::stages
