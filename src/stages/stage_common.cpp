#include <utility>

#include "core/request_count.hpp"
#include "stages/stage_builders.hpp"

namespace kna::stages {

StageConfig StageContext::stage(const std::string& name) const {
  const auto it = cfg.stages.find(name);
  return it != cfg.stages.end() ? it->second : default_stage_config(name);
}

std::string unix_url(const std::string& socket_path) {
  return "unix://" + socket_path;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string subnet_env_path(const Config& cfg) {
  return join_path(cfg.paths.flannel_run_dir, "subnet.env");
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

ProcessSpec make_process(const StageConfig& sc, std::vector<std::string> args) {
  ProcessSpec p;
  p.argv.reserve(1 + args.size() + sc.extra_args.size());
  p.argv.push_back(sc.binary);
  for (auto& arg : args) p.argv.push_back(std::move(arg));
  p.argv.insert(p.argv.end(), sc.extra_args.begin(), sc.extra_args.end());
  p.env = sc.env;
  return p;
}

ContainerSpec finish_container(const StageContext& ctx, const std::string& stage,
                               const std::string& component, const std::string& docker_socket,
                               ContainerSpec c) {
  const StageConfig sc = ctx.stage(stage);
  c.docker_socket = docker_socket;
  c.image = sc.image.empty() ? default_image(ctx.cfg, stage) : sc.image;
  c.cmd.insert(c.cmd.end(), sc.extra_args.begin(), sc.extra_args.end());
  c.env.insert(sc.env.begin(), sc.env.end());
  c.privileged = sc.privileged;
  c.restart_policy = ctx.cfg.restart_policy;
  c.labels[kLabelAgent] = "true";
  c.labels[kLabelStage] = stage;
  c.labels[kLabelNode] = ctx.cfg.node_name;
  // spec_hash leaves out the name and the hash label, so the hash of the finished spec is the
  // label's value: a runtime can compare a found container against the wanted spec.
  const std::string hash = spec_hash(c);
  c.labels[kLabelSpecHash] = hash;
  c.name = "kube_" + component + "_" + hash.substr(0, 5);
  return c;
}

void mount_file(ContainerSpec& c, const WriteFile& file) {
  c.mounts.push_back(Mount{file.path, file.path, true, ""});
  std::string& hashes = c.labels[kLabelFilesHash];
  // One file today (the kubeconfig); several would fold into one hash in mount order.
  hashes = hashes.empty() ? content_hash(file.content) : content_hash(hashes + file.content);
}

Dependency daemon_dependency(const StageContext& ctx, const std::string& stage,
                             const std::string& daemon_stage) {
  return Dependency{daemon_stage, ctx.in_container(stage)};
}

ProbeSpec docker_ping_probe(const std::string& socket_path) {
  ProbeSpec p = http_probe("http://localhost/_ping", kTargetDocker, "OK");
  p.unix_socket = socket_path;
  return p;
}

ProbeSpec http_probe(const std::string& url, const std::string& target,
                     const std::string& body_contains) {
  ProbeSpec p;
  p.kind = ProbeKind::http;
  p.url = url;
  p.target = target;
  p.body_contains = body_contains;
  return p;
}

ProbeSpec file_probe(const std::string& path) {
  ProbeSpec p;
  p.kind = ProbeKind::file;
  p.path = path;
  return p;
}

}  // namespace kna::stages
