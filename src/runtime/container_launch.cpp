#include "runtime/container_launch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clients/docker_json.hpp"
#include "kna/catalogue.hpp"
#include "runtime/container_exit.hpp"

namespace kna {

using DockerKind = DockerError::Kind;

std::string label_of(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

namespace {

std::chrono::seconds whole_seconds(Millis timeout) {
  return std::chrono::ceil<std::chrono::seconds>(timeout);
}

LaunchedContainer observe(Docker& client, const std::string& id, bool adopted) {
  auto info = client.inspect_container(id);
  if (!info) {
    throw DockerError(
        DockerKind::not_found,
        fmt::format("container {} vanished while being launched", short_container_id(id)));
  }
  return LaunchedContainer{info->id,
                           info->name,
                           info->state.pid,
                           info->state.running,
                           docker::parse_rfc3339_nanos(info->state.started_at),
                           adopted};
}

// Creates the container; a same-name container is removed first when it is ours.
std::string create(const ContainerLaunch& ctx, const ContainerSpec& spec) {
  try {
    return ctx.client.create_container(spec);
  } catch (const DockerError& e) {
    if (e.kind() != DockerKind::conflict || spec.name.empty()) throw;
  }
  auto holder = ctx.client.inspect_container(spec.name);
  if (holder) {
    if (label_of(holder->labels, kLabelAgent) != "true") {
      throw DockerError(DockerKind::conflict,
                        fmt::format("the container name {} is taken by container {}, which the "
                                    "agent does not own: remove or rename it",
                                    spec.name, short_container_id(holder->id)));
    }
    spdlog::info("{}: removing container {} that holds the name {}", ctx.stage,
                 short_container_id(holder->id), spec.name);
    if (holder->state.running) {
      ctx.client.stop_container(holder->id, whole_seconds(ctx.stop_timeout));
    }
    ctx.client.remove_container(holder->id, true);
  }
  return ctx.client.create_container(spec);
}

}  // namespace

ContainerPlan plan_containers(const std::vector<ContainerSummary>& found,
                              const std::string& spec_hash) {
  ContainerPlan plan;
  for (const auto& c : found) {
    if (!plan.adopt && c.state == "running" && !spec_hash.empty() &&
        label_of(c.labels, kLabelSpecHash) == spec_hash) {
      plan.adopt = c.id;
    } else {
      plan.remove.push_back(c);
    }
  }
  return plan;
}

ContainerSpec with_ownership_labels(ContainerSpec spec, const std::string& stage) {
  spec.labels[kLabelAgent] = "true";
  spec.labels[kLabelStage] = stage;
  if (label_of(spec.labels, kLabelSpecHash).empty()) {
    spec.labels[kLabelSpecHash] = spec_hash(LaunchSpec{spec});
  }
  return spec;
}

LaunchedContainer launch_container(const ContainerLaunch& ctx, const ContainerSpec& wanted) {
  const ContainerSpec spec = with_ownership_labels(wanted, ctx.stage);
  const std::string hash = spec.labels.at(kLabelSpecHash);
  Docker& client = ctx.client;

  ctx.images.ensure(client, ctx.stage, spec.image, ctx.on_pull_percent);

  std::map<std::string, std::string> ours{{kLabelAgent, "true"}, {kLabelStage, ctx.stage}};
  if (auto node = label_of(spec.labels, kLabelNode); !node.empty()) ours[kLabelNode] = node;
  const ContainerPlan plan = plan_containers(client.list_containers(ours, true), hash);

  for (const auto& stale : plan.remove) {
    const std::string why =
        label_of(stale.labels, kLabelSpecHash) == hash ? "not running" : "made from another spec";
    spdlog::info("{}: removing container {} ({})", ctx.stage, short_container_id(stale.id), why);
    if (stale.state == "running" || stale.state == "restarting") {
      client.stop_container(stale.id, whole_seconds(ctx.stop_timeout));
    }
    client.remove_container(stale.id, true);
  }

  if (plan.adopt) {
    auto adopted = observe(client, *plan.adopt, true);
    if (adopted.running) {
      spdlog::info("{}: adopted container {} ({}, pid {})", ctx.stage,
                   short_container_id(adopted.id), adopted.name, adopted.pid);
      return adopted;
    }
    // It ended between the listing and now: replace it like any stale one.
    spdlog::info("{}: removing container {} (ended before it could be adopted)", ctx.stage,
                 short_container_id(adopted.id));
    client.remove_container(adopted.id, true);
  }

  const std::string id = create(ctx, spec);
  spdlog::info("{}: created container {} ({}) from {}", ctx.stage, short_container_id(id),
               spec.name, spec.image);
  client.start_container(id);
  auto started = observe(client, id, false);
  spdlog::info("{}: started container {} (pid {})", ctx.stage, short_container_id(id), started.pid);
  return started;
}

}  // namespace kna
