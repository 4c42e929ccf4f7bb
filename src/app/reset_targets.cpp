// The pure half of `reset`: what an agent on a configuration may have left on the machine, and
// the order in which mount points come off. No I/O here.

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <set>
#include <utility>

#include "app/facts.hpp"
#include "app/reset.hpp"
#include "kna/catalogue.hpp"
#include "platform/mounts.hpp"
#include "stages/dockerd.hpp"

namespace kna::app {

namespace {

namespace fs = std::filesystem;

std::string normal(const std::string& path) {
  std::string p = fs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string parent_of(const std::string& path) {
  return fs::path(normal(path)).parent_path().string();
}

std::size_t depth(std::string_view path) {
  return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

void add(std::vector<std::string>& list, const std::string& path) {
  if (path.empty()) return;
  const std::string p = normal(path);
  if (std::find(list.begin(), list.end(), p) == list.end()) list.push_back(p);
}

bool planned(const std::vector<StageSpec>& plan, const std::string& stage) {
  return std::any_of(plan.begin(), plan.end(), [&](const StageSpec& s) { return s.name == stage; });
}

}  // namespace

bool path_is_under(std::string_view path, std::string_view root) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (path.substr(0, root.size()) != root) return false;
  if (path.size() == root.size()) return true;
  return root == "/" || path[root.size()] == '/';
}

bool is_system_folder(std::string_view path) {
  static const std::set<std::string, std::less<>> kShared{
      "/var/lib",   "/var/run",  "/var/log",       "/var/cache", "/var/tmp",
      "/var/spool", "/usr/lib",  "/usr/bin",       "/usr/sbin",  "/usr/local",
      "/usr/share", "/run/user", "/etc/kubernetes"};
  const std::string p = normal(std::string(path));
  return p.empty() || p == "/" || depth(p) <= 1 || kShared.count(p) != 0;
}

std::vector<std::string> flannel_links(const std::string& backend) {
  if (backend == "udp") return {"flannel0"};
  if (backend == "vxlan") return {"flannel.1"};
  return {};
}

ResetTargets reset_targets(const Config& cfg, bool data) {
  const Paths& p = cfg.paths;
  // With placeholders: main-docker's spec does not need flannel's subnet to say what it writes.
  const std::vector<StageSpec> plan = build_plan(cfg, PlanFacts{});
  ResetTargets t;

  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    if (it->name == kStageBootstrapDocker || it->name == kStageMainDocker) continue;
    if (std::holds_alternative<ProcessSpec>(it->launch)) t.process_stages.push_back(it->name);
  }
  // A disabled dockerd is the operator's own: not ours to stop, nor its folders to clear.
  if (planned(plan, kStageMainDocker))
    t.dockerds.push_back(
        ResetDockerd{kStageMainDocker, normal(p.main_docker_socket), normal(p.main_docker_pidfile),
                     normal(p.main_docker_data_root), normal(p.main_docker_exec_root),
                     stages::dockerd_config_file(p.run_dir, kStageMainDocker), true});
  if (planned(plan, kStageBootstrapDocker))
    t.dockerds.push_back(
        ResetDockerd{kStageBootstrapDocker, normal(p.bootstrap_docker_socket),
                     normal(p.bootstrap_docker_pidfile), normal(p.bootstrap_docker_data_root),
                     normal(p.bootstrap_docker_exec_root),
                     stages::dockerd_config_file(p.run_dir, kStageBootstrapDocker), false});

  const bool kubelet = planned(plan, kStageKubelet);
  add(t.mount_roots, p.run_dir);
  add(t.mount_roots, p.state_dir);
  for (const auto& d : t.dockerds) {
    add(t.mount_roots, d.data_root);
    add(t.mount_roots, d.exec_root);
  }
  if (kubelet) {
    add(t.mount_roots, p.kubelet_dir);
    add(t.mount_roots, p.kubelet_manifests_dir);
    add(t.mount_roots, p.container_logs_dir);
  }
  if (planned(plan, kStageEtcd)) add(t.mount_roots, p.etcd_data_dir);
  if (planned(plan, kStageFlannel)) add(t.mount_roots, p.flannel_run_dir);
  for (const auto& spec : plan)
    for (const auto& m : steps_of<SharedMount>(spec.prepare)) add(t.own_mounts, m.dir);

  for (const auto& spec : plan)
    for (const auto& b : steps_of<DeleteStaleBridge>(spec.prepare)) add(t.links, b.link);
  if (planned(plan, kStageFlannel))
    for (const auto& link : flannel_links(cfg.flannel_backend)) add(t.links, link);

  // Always: what only a running node needs.
  add(t.remove, p.run_dir);
  add(t.remove, p.status_socket);
  for (const auto& d : t.dockerds) {
    add(t.remove, d.socket);
    add(t.remove, d.pidfile);
    add(t.remove, d.exec_root);
  }
  if (planned(plan, kStageCriDockerd)) add(t.remove, p.cri_dockerd_socket);
  add(t.remove, p.state_dir + "/checkpoint.json");
  add(t.remove, p.kubeconfig);
  for (const auto& spec : plan) {
    for (const auto& f : steps_of<WriteFile>(spec.prepare)) add(t.remove, f.path);
    for (const auto& d : steps_of<DiscoverCluster>(spec.prepare)) {
      add(t.remove, d.kubeconfig);
      add(t.remove, d.ca_file);
    }
    // The identities a master issued; never its PKI (control_plane.pki_dir), which it was given.
    for (const auto& c : steps_of<IssueClientCertificate>(spec.prepare)) add(t.remove, c.path);
  }
  // With --data: what a node keeps across restarts.
  if (data) {
    for (const auto& d : t.dockerds) add(t.remove, d.data_root);
    if (planned(plan, kStageEtcd)) add(t.remove, p.etcd_data_dir);
    if (planned(plan, kStageFlannel)) add(t.remove, subnet_env_path(cfg));
    if (kubelet) {
      add(t.remove, p.kubelet_dir);
      add(t.remove, p.container_logs_dir);
    }
    add(t.remove, p.state_dir + "/logs");
  }
  // Never a system folder, whatever the configuration says.
  std::erase_if(t.remove, [](const std::string& path) { return is_system_folder(path); });

  // The folders around what is removed, and the agent's own folders, when nothing else is left
  // in them; children before parents.
  for (const auto& path : t.remove) add(t.prune, parent_of(path));
  for (const auto& path : t.mount_roots) {
    add(t.prune, path);
    add(t.prune, parent_of(path));
  }
  add(t.prune, parent_of(p.kubeconfig));
  std::erase_if(t.prune, [](const std::string& path) { return is_system_folder(path); });
  std::stable_sort(t.prune.begin(), t.prune.end(),
                   [](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
  return t;
}

std::vector<std::string> mounts_to_unmount(std::string_view mountinfo,
                                           const std::vector<std::string>& roots,
                                           const std::vector<std::string>& own_mounts) {
  const std::vector<std::string> points = parse_mount_points(mountinfo);
  std::vector<std::pair<std::size_t, std::string>> chosen;  // (line, point)
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string& point = points[i];
    const bool own = std::find(own_mounts.begin(), own_mounts.end(), point) != own_mounts.end();
    const bool below = std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
      return point != root && path_is_under(point, root);
    });
    if (own || below) chosen.emplace_back(i, point);
  }
  // Deepest first; among equals (the same point mounted twice, or siblings) the later line
  // first: it is mounted on top.
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
    if (depth(a.second) != depth(b.second)) return depth(a.second) > depth(b.second);
    return a.first > b.first;
  });
  std::vector<std::string> out;
  out.reserve(chosen.size());
  for (auto& c : chosen) out.push_back(std::move(c.second));
  return out;
}

}  // namespace kna::app
