#pragma once
// The blocking steps of launching a stage's container, run on a worker thread: mark it as ours,
// make sure its image is there, adopt a running container made from the same spec (same spec hash)
// or clear out our stale ones, then create and start a new one. Throws DockerError.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kna/docker.hpp"
#include "kna/spec.hpp"
#include "kna/time.hpp"
#include "runtime/image_store.hpp"

namespace kna {

// What to do with the containers found for a stage.
struct ContainerPlan {
  std::optional<std::string> adopt;      // a running container with the wanted spec hash
  std::vector<ContainerSummary> remove;  // every other one
};
// Pure: picks the first running container whose spec-hash label is `spec_hash`.
ContainerPlan plan_containers(const std::vector<ContainerSummary>& found,
                              const std::string& spec_hash);

// The value of label `key`, or "" when there is none.
std::string label_of(const std::map<std::string, std::string>& labels, const char* key);

// `spec` with the ownership labels: managed=true, the stage, and the spec hash when missing.
ContainerSpec with_ownership_labels(ContainerSpec spec, const std::string& stage);

struct LaunchedContainer {
  std::string id;
  std::string name;
  int pid{0};
  bool running{false};                       // false: it ended right after starting
  std::optional<std::int64_t> started_nano;  // State.StartedAt
  bool adopted{false};
};

struct ContainerLaunch {
  Docker& client;
  ImageStore& images;
  std::string stage;
  Millis stop_timeout;                               // for stopping stale containers
  std::function<void(int percent)> on_pull_percent;  // worker thread
};

LaunchedContainer launch_container(const ContainerLaunch& ctx, const ContainerSpec& spec);

}  // namespace kna
