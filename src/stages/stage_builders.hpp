#pragma once
// The catalogue's inside: one builder per stage (one file each) and the pieces they share. A
// builder says what is particular to its stage: dependencies, launch, probe. plan.cpp adds what
// every stage takes from its StageConfig (probe policy, backoff, stop timeout) and drops
// dependencies on stages that are not in the plan.

#include <string>
#include <string_view>
#include <vector>

#include "kna/catalogue.hpp"

namespace kna::stages {

struct StageContext {
  const Config& cfg;
  const PlanFacts& facts;
  // true (build_plan): a fact not known yet shows as a ${NAME} placeholder. false (build_stage):
  // the builder returns an error instead.
  bool placeholders{false};

  // The stage's configuration; the built-in defaults when the config has no entry for it.
  StageConfig stage(const std::string& name) const;
  bool in_container(const std::string& name) const {
    return stage(name).runtime == RuntimeKind::container;
  }
};

Result<StageSpec> build_bootstrap_docker(const StageContext& ctx);
Result<StageSpec> build_etcd(const StageContext& ctx);
Result<StageSpec> build_flannel(const StageContext& ctx);
Result<StageSpec> build_main_docker(const StageContext& ctx);
Result<StageSpec> build_cri_dockerd(const StageContext& ctx);
Result<StageSpec> build_kubelet(const StageContext& ctx);
Result<StageSpec> build_kube_proxy(const StageContext& ctx);

// "unix:///var/run/docker.sock"
std::string unix_url(const std::string& socket_path);
// dir + "/" + name, without doubling a trailing slash.
std::string join_path(const std::string& dir, const std::string& name);
std::string subnet_env_path(const Config& cfg);
// The folder that holds a file ("/var/run" for "/var/run/docker.sock").
std::string parent_dir(const std::string& path);

// A host process: [binary, args..., extra_args...] with the stage's env.
ProcessSpec make_process(const StageConfig& sc, std::vector<std::string> args);
// A container in the daemon behind `docker_socket`, with the image, extra args, env, restart
// policy, ownership labels, spec hash and kube_<component>_<hash> name filled in. `c` brings the
// stage-specific parts (cmd, network, mounts, ...).
ContainerSpec finish_container(const StageContext& ctx, const std::string& stage,
                               const std::string& component, const std::string& docker_socket,
                               ContainerSpec c);

// A file the agent writes (a WriteFile step) bind-mounted read-only at its host path. A mounted
// file is pinned to the inode it had when the container started, and the agent replaces files by
// rename: so the file's content hash goes into a label (kLabelFilesHash), and a new content makes a
// new spec, which replaces the container instead of adopting it.
void mount_file(ContainerSpec& c, const WriteFile& file);
inline constexpr const char* kLabelFilesHash = "io.kube-node-agent.files-hash";
// 16 hex digits, stable across runs and platforms (FNV-1a 64, like spec_hash).
std::string content_hash(std::string_view content);

// A stage whose container runs inside a docker daemon dies with that daemon, so it restarts with
// it. Run as a host process it only starts after the daemon, keeping docker-multinode's order.
Dependency daemon_dependency(const StageContext& ctx, const std::string& stage,
                             const std::string& daemon_stage);

ProbeSpec docker_ping_probe(const std::string& socket_path);
// `target`: whom the check asks (ProbeSpec::target).
ProbeSpec http_probe(const std::string& url, const std::string& target,
                     const std::string& body_contains = {});
ProbeSpec file_probe(const std::string& path);

}  // namespace kna::stages
