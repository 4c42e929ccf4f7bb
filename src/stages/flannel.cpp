// flanneld: leases this node's pod subnet from etcd and writes it to subnet.env, which main-docker
// turns into its bridge address. Runs in the bootstrap daemon, privileged, on the host network.

#include "stages/stage_builders.hpp"

namespace kna::stages {

namespace {

constexpr const char* kRunDirInContainer = "/run/flannel";

std::vector<std::string> flannel_flags(const Config& cfg) {
  std::vector<std::string> flags{
      "--etcd-endpoints=http://" + cfg.master_ip + ":2379",
      std::string("--ip-masq=") + (cfg.flannel_ipmasq ? "true" : "false"),
      "--iface=" + cfg.net_interface};
  if (cfg.flannel_etcd_prefix != Config{}.flannel_etcd_prefix)
    flags.push_back("--etcd-prefix=" + cfg.flannel_etcd_prefix);
  return flags;
}

}  // namespace

Result<StageSpec> build_flannel(const StageContext& ctx) {
  const Config& cfg = ctx.cfg;
  StageSpec spec;
  spec.name = kStageFlannel;
  spec.deps.push_back(daemon_dependency(ctx, kStageFlannel, kStageBootstrapDocker));
  if (cfg.role == Role::master) spec.deps.push_back(Dependency{kStageEtcd, true});
  if (ctx.in_container(kStageFlannel)) {
    ContainerSpec c;
    c.cmd = {"/opt/bin/flanneld"};
    for (auto& flag : flannel_flags(cfg)) c.cmd.push_back(std::move(flag));
    c.network_mode = "host";
    c.mounts.push_back(Mount{"/dev/net", "/dev/net", false, ""});
    // flanneld writes /run/flannel/subnet.env inside the container; the host folder keeps it
    // across restarts so that flanneld renews the same lease.
    c.mounts.push_back(Mount{cfg.paths.flannel_run_dir, kRunDirInContainer, false, ""});
    spec.launch = finish_container(ctx, kStageFlannel, "flannel", cfg.paths.bootstrap_docker_socket,
                                   std::move(c));
  } else {
    auto flags = flannel_flags(cfg);
    flags.push_back("--subnet-file=" + subnet_env_path(cfg));
    spec.launch = make_process(ctx.stage(kStageFlannel), std::move(flags));
  }
  spec.ready = file_probe(subnet_env_path(cfg));
  spec.ready.parse_subnet_env = true;
  return spec;
}

}  // namespace kna::stages
