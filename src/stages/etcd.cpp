// etcd on the master: flannel's configuration and subnet leases live here. Runs in the bootstrap
// daemon with host networking; its data stays on the host across restarts.

#include "core/request_count.hpp"
#include "stages/flannel_network.hpp"
#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

namespace {

constexpr const char* kDataDirInContainer = "/var/etcd/data";

std::vector<std::string> etcd_flags(const StageContext& ctx, const std::string& data_dir) {
  // 4001 is etcd 2's legacy client port; 2.x-era flanneld and tools still use it.
  std::vector<std::string> flags{
      "--listen-client-urls=http://0.0.0.0:2379,http://0.0.0.0:4001",
      "--advertise-client-urls=http://" + ctx.cfg.master_ip + ":2379",
      "--listen-peer-urls=http://0.0.0.0:2380",
      // etcd 3 advertises the default route's address when listening
      // on 0.0.0.0, which then mismatches the default initial cluster
      // (localhost): name both explicitly.
      "--initial-advertise-peer-urls=http://" + ctx.cfg.master_ip + ":2380",
      "--initial-cluster=default=http://" + ctx.cfg.master_ip + ":2380", "--data-dir=" + data_dir};
  if (etcd_needs_enable_v2(ctx.cfg)) flags.push_back("--enable-v2=true");
  return flags;
}

}  // namespace

Result<StageSpec> build_etcd(const StageContext& ctx) {
  const Paths& paths = ctx.cfg.paths;
  StageSpec spec;
  spec.name = kStageEtcd;
  spec.deps.push_back(daemon_dependency(ctx, kStageEtcd, kStageBootstrapDocker));
  if (ctx.in_container(kStageEtcd)) {
    ContainerSpec c;
    c.cmd = {"/usr/local/bin/etcd"};
    for (auto& flag : etcd_flags(ctx, kDataDirInContainer)) c.cmd.push_back(std::move(flag));
    c.network_mode = "host";
    c.mounts.push_back(Mount{paths.etcd_data_dir, kDataDirInContainer, false, ""});
    spec.launch =
        finish_container(ctx, kStageEtcd, "etcd", paths.bootstrap_docker_socket, std::move(c));
  } else {
    spec.launch = make_process(ctx.stage(kStageEtcd), etcd_flags(ctx, paths.etcd_data_dir));
  }
  // etcd 2.x answers {"health": "true"}, 3.x {"health":"true"}: match the value only.
  spec.ready = http_probe("http://127.0.0.1:2379/health", kTargetEtcd, "true");
  // Flannel can only start once its network config is in etcd; the agent writes it.
  spec.ready.then =
      StoreFlannelConfig{"http://127.0.0.1:2379", ctx.cfg.flannel_etcd_api,
                         network_config_key(ctx.cfg.flannel_etcd_prefix),
                         network_config_json(ctx.cfg.flannel_network, ctx.cfg.flannel_backend)};
  // Written once per run of etcd (and again when flannel starts again): no etcd request from the
  // agent while nothing changes.
  spec.ready.then_every = kThenOncePerRun;
  return spec;
}

}  // namespace kna::stages
