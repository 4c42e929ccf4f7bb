// cri-dockerd: from Kubernetes v1.24 the kubelet no longer speaks to dockerd itself (dockershim
// was removed); this shim serves the CRI on a unix socket and forwards to the main dockerd.

#include "stages/stage_builders.hpp"

namespace kna::stages {

Result<StageSpec> build_cri_dockerd(const StageContext& ctx) {
  const Paths& paths = ctx.cfg.paths;
  StageSpec spec;
  spec.name = kStageCriDockerd;
  spec.deps.push_back(Dependency{kStageMainDocker, true});
  // Always a host process for now: StageConfig::runtime has no effect here.
  spec.launch = make_process(ctx.stage(kStageCriDockerd),
                             {"--container-runtime-endpoint=" + unix_url(paths.cri_dockerd_socket),
                              "--docker-endpoint=" + unix_url(paths.main_docker_socket)});
  spec.ready = file_probe(paths.cri_dockerd_socket);
  return spec;
}

}  // namespace kna::stages
