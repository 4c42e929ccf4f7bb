#include "kube/kubelet_pods.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "clients/docker_client.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

bool transient(const DockerError& e) {
  return e.kind() == DockerError::Kind::unavailable || e.kind() == DockerError::Kind::timeout;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

StaticPods::StaticPods(std::string manifest_dir, std::string node, std::string version,
                       DockerClient& docker)
    : dir_(std::move(manifest_dir)),
      node_(std::move(node)),
      version_(std::move(version)),
      docker_(docker) {}

void StaticPods::run(const StopFlag& stop) {
  spdlog::info("Watching {} for static pod manifests", dir_);
  do {
    sync();
  } while (!stop.wait_for(milliseconds(1'000)));
}

void StaticPods::sync() {
  auto wanted = read_manifests();
  if (!wanted) return;
  try {
    remove_unwanted(*wanted);
    const auto now = Clock::now();
    for (const auto& [name, want] : *wanted) {
      Tracked& tracked = tracked_[name];
      try {
        ensure(want, tracked, now);
      } catch (const DockerError& e) {
        if (transient(e)) throw;
        spdlog::error("{}", e.what());
        back_off(tracked, now);
      }
    }
    std::erase_if(tracked_, [&](const auto& entry) { return wanted->count(entry.first) == 0; });
    if (!docker_problem_.empty()) spdlog::info("dockerd at {} reachable", docker_.socket_path());
    docker_problem_.clear();
  } catch (const DockerError& e) {
    if (docker_problem_ != e.what()) spdlog::error("Cannot sync static pods: {}", e.what());
    docker_problem_ = e.what();
  }
}

std::optional<std::map<std::string, DesiredContainer>> StaticPods::read_manifests() {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    files.push_back(it->path());
  if (ec) {
    const std::string problem = "cannot read manifest folder " + dir_ + ": " + ec.message();
    if (problem != dir_problem_) spdlog::error("{}", problem);
    dir_problem_ = problem;
    // Like the real kubelet: a folder that does not exist holds no pods; any other failure
    // changes nothing.
    if (ec != std::errc::no_such_file_or_directory) return std::nullopt;
    files.clear();
  } else {
    dir_problem_.clear();
  }
  std::sort(files.begin(), files.end());

  std::map<std::string, DesiredContainer> wanted;
  std::map<std::string, std::string> bad;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    if (name.empty() || name.front() == '.' || !fs::is_regular_file(path, ec)) continue;
    if (path.extension() != ".json") {
      if (ignored_files_.insert(path.string()).second)
        spdlog::info("Ignoring manifest file {}: the stand-in reads only .json manifests",
                     path.string());
      continue;
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto containers = static_pod_containers(text.str(), node_, version_);
    if (!containers) {
      const auto previous = bad_files_.find(path.string());
      if (previous == bad_files_.end() || previous->second != text.str())
        spdlog::error("Can't process manifest file {}: {}", path.string(),
                      containers.error().message);
      bad[path.string()] = text.str();
      continue;
    }
    for (auto& c : containers.value()) {
      const std::string container = c.spec.name;
      if (!wanted.emplace(container, std::move(c)).second)
        spdlog::warn("Manifest file {} repeats container {}: ignoring it", path.string(),
                     container);
    }
  }
  bad_files_ = std::move(bad);
  return wanted;
}

void StaticPods::remove_unwanted(const std::map<std::string, DesiredContainer>& wanted) {
  for (const auto& c : docker_.list_containers({{kManagedByLabel, kManagedByStandin}}, true)) {
    const auto pod = c.labels.find(kPodNameLabel);
    if (pod == c.labels.end() || !ends_with(pod->second, "-" + node_)) continue;  // another node's
    const std::string name = c.names.empty() ? c.id : c.names.front();
    if (wanted.count(name) != 0) continue;
    spdlog::info("Removing container {} of static pod {}: its manifest changed or is gone", name,
                 pod->second);
    // The real kubelet grants 30 s (terminationGracePeriodSeconds) before SIGKILL.
    if (c.state == "running") docker_.stop_container(c.id, std::chrono::seconds(5));
    docker_.remove_container(c.id, true);
    tracked_.erase(name);
  }
}

void StaticPods::ensure(const DesiredContainer& want, Tracked& tracked, Clock::time_point now) {
  const std::string& name = want.spec.name;
  const auto info = docker_.inspect_container(name);
  if (!info) {
    tracked.started.reset();
    if (tracked.retry && now < *tracked.retry) return;
    create(want, tracked, now);
    return;
  }
  const auto owner = info->labels.find(kManagedByLabel);
  if (owner == info->labels.end() || owner->second != kManagedByStandin) {
    if (!tracked.foreign_logged)
      spdlog::warn("Container {} exists but no kubelet stand-in started it: leaving it alone",
                   name);
    tracked.foreign_logged = true;
    return;
  }
  if (!tracked.known) {
    tracked.known = true;
    spdlog::info("Adopted container {} of static pod {} ({})", name, want.pod, info->state.status);
    if (info->state.running) tracked.started = now;
  }
  if (info->state.running) {
    tracked.exit_logged = false;
    if (tracked.started && now - *tracked.started >= kMaxDelay) tracked.delay = kFirstDelay;
    return;
  }

  // Not running: "created" (a previous run stopped between create and start) or exited.
  const bool exited = info->state.status != "created";
  const int code = info->state.exit_code;
  const bool restart = !exited || want.restart == RestartPolicy::always ||
                       (want.restart == RestartPolicy::on_failure && code != 0);
  if (!restart) {
    if (!tracked.exit_logged)
      spdlog::info(
          "Container {} of static pod {} exited with code {}; its restartPolicy keeps it "
          "stopped",
          name, want.pod, code);
    tracked.exit_logged = true;
    return;
  }
  if (exited && !tracked.retry) {
    spdlog::info("Container {} of static pod {} exited with code {}; restarting in {} ms", name,
                 want.pod, code, tracked.delay.count());
    back_off(tracked, now);
    return;
  }
  if (tracked.retry && now < *tracked.retry) return;
  start(want, info->id, tracked, now);
}

void StaticPods::create(const DesiredContainer& want, Tracked& tracked, Clock::time_point now) {
  const std::string& image = want.spec.image;
  if (!docker_.inspect_image(image)) {
    try {
      spdlog::info("Pulling image {} for static pod {}", image, want.pod);
      docker_.pull_image(image);
    } catch (const DockerError& e) {
      if (e.kind() == DockerError::Kind::unavailable) throw;
      // Logged at every attempt, as the real kubelet does; the back-off spaces them out.
      spdlog::error("image {} is not present and could not be pulled: {}", image,
                    e.daemon_message().empty() ? e.what() : e.daemon_message());
      back_off(tracked, now);
      return;
    }
  }
  ContainerSpec spec = want.spec;
  spec.docker_socket = docker_.socket_path();
  const std::string id = docker_.create_container(spec);
  tracked.known = true;
  start(want, id, tracked, now);
}

void StaticPods::start(const DesiredContainer& want, const std::string& id, Tracked& tracked,
                       Clock::time_point now) {
  docker_.start_container(id);
  spdlog::info("Started container {} of static pod {}", want.spec.name, want.pod);
  tracked.started = now;
  tracked.retry.reset();
}

void StaticPods::back_off(Tracked& tracked, Clock::time_point now) {
  tracked.retry = now + tracked.delay;
  tracked.delay = std::min(tracked.delay * 2, kMaxDelay);
}

}  // namespace kna::standins
