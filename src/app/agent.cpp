#include "app/agent.hpp"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "api/server.hpp"
#include "app/checkpoint.hpp"
#include "app/facts.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/node_prober.hpp"
#include "app/preparing_runtime.hpp"
#include "app/subnet_tracker.hpp"
#include "app/version.hpp"
#include "config/report.hpp"
#include "kna/catalogue.hpp"
#include "kna/supervisor.hpp"
#include "platform/boot_id.hpp"
#include "platform/child_reaper.hpp"
#include "platform/sd_notify.hpp"
#include "platform/self_exec.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/prober.hpp"
#include "runtime/process_runtime.hpp"
#include "runtime/runtime_router.hpp"

namespace kna::app {
namespace {

namespace asio = boost::asio;

// Creates the folders the agent itself writes to; an error names the folder.
Status make_own_dirs(const Config& cfg) {
  namespace fs = std::filesystem;
  for (const auto& dir : {cfg.paths.run_dir, cfg.paths.state_dir,
                          fs::path(cfg.paths.status_socket).parent_path().string()}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  }
  return kOk;
}

std::string count_ready(const std::vector<StageStatus>& stages) {
  int ready = 0;
  for (const auto& s : stages) ready += s.state == StageState::ready ? 1 : 0;
  return std::to_string(ready) + "/" + std::to_string(stages.size()) + " stages ready";
}

}  // namespace

int run_agent(const LoadedConfig& loaded) {
  const Config& cfg = loaded.config;
  // Before anything else: after an upgrade /proc/self/exe names the deleted old binary.
  auto self = capture_self();
  if (!configure_logging(cfg.log_level, cfg.log_format)) return kExitConfig;
  spdlog::info("kube-node-agent {} starting as {} node {} (pid {})", kVersion,
               cfg.role == Role::master ? "master" : "worker", cfg.node_name, getpid());
  if (!loaded.file_used.empty()) spdlog::info("configuration file {}", loaded.file_used);
  for (const auto& line : startup_report(cfg)) spdlog::info("{}", line);

  if (auto dirs = make_own_dirs(cfg); !dirs) {
    spdlog::critical("{}", dirs.error().message);
    return 1;
  }

  // Orphans of our children (dockerd's containerd after dockerd died) become ours to reap and
  // to clean up, in every mode; as PID 1 they are ours anyway.
  if (getpid() != 1) {
    if (auto sub = ChildReaper::become_subreaper(); !sub) spdlog::warn("{}", sub.error().message);
  }

  auto boot = boot_id();
  if (!boot)
    spdlog::warn("{}: nothing an earlier agent left will be adopted", boot.error().message);
  const std::string boot_id_now = boot ? boot.value() : std::string();
  const std::string checkpoint_path = cfg.paths.state_dir + "/checkpoint.json";
  const auto previous = boot ? load_checkpoint(checkpoint_path, boot_id_now) : std::nullopt;
  // A checkpoint of this boot is left only by an agent that did not stop its stages.
  const int agent_restarts = previous ? previous->agent_restarts + 1 : 0;

  asio::io_context io;
  AsioDispatcher dispatcher(io);
  ProcessRuntime::Options process_options;
  if (boot) process_options.record_dir = cfg.paths.run_dir + "/processes";
  process_options.log_dir = cfg.paths.state_dir + "/logs";
  process_options.boot_id = boot_id_now;
  ProcessRuntime processes(io, dispatcher, process_options);
  ContainerRuntimeOptions container_options;
  container_options.image_dir = cfg.paths.image_dir;
  container_options.pull_progress_bar = isatty(STDERR_FILENO) && cfg.log_format == LogFormat::text;
  ContainerRuntime containers(dispatcher, container_options);
  RuntimeRouter router(dispatcher, processes, &containers);
  // Each launch prepares the host first (files, shared mounts, a stale docker0, mount sources),
  // on a thread of its own.
  PreparingRuntime runtime(dispatcher, router);
  RealProber prober(io, dispatcher);

  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  NodeProber node_prober(dispatcher, prober);
  std::function<void(const std::string&)> restart_main_docker;
  SubnetTracker subnets(io, cfg, [&](const std::string& why) { restart_main_docker(why); });
  // The resolver runs on the loop right before each launch, so main-docker always gets the subnet
  // flannel holds now. It only builds the spec: its host steps run in `runtime`, off the loop.
  auto resolve = [&](const std::string& stage) -> Result<StageSpec> {
    PlanFacts facts;
    if (stage == kStageMainDocker) {
      auto subnet = subnets.subnet_for_launch();
      if (!subnet) return subnet.error();
      facts.subnet = subnet.value();
    }
    return build_stage(cfg, stage, facts);
  };
  // As each stage would be launched now (main-docker with the subnet in subnet.env): what
  // recovery compares with what runs.
  const std::vector<StageSpec> planned = build_plan(cfg, current_facts(cfg));
  Supervisor supervisor(dispatcher, runtime, node_prober, planned, resolve,
                        [&] { return uniform(rng); });
  if (previous) supervisor.restore(previous->stages);
  restart_main_docker = [&](const std::string& why) { supervisor.restart(kStageMainDocker, why); };
  if (auto watching = subnets.start(); !watching) {
    spdlog::critical("flannel: {}", watching.error().message);
    return 1;
  }

  const api::AgentIdentity who{cfg.node_name,
                               cfg.role == Role::master ? "master" : "worker",
                               kVersion,
                               static_cast<int>(getpid()),
                               dispatcher.wall_now(),
                               agent_restarts};
  api::StatusBoard board;
  AgentMetrics metrics;
  metrics.set_agent_restarts(agent_restarts);
  bool checkpointing = static_cast<bool>(boot);
  // Written off the loop (a fsync per transition); only the newest one pending is written.
  CheckpointWriter checkpoints(checkpoint_path);
  auto current_checkpoint = [&] {
    return Checkpoint{boot_id_now, agent_restarts, histories(supervisor.status())};
  };
  auto save_checkpoint_now = [&] {
    if (checkpointing) checkpoints.submit(current_checkpoint());
  };
  auto publish = [&] {
    const auto stages = supervisor.status();
    board.publish(api::make_report(who, stages, supervisor.stopping(), dispatcher));
    notify_status(count_ready(stages));
  };
  supervisor.add_observer([&](const Transition& t) {
    metrics.record(t);
    publish();
    save_checkpoint_now();
  });
  supervisor.add_change_observer([&] {
    publish();
    save_checkpoint_now();
  });
  publish();

  api::ApiServer server(cfg.paths.status_socket, board, [&metrics] { return metrics.text(); });
  if (auto started = server.start(); !started) {
    spdlog::critical("api: {}", started.error().message);
    return 1;
  }

  // As PID 1 or subreaper, orphans are re-parented to us: reap them, or they stay zombies.
  auto reaper = std::make_unique<ChildReaper>(
      io, [&](int pid) { return processes.owns(pid) || prober.owns(pid); });
  reaper->start();

  // SIGUSR2: upgrade in place. The stages keep running; the new binary adopts them.
  asio::signal_set upgrade_signal(io, SIGUSR2);
  std::function<void(const boost::system::error_code&, int)> on_upgrade =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (supervisor.stopping() || !self) {
          spdlog::warn("SIGUSR2 ignored: {}", supervisor.stopping()
                                                  ? "stopping"
                                                  : "cannot re-execute: " + self.error().message);
          upgrade_signal.async_wait(on_upgrade);
          return;
        }
        spdlog::info("SIGUSR2: re-executing {}; every stage keeps running and is adopted",
                     self.value().executable);
        if (checkpointing) {
          if (auto saved = checkpoints.write_now(current_checkpoint()); !saved)
            spdlog::warn("checkpoint: {}; status after the re-exec will start from zero",
                         saved.error().message);
        }
        notify_reloading();
        server.stop();
        spdlog::default_logger()->flush();
        const Error failed = exec_self(self.value());
        spdlog::error("{}; carrying on as before", failed.message);
        if (auto restarted = server.start(); !restarted)
          spdlog::error("api: {}", restarted.error().message);
        notify_ready();
        upgrade_signal.async_wait(on_upgrade);
      };
  upgrade_signal.async_wait(on_upgrade);

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
            // Nothing runs any more: the next agent starts afresh, not as a restart.
            checkpointing = false;
            checkpoints.remove();
            server.stop();
            subnets.stop();
            signals.cancel();
            upgrade_signal.cancel();
            reaper->stop();
            io.stop();
          });
          publish();
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  // Recovery before the first start: what an earlier agent left is adopted, not restarted.
  runtime.recover(planned, [&](RecoveryReport report) {
    for (const auto& note : report.notes) spdlog::info("recovery: {}", note);
    for (const auto& stage : report.removed)
      spdlog::info("recovery: {}: stopped and removed: the stage is no longer planned", stage);
    if (!report.adoptable.empty())
      spdlog::info("recovery: adopting {} (agent restart {} in this boot)",
                   fmt::join(report.adoptable, ", "), agent_restarts);
    supervisor.start(report.adoptable);
  });
  notify_ready();
  io.run();
  return 0;
}

}  // namespace kna::app
