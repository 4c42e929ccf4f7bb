#include "app/agent.hpp"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
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
#include "app/reload.hpp"
#include "app/service_notifier.hpp"
#include "app/subnet_tracker.hpp"
#include "app/version.hpp"
#include "config/report.hpp"
#include "kna/catalogue.hpp"
#include "kna/supervisor.hpp"
#include "platform/boot_id.hpp"
#include "platform/child_reaper.hpp"
#include "platform/container_init.hpp"
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

// PID 1 of a container: cgroups as dockerd needs them, / shared, the host name; before anything
// is forked. An error is fatal: no daemon could run without it.
Status init_container(const Config& cfg) {
  auto steps = setup_cgroups(CgroupTree{}, system_mounts());
  if (!steps) return steps.error();
  for (const auto& step : steps.value()) spdlog::info("container init: {}", step);
  if (steps.value().empty()) spdlog::info("container init: cgroups already in place");
  if (auto shared = make_root_shared(system_mounts()); !shared) {
    return Error{
        "cannot make / a shared mount (the kubelet's volumes would not reach dockerd's "
        "containers): " +
        shared.error().message};
  }
  spdlog::info("container init: / is a shared mount");
  if (cfg.init.hostname) {
    if (auto named = set_host_name(cfg.node_name); !named) return named.error();
    spdlog::info("container init: host name set to {}", cfg.node_name);
  }
  return kOk;
}

// Where each stage's output can be read: a process stage's log file, a container's logs.
std::map<std::string, api::LogSource> log_sources(const std::vector<StageSpec>& specs,
                                                  const std::string& log_dir) {
  std::map<std::string, api::LogSource> out;
  for (const auto& spec : specs) {
    if (const auto* c = std::get_if<ContainerSpec>(&spec.launch))
      out.emplace(spec.name, api::ContainerLogs{c->docker_socket, c->name});
    else
      out.emplace(spec.name, api::LogFile{log_dir + "/" + spec.name + ".log"});
  }
  return out;
}

// Loop thread: `kube-node-agent restart STAGE`, through the supervisor's own restart (the stage
// stops, what restarts with it stops, and all start again as their dependencies get ready).
api::HttpResponse restart_from_api(Supervisor& supervisor, const std::string& stage,
                                   const std::string& who) {
  if (supervisor.stopping()) return api::text_response(409, "the agent is stopping");
  std::string names;
  for (const auto& s : supervisor.status()) {
    if (s.name == stage) {
      if (s.state == StageState::waiting || s.state == StageState::stopped) {
        return api::text_response(
            409, fmt::format("{} is {}: it has not started, so there is nothing to restart; it "
                             "starts once its dependencies are ready",
                             stage, to_string(s.state)));
      }
      supervisor.restart(stage, "asked through the API by " + who);
      return api::text_response(
          202, fmt::format("restarting {} and the stages that restart with it; `kube-node-agent "
                           "status` shows their progress",
                           stage));
    }
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return api::text_response(
      404, fmt::format("this agent runs no stage \"{}\"; its stages are {}", stage, names));
}

}  // namespace

int run_agent(const LoadedConfig& loaded) {
  // One malloc arena for every thread, set before any thread starts: the agent's threads mostly
  // wait, and an arena of their own each would keep its freed pages (1.5 MB of the agent's
  // resident memory, measured by tests/bench/footprint; docs/benchmarks.md).
  mallopt(M_ARENA_MAX, 1);
  // Replaced by a reload (SIGHUP); everything below reads it at the time it needs it.
  Config cfg = loaded.config;
  // Before anything else: after an upgrade /proc/self/exe names the deleted old binary.
  auto self = capture_self();
  // A parent may have left the signals we handle blocked (a mask survives exec): unblock them
  // before any thread starts, or SIGTERM would never reach its handler.
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR2, SIGCHLD}) sigaddset(&handled, sig);
  pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
  if (!configure_logging(cfg.log_level, cfg.log_format)) return kExitConfig;
  spdlog::info("kube-node-agent {} starting as {} node {} (pid {})", kVersion,
               cfg.role == Role::master ? "master" : "worker", cfg.node_name, getpid());
  if (!loaded.file_used.empty()) spdlog::info("configuration file {}", loaded.file_used);
  for (const auto& line : startup_report(cfg)) spdlog::info("{}", line);

  const bool pid1 = getpid() == 1;
  if (cfg.init.container == ContainerInit::on ||
      (cfg.init.container == ContainerInit::auto_detect && pid1)) {
    if (auto init = init_container(cfg); !init) {
      spdlog::critical("container init: {}", init.error().message);
      return kExitConfig;
    }
  }

  if (auto dirs = make_own_dirs(cfg); !dirs) {
    spdlog::critical("{}", dirs.error().message);
    return 1;
  }

  // Orphans of our children (dockerd's containerd after dockerd died) become ours to reap and
  // to clean up, in every mode; as PID 1 they are ours anyway.
  if (!pid1) {
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
  // The signals are caught from here on: one that arrives before its handler is waiting (during
  // recovery, before the API serves) is kept for it, not acted on by the default (death).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set upgrade_signal(io, SIGUSR2);
  asio::signal_set reload_signal(io, SIGHUP);
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
  // Before the prober: TimedProber's checks in flight and the API's connection threads use it.
  AgentMetrics metrics;
  metrics.set_agent_restarts(agent_restarts);
  RealProber prober(io, dispatcher);
  // Times each readiness check into kna_probe_duration_seconds (the check only, not its step).
  TimedProber timed_prober(prober, dispatcher, metrics);

  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  NodeProber node_prober(dispatcher, timed_prober);
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
  timed_prober.set_stages(planned);
  Supervisor supervisor(dispatcher, runtime, node_prober, planned, resolve,
                        [&] { return uniform(rng); });
  if (previous) supervisor.restore(previous->stages);
  restart_main_docker = [&](const std::string& why) { supervisor.restart(kStageMainDocker, why); };
  if (auto watching = subnets.start(); !watching) {
    spdlog::critical("flannel: {}", watching.error().message);
    return 1;
  }

  api::AgentIdentity who{cfg.node_name,
                         cfg.role == Role::master ? "master" : "worker",
                         kVersion,
                         static_cast<int>(getpid()),
                         dispatcher.wall_now(),
                         agent_restarts};
  api::StatusBoard board;
  bool checkpointing = static_cast<bool>(boot);
  // Written off the loop (a fsync per transition); only the newest one pending is written.
  CheckpointWriter checkpoints(checkpoint_path);
  auto current_checkpoint = [&] {
    return Checkpoint{boot_id_now, agent_restarts, histories(supervisor.status())};
  };
  auto save_checkpoint_now = [&] {
    if (checkpointing) checkpoints.submit(current_checkpoint());
  };
  // systemd (Type=notify): READY=1 once every stage is ready, STATUS=, the watchdog. Without
  // NOTIFY_SOCKET every message is dropped.
  ServiceNotifierOptions notify_options;
  notify_options.watchdog = watchdog_interval();
  // The STATUS= line's times are refreshed every second for systemctl status; with no systemd
  // to read it, that would be a wakeup a second for nothing.
  if (std::getenv("NOTIFY_SOCKET") == nullptr) notify_options.refresh = Duration::zero();
  ServiceNotifier notifier(
      dispatcher, [](const std::string& message) { return notify_raw(message); },
      [&] {
        return ServiceNotifier::Snapshot{supervisor.status(), supervisor.stopping()};
      },
      notify_options);
  if (notify_options.watchdog)
    spdlog::info(
        "systemd watchdog: WatchdogSec={}; pinging every {}",
        fmt::format("{}ms", std::chrono::duration_cast<Millis>(*notify_options.watchdog).count()),
        fmt::format("{}ms",
                    std::chrono::duration_cast<Millis>(*notify_options.watchdog / 2).count()));
  auto publish = [&] {
    const auto stages = supervisor.status();
    metrics.update(stages, dispatcher);
    board.publish(api::make_report(who, stages, supervisor.stopping(), dispatcher));
    notifier.update();
  };
  supervisor.add_observer([&](const Transition& t) {
    metrics.record(t);
    publish();
    save_checkpoint_now();
    // What bring-up allocated and freed (image loads, pulls' progress, the API server's first
    // answers) goes back to the system once the node is up, not kept for the node's lifetime.
    if (t.to == StageState::ready && supervisor.all_ready()) malloc_trim(0);
  });
  supervisor.add_change_observer([&] {
    publish();
    save_checkpoint_now();
  });
  publish();

  // The API's connection threads read the board and the log directory, and ask the loop to
  // restart a stage (waiting for its answer a few seconds at most).
  api::LogDirectory log_directory;
  auto publish_log_sources = [&](const std::vector<StageSpec>& specs) {
    log_directory.publish(log_sources(specs, process_options.log_dir));
  };
  publish_log_sources(planned);
  api::ApiHandlers handlers;
  handlers.metrics = [&metrics] { return metrics.text(); };
  handlers.log_source = [&log_directory](const std::string& stage) {
    return log_directory.find(stage);
  };
  handlers.restart = [&](const std::string& stage, const api::Peer& peer) {
    auto answer = std::make_shared<std::promise<api::HttpResponse>>();
    auto future = answer->get_future();
    dispatcher.post([&supervisor, answer, stage, who = peer.describe()] {
      answer->set_value(restart_from_api(supervisor, stage, who));
    });
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
      return api::text_response(504,
                                "the agent did not take the restart within 5 s: is it busy "
                                "or stopping? See its log");
    return future.get();
  };
  api::ApiOptions api_options;
  api_options.socket_path = cfg.paths.status_socket;
  api_options.socket_mode = static_cast<mode_t>(std::stoul(cfg.api.socket_mode, nullptr, 8));
  api_options.socket_group = cfg.api.socket_group;
  api_options.metrics_address = cfg.api.metrics_address;
  api::ApiServer server(api_options, board, handlers);
  if (auto started = server.start(); !started) {
    spdlog::critical("api: {}", started.error().message);
    return 1;
  }

  // As PID 1 or subreaper, orphans are re-parented to us: reap them, or they stay zombies.
  auto reaper = std::make_unique<ChildReaper>(
      io, [&](int pid) { return processes.owns(pid) || prober.owns(pid); });
  reaper->start();

  // SIGUSR2: upgrade in place. The stages keep running; the new binary adopts them.
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
        notifier.reloading("re-executing " + self.value().executable);
        server.stop();
        spdlog::default_logger()->flush();
        const Error failed = exec_self(self.value());
        spdlog::error("{}; carrying on as before", failed.message);
        if (auto restarted = server.start(); !restarted)
          spdlog::error("api: {}", restarted.error().message);
        notifier.reloaded("re-execution failed: " + failed.message);
        upgrade_signal.async_wait(on_upgrade);
      };
  upgrade_signal.async_wait(on_upgrade);

  // SIGHUP: re-read the configuration. Stages whose specification changed restart (with what
  // restarts with them); the others are left alone. An invalid or inapplicable configuration is
  // refused and the running one kept.
  auto reload_configuration = [&]() -> std::string {
    LoadedConfig fresh;
    try {
      ConfigInputs inputs = loaded.inputs;
      inputs.env = environment_map();
      fresh = load_config(inputs, detect_machine());
    } catch (const ConfigError& e) {
      for (const auto& problem : e.problems()) spdlog::error("reload: {}", problem);
      spdlog::error("reload refused: the new configuration is invalid; the running one is kept");
      return "reload refused: the configuration is invalid (see the log)";
    }
    auto plan = plan_reload(cfg, fresh.config, current_facts(cfg));
    if (!plan) {
      spdlog::error("reload refused: {}; the running configuration is kept", plan.error().message);
      return "reload refused: " + plan.error().message;
    }
    const Config before = cfg;
    cfg = fresh.config;  // before the restarts: their launches resolve from it
    if (auto applied = supervisor.reconfigure(plan.value().stages, plan.value().changed,
                                              "the configuration changed");
        !applied) {
      cfg = before;
      spdlog::error("reload refused: {}; the running configuration is kept",
                    applied.error().message);
      return "reload refused: " + applied.error().message;
    }
    if (cfg.log_level != before.log_level || cfg.log_format != before.log_format)
      configure_logging(cfg.log_level, cfg.log_format);
    who.node = cfg.node_name;
    publish_log_sources(plan.value().stages);
    timed_prober.set_stages(plan.value().stages);
    const std::string changed = describe_changed(plan.value().changed);
    spdlog::info("reload: configuration applied; restarting {}, every other stage left alone",
                 changed);
    publish();
    return "reloaded: restarted " + changed;
  };
  std::function<void(const boost::system::error_code&, int)> on_reload =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (supervisor.stopping()) {
          spdlog::warn("SIGHUP ignored: stopping");
        } else {
          spdlog::info("SIGHUP: re-reading the configuration{}",
                       loaded.file_used.empty() ? "" : " from " + loaded.file_used);
          notifier.reloading("reloading the configuration");
          notifier.reloaded(reload_configuration());
        }
        reload_signal.async_wait(on_reload);
      };
  reload_signal.async_wait(on_reload);

  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (supervisor.stopping()) {
          spdlog::warn("received signal {} while stopping: still stopping stages in order", signo);
        } else {
          spdlog::info("received signal {}: stopping every stage, dependents first", signo);
          notifier.stopping();
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
            reload_signal.cancel();
            notifier.stop();
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
  notifier.start();
  io.run();
  return 0;
}

}  // namespace kna::app
