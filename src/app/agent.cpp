#include "app/agent.hpp"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "api/server.hpp"
#include "app/facts.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/node_prober.hpp"
#include "app/stage_files.hpp"
#include "app/subnet_tracker.hpp"
#include "app/version.hpp"
#include "config/report.hpp"
#include "kna/catalogue.hpp"
#include "kna/supervisor.hpp"
#include "platform/child_reaper.hpp"
#include "platform/sd_notify.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/prober.hpp"
#include "runtime/process_runtime.hpp"
#include "runtime/runtime_router.hpp"

namespace kna::app {
namespace {

namespace asio = boost::asio;

// Creates the folders the agent itself writes to; an error names the folder.
Result<bool> make_own_dirs(const Config& cfg) {
  namespace fs = std::filesystem;
  for (const auto& dir : {cfg.paths.run_dir, cfg.paths.state_dir,
                          fs::path(cfg.paths.status_socket).parent_path().string()}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  }
  return true;
}

// Like `docker run -v`, create a missing host folder of a bind mount (etcd's data, flannel's run
// folder) rather than failing the container.
void make_mount_sources(const StageSpec& spec) {
  const auto* container = std::get_if<ContainerSpec>(&spec.launch);
  if (container == nullptr) return;
  for (const auto& m : container->mounts) {
    std::error_code ec;
    if (std::filesystem::exists(m.source, ec)) continue;
    std::filesystem::create_directories(m.source, ec);
    if (ec) spdlog::warn("{}: cannot create {}: {}", spec.name, m.source, ec.message());
  }
}

std::string count_ready(const std::vector<StageStatus>& stages) {
  int ready = 0;
  for (const auto& s : stages) ready += s.state == StageState::ready ? 1 : 0;
  return std::to_string(ready) + "/" + std::to_string(stages.size()) + " stages ready";
}

}  // namespace

int run_agent(const LoadedConfig& loaded) {
  const Config& cfg = loaded.config;
  if (!configure_logging(cfg.log_level, cfg.log_format)) return kExitConfig;
  spdlog::info("kube-node-agent {} starting as {} node {} (pid {})", kVersion,
               cfg.role == Role::master ? "master" : "worker", cfg.node_name, getpid());
  if (!loaded.file_used.empty()) spdlog::info("configuration file {}", loaded.file_used);
  for (const auto& line : startup_report(cfg)) spdlog::info("{}", line);

  if (auto dirs = make_own_dirs(cfg); !dirs) {
    spdlog::critical("{}", dirs.error().message);
    return 1;
  }

  asio::io_context io;
  AsioDispatcher dispatcher(io);
  ProcessRuntime processes(io, dispatcher);
  ContainerRuntimeOptions container_options;
  container_options.image_dir = cfg.paths.image_dir;
  container_options.pull_progress_bar = isatty(STDERR_FILENO) && cfg.log_format == LogFormat::text;
  ContainerRuntime containers(dispatcher, container_options);
  RuntimeRouter runtime(dispatcher, processes, &containers);
  RealProber prober(io, dispatcher);

  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  NodeProber node_prober(dispatcher, prober, cfg);
  std::function<void(const std::string&)> restart_main_docker;
  SubnetTracker subnets(io, cfg, [&](const std::string& why) { restart_main_docker(why); });
  // The resolver runs right before each launch, so main-docker always gets the subnet flannel
  // holds now.
  auto resolve = [&](const std::string& stage) -> Result<StageSpec> {
    PlanFacts facts;
    if (stage == kStageMainDocker) {
      auto subnet = subnets.prepare_main_docker();
      if (!subnet) return subnet.error();
      facts.subnet = subnet.value();
    }
    auto spec = build_stage(cfg, stage, facts);
    if (!spec) return spec;
    if (auto prepared = prepare_stage_host(spec.value()); !prepared) return prepared.error();
    make_mount_sources(spec.value());
    return spec;
  };
  Supervisor supervisor(dispatcher, runtime, node_prober, build_plan(cfg, current_facts(cfg)),
                        resolve, [&] { return uniform(rng); });
  restart_main_docker = [&](const std::string& why) { supervisor.restart(kStageMainDocker, why); };
  if (auto watching = subnets.start(); !watching) {
    spdlog::critical("flannel: {}", watching.error().message);
    return 1;
  }

  const api::AgentIdentity who{cfg.node_name, cfg.role == Role::master ? "master" : "worker",
                               kVersion, static_cast<int>(getpid()), dispatcher.wall_now()};
  api::StatusBoard board;
  AgentMetrics metrics;
  auto publish = [&] {
    const auto stages = supervisor.status();
    board.publish(api::make_report(who, stages, supervisor.stopping(), dispatcher));
    notify_status(count_ready(stages));
  };
  supervisor.add_observer([&](const Transition& t) {
    metrics.record(t);
    publish();
  });
  publish();

  api::ApiServer server(cfg.paths.status_socket, board, [&metrics] { return metrics.text(); });
  if (auto started = server.start(); !started) {
    spdlog::critical("api: {}", started.error().message);
    return 1;
  }

  // As PID 1 of a container, orphans are re-parented to us: reap them, or they stay zombies.
  std::unique_ptr<ChildReaper> reaper;
  if (getpid() == 1) {
    reaper = std::make_unique<ChildReaper>(
        io, [&](int pid) { return processes.owns(pid) || prober.owns(pid); });
    reaper->start();
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (supervisor.stopping()) {
          spdlog::warn("received signal {} while stopping: still stopping stages in order", signo);
        } else {
          spdlog::info("received signal {}: stopping every stage, dependents first", signo);
          notify_stopping();
          supervisor.stop([&] {
            spdlog::info("every stage stopped");
            publish();
            server.stop();
            subnets.stop();
            signals.cancel();
            if (reaper) reaper->stop();
            io.stop();
          });
          publish();
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  supervisor.start();
  notify_ready();
  io.run();
  return 0;
}

}  // namespace kna::app
