// Which stages a node runs, in which order, and the finishing touches every stage takes from its
// StageConfig.

#include <algorithm>
#include <utility>

#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna {

namespace {

using stages::StageContext;
using Builder = Result<StageSpec> (*)(const StageContext&);

struct CatalogueEntry {
  const char* name;
  Builder build;
  bool master;
  bool worker;
};

// Start order. cri-dockerd is in both roles but only from Kubernetes v1.24 (see role_includes).
constexpr CatalogueEntry kCatalogue[] = {
    {kStageBootstrapDocker, stages::build_bootstrap_docker, true, true},
    {kStageEtcd, stages::build_etcd, true, false},
    {kStageFlannel, stages::build_flannel, true, true},
    {kStageMainDocker, stages::build_main_docker, true, true},
    {kStageCriDockerd, stages::build_cri_dockerd, true, true},
    {kStageKubelet, stages::build_kubelet, true, true},
    {kStageKubeProxy, stages::build_kube_proxy, true, true},
};

const CatalogueEntry* find_entry(const std::string& name) {
  for (const auto& entry : kCatalogue)
    if (name == entry.name) return &entry;
  return nullptr;
}

const char* role_name(Role role) {
  return role == Role::master ? "master" : "worker";
}

bool role_includes(const Config& cfg, const CatalogueEntry& entry) {
  if (!(cfg.role == Role::master ? entry.master : entry.worker)) return false;
  if (entry.name == std::string(kStageCriDockerd)) return stages::needs_cri_dockerd(cfg);
  return true;
}

// The stages this node runs, in start order.
std::vector<std::string> planned_stages(const StageContext& ctx) {
  std::vector<std::string> names;
  for (const auto& entry : kCatalogue)
    if (role_includes(ctx.cfg, entry) && ctx.stage(entry.name).enabled)
      names.emplace_back(entry.name);
  return names;
}

// Like `docker run -v`, a missing host folder of a bind mount is created rather than failing the
// container; a file the stage writes is not a folder to create.
void add_mount_sources(StageSpec& spec) {
  const auto* container = std::get_if<ContainerSpec>(&spec.launch);
  if (container == nullptr) return;
  const auto files = steps_of<WriteFile>(spec.prepare);
  MakeDirs dirs;
  for (const auto& m : container->mounts) {
    const bool written = std::any_of(files.begin(), files.end(),
                                     [&](const WriteFile& f) { return f.path == m.source; });
    if (!written) dirs.dirs.push_back(m.source);
  }
  if (!dirs.dirs.empty()) spec.prepare.push_back(std::move(dirs));
}

StageSpec finish(const StageContext& ctx, StageSpec spec, const std::vector<std::string>& planned) {
  const StageConfig sc = ctx.stage(spec.name);
  // A disabled dependency is the operator's to provide (e.g. an external etcd): don't wait for it.
  std::erase_if(spec.deps, [&](const Dependency& d) {
    return std::find(planned.begin(), planned.end(), d.stage) == planned.end();
  });
  spec.ready.policy = sc.probe;
  spec.backoff = sc.backoff;
  spec.stop_timeout = sc.stop_timeout;
  add_mount_sources(spec);
  return spec;
}

std::string known_stages() {
  std::string out;
  for (const auto& entry : kCatalogue) out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

}  // namespace

std::vector<StageSpec> build_plan(const Config& cfg, const PlanFacts& facts) {
  const StageContext ctx{cfg, facts, true};
  const auto planned = planned_stages(ctx);
  std::vector<StageSpec> plan;
  plan.reserve(planned.size());
  for (const auto& name : planned) {
    auto spec = find_entry(name)->build(ctx);
    // With placeholders allowed no builder fails: a failure here is a bug in the catalogue.
    plan.push_back(finish(ctx, std::move(spec).value(), planned));
  }
  return plan;
}

Result<StageSpec> build_stage(const Config& cfg, const std::string& stage, const PlanFacts& facts) {
  const StageContext ctx{cfg, facts, false};
  const CatalogueEntry* entry = find_entry(stage);
  if (entry == nullptr)
    return Error{"unknown stage '" + stage + "' (stages: " + known_stages() + ")"};
  if (stage == kStageCriDockerd && !stages::needs_cri_dockerd(cfg))
    return Error{
        "stage 'cri-dockerd' is only used with Kubernetes v1.24 and later (K8S_VERSION is " +
        cfg.k8s_version + ")"};
  if (!role_includes(cfg, *entry))
    return Error{"stage '" + stage + "' is not part of a " + role_name(cfg.role) + " node"};
  if (!ctx.stage(stage).enabled)
    return Error{"stage '" + stage + "' is disabled (stages." + stage + ".enabled is false)"};
  auto spec = entry->build(ctx);
  if (!spec) return spec.error();
  return finish(ctx, std::move(spec).value(), planned_stages(ctx));
}

std::string default_image(const Config& cfg, const std::string& stage) {
  if (stage == kStageEtcd)
    return "gcr.io/google_containers/etcd-" + cfg.arch + ":" + cfg.etcd_version;
  // The flannel version is used as configured: both "0.5.5" and "v0.6.1" were published.
  if (stage == kStageFlannel)
    return "quay.io/coreos/flannel:" + cfg.flannel_version + "-" + cfg.arch;
  if (stage == kStageKubelet || stage == kStageKubeProxy)
    return "gcr.io/google_containers/hyperkube-" + cfg.arch + ":" + cfg.k8s_version;
  return "";  // the docker daemons and cri-dockerd run on the host
}

}  // namespace kna
