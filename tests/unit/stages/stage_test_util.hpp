#pragma once
// Configurations and accessors shared by the catalogue tests, and gtest printers so that a failed
// comparison of two specs shows what differs.

#include <algorithm>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kna/catalogue.hpp"
#include "stages/render_util.hpp"

namespace kna {

inline void PrintTo(const Mount& m, std::ostream* os) {
  *os << stages::describe_mount(m);
}
inline void PrintTo(const Dependency& d, std::ostream* os) {
  *os << d.stage << (d.restart_with ? "" : " (first start only)");
}
inline void PrintTo(const ProcessSpec& p, std::ostream* os) {
  *os << "process [" << stages::shell_join(p.argv) << "] pidfile=" << p.pidfile;
  for (const auto& h : p.helper_pidfiles) *os << " helper=" << h;
  for (const auto& [k, v] : p.env) *os << " " << k << "=" << v;
}
inline void PrintTo(const ContainerSpec& c, std::ostream* os) {
  *os << "container " << c.name << " in " << c.docker_socket << " image=" << c.image << " cmd=["
      << stages::shell_join(c.cmd) << "] net=" << c.network_mode << " pid=" << c.pid_mode
      << " privileged=" << c.privileged << " restart=" << c.restart_policy << " mounts=[";
  for (const auto& m : c.mounts) *os << stages::describe_mount(m) << " ";
  *os << "] labels=[";
  for (const auto& [k, v] : c.labels) *os << k << "=" << v << " ";
  *os << "] env=[";
  for (const auto& [k, v] : c.env) *os << k << "=" << v << " ";
  *os << "]";
}
inline void PrintTo(const ProbeSpec& p, std::ostream* os) {
  *os << stages::describe_probe(p);
}
inline void PrintTo(const WriteFile& f, std::ostream* os) {
  *os << f.path << " mode " << stages::format_mode(f.mode) << ":\n" << f.content;
}
inline void PrintTo(const SharedMount& s, std::ostream* os) {
  *os << stages::describe_step(s);
}
inline void PrintTo(const DeleteStaleBridge& b, std::ostream* os) {
  *os << stages::describe_step(b);
}
inline void PrintTo(const MakeDirs& d, std::ostream* os) {
  *os << stages::describe_step(d);
}
inline void PrintTo(const DiscoverCluster& d, std::ostream* os) {
  *os << stages::describe_step(d);
}
inline void PrintTo(const StoreFlannelConfig& s, std::ostream* os) {
  *os << stages::describe_after(s);
}
inline void PrintTo(const LoadAirgapImages& l, std::ostream* os) {
  *os << stages::describe_after(l);
}
inline void PrintTo(const NodeReady& n, std::ostream* os) {
  *os << stages::describe_after(n) << " token=" << n.token;
}

}  // namespace kna

namespace kna::test {

inline Config node_config(Role role, const std::string& arch = "amd64") {
  Config c = default_config();
  c.role = role;
  c.arch = arch;
  c.net_interface = "eth0";
  c.master_ip = "192.168.1.50";
  c.node_name = "node-1";
  return c;
}
inline Config master_config(const std::string& arch = "amd64") {
  return node_config(Role::master, arch);
}
inline Config worker_config(const std::string& arch = "amd64") {
  return node_config(Role::worker, arch);
}

inline PlanFacts subnet_facts() {
  return PlanFacts{FlannelSubnet{"10.1.0.0/16", "10.1.33.1/24", 1472, true}};
}

inline std::vector<std::string> names_of(const std::vector<StageSpec>& plan) {
  std::vector<std::string> names;
  for (const auto& s : plan) names.push_back(s.name);
  return names;
}

// The stage from build_stage, which must succeed (with flannel's subnet known).
inline StageSpec stage_of(const Config& cfg, const std::string& name,
                          const PlanFacts& facts = subnet_facts()) {
  auto spec = build_stage(cfg, name, facts);
  if (!spec) ADD_FAILURE() << "build_stage(" << name << "): " << spec.error().message;
  return spec ? spec.value() : StageSpec{};
}

// The files the stage writes before it launches (its WriteFile steps), in order.
inline std::vector<WriteFile> files_of(const StageSpec& spec) {
  return steps_of<WriteFile>(spec.prepare);
}
// The folders it makes shared mounts before it launches.
inline std::vector<std::string> shared_dirs_of(const StageSpec& spec) {
  std::vector<std::string> dirs;
  for (const auto& m : steps_of<SharedMount>(spec.prepare)) dirs.push_back(m.dir);
  return dirs;
}

inline ProcessSpec process_of(const StageSpec& spec) {
  const auto* p = std::get_if<ProcessSpec>(&spec.launch);
  if (p == nullptr) ADD_FAILURE() << spec.name << " is not a process";
  return p ? *p : ProcessSpec{};
}

inline ContainerSpec container_of(const StageSpec& spec) {
  const auto* c = std::get_if<ContainerSpec>(&spec.launch);
  if (c == nullptr) ADD_FAILURE() << spec.name << " is not a container";
  return c ? *c : ContainerSpec{};
}

// The container without what is derived from its hash (name, hash label), for comparing with a
// spec written out in a test.
inline ContainerSpec without_identity(ContainerSpec c) {
  c.name.clear();
  c.labels.erase(kLabelSpecHash);
  return c;
}

// The argv of the stage run as a host process (with flannel's subnet known).
inline std::vector<std::string> process_argv(Config cfg, const std::string& stage) {
  cfg.stages[stage].runtime = RuntimeKind::process;
  return process_of(stage_of(cfg, stage)).argv;
}

inline std::map<std::string, std::string> agent_labels(const std::string& stage) {
  return {{kLabelAgent, "true"}, {kLabelStage, stage}, {kLabelNode, "node-1"}};
}

}  // namespace kna::test
