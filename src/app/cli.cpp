#include "app/cli.hpp"

#include <cctype>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/client.hpp"
#include "app/agent.hpp"
#include "app/check.hpp"
#include "app/facts.hpp"
#include "app/install.hpp"
#include "app/logging.hpp"
#include "app/reset.hpp"
#include "app/version.hpp"
#include "kna/catalogue.hpp"
#include "kna/config_load.hpp"

namespace kna::app {
namespace {

std::optional<LoadedConfig> load_or_report(ConfigInputs& inputs) {
  inputs.env = environment_map();
  try {
    return load_config(inputs, detect_machine());
  } catch (const ConfigError& e) {
    std::cerr << "kube-node-agent: the configuration is invalid:\n";
    for (const auto& p : e.problems()) std::cerr << "  - " << p << "\n";
    std::cerr << "Nothing was started. Fix the values above (see `kube-node-agent config` and "
                 "docs/configuration.md).\n";
    return std::nullopt;
  }
}

int cmd_plan(ConfigInputs& inputs, const std::string& output) {
  auto loaded = load_or_report(inputs);
  if (!loaded) return kExitConfig;
  const auto plan = build_plan(loaded->config, current_facts(loaded->config));
  if (output == "json") {
    std::cout << render_plan_json(plan).dump(2) << "\n";
  } else {
    std::cout << render_plan_text(plan);
  }
  return 0;
}

int cmd_config(ConfigInputs& inputs, const std::string& output) {
  auto loaded = load_or_report(inputs);
  if (!loaded) return kExitConfig;
  if (output == "json") {
    std::cout << render_config_json(*loaded).dump(2) << "\n";
  } else {
    std::cout << render_config_text(*loaded);
  }
  return 0;
}

// Where the running agent answers: --status-socket, else the configuration's paths.status_socket.
struct AgentAddress {
  std::string socket;
  std::string config;
  int timeout_ms = 3000;
  void add_flags(CLI::App& cmd) {
    cmd.add_option("--status-socket", socket, "The agent's API socket");
    cmd.add_option("--config", config,
                   "Config file to read paths.status_socket (or paths.run_dir) from");
    cmd.add_option("--timeout-ms", timeout_ms, "How long to wait for the agent")
        ->check(CLI::Range(1, 600000));
  }
  std::string resolve() const {
    ConfigInputs inputs;
    if (!config.empty()) inputs.config_path = config;
    inputs.env = environment_map();
    if (!socket.empty()) inputs.flags.emplace_back("paths.status_socket", socket);
    return status_socket_of(inputs);
  }
};

// A stage name as one segment of a request path.
std::string path_segment(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
      out += c;
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

struct StatusOptions {
  AgentAddress agent;
  std::string output = "text";
  std::string stage;
};

int cmd_status(const StatusOptions& opts) {
  const std::string socket = opts.agent.resolve();
  auto report = api::fetch_status(socket, Millis(opts.agent.timeout_ms));
  if (!report) {
    std::cerr << "kube-node-agent: " << report.error().message << "\n";
    return kExitUnavailable;
  }
  if (!opts.stage.empty()) {
    for (const auto& s : report.value().stages) {
      if (s.name != opts.stage) continue;
      std::cout << s.name << " " << s.state << "\n";
      return s.state == "ready" ? 0 : 3;
    }
    std::cerr << "kube-node-agent: the agent on " << socket << " runs no stage '" << opts.stage
              << "'\n";
    return kExitUsage;
  }
  const std::string& output = opts.output;
  if (output == "json") {
    std::cout << api::to_json(report.value()).dump(2) << "\n";
  } else {
    std::cout << api::render_status_table(report.value(), WallClock::now());
  }
  return report.value().ready ? 0 : 3;  // like `systemctl status`: 3 = not (fully) running
}

struct StageVerbOptions {
  AgentAddress agent;
  std::string stage;
  bool follow = false;
  int tail = 100;
};

// 1 when the agent refused or failed (its answer says why), kExitUnavailable when none answers.
int verb_failed(const Error& e) {
  std::cerr << "kube-node-agent: " << e.message << "\n";
  return e.message.starts_with("no agent") ? kExitUnavailable : 1;
}

int cmd_restart(const StageVerbOptions& opts) {
  auto said = api::post_to_agent(opts.agent.resolve(),
                                 "/v1/stages/" + path_segment(opts.stage) + "/restart",
                                 Millis(opts.agent.timeout_ms));
  if (!said) return verb_failed(said.error());
  std::cout << said.value();
  return 0;
}

int cmd_logs(const StageVerbOptions& opts) {
  const std::string path = fmt::format("/v1/stages/{}/logs?tail={}{}", path_segment(opts.stage),
                                       opts.tail, opts.follow ? "&follow=1" : "");
  auto streamed = api::stream_from_agent(
      opts.agent.resolve(), path, Millis(opts.agent.timeout_ms), [](std::string_view data) {
        // A reader that went away (`| head`) ends the stream.
        return std::fwrite(data.data(), 1, data.size(), stdout) == data.size() &&
               std::fflush(stdout) == 0;
      });
  return streamed ? 0 : verb_failed(streamed.error());
}

}  // namespace

int main_cli(int argc, char** argv) {
  // A daemon that closes its socket while we write to it must fail that request, not end the agent.
  std::signal(SIGPIPE, SIG_IGN);
  init_logging();
  CLI::App app{"kube-node-agent: makes this machine a Kubernetes node and keeps it one"};
  app.require_subcommand(1);

  ConfigInputs run_inputs, plan_inputs, config_inputs;
  auto* run = app.add_subcommand("run", "Run the node in the foreground until SIGINT/SIGTERM");
  add_config_flags(*run, &run_inputs);

  std::string plan_output = "text";
  auto* plan = app.add_subcommand("plan", "Show the stages of this node and how each is launched");
  add_config_flags(*plan, &plan_inputs);
  plan->add_option("-o,--output", plan_output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  std::string config_output = "text";
  auto* config = app.add_subcommand(
      "config", "Show the effective configuration and where each value came from");
  add_config_flags(*config, &config_inputs);
  config->add_option("-o,--output", config_output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  StatusOptions status_opts;
  auto* status = app.add_subcommand("status", "Ask the running agent for the state of each stage");
  status->add_option("-o,--output", status_opts.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  status_opts.agent.add_flags(*status);
  status->add_option("--stage", status_opts.stage,
                     "Print only this stage's state; exit 0 when it is ready, 3 when not");

  StageVerbOptions restart_opts;
  auto* restart = app.add_subcommand(
      "restart", "Restart a stage of the running agent, and the stages that restart with it");
  restart->add_option("STAGE", restart_opts.stage, "The stage, as `status` names it")->required();
  restart_opts.agent.add_flags(*restart);

  StageVerbOptions logs_opts;
  auto* logs = app.add_subcommand("logs", "Show the output of a stage of the running agent");
  logs->add_option("STAGE", logs_opts.stage, "The stage, as `status` names it")->required();
  logs->add_flag("-f,--follow", logs_opts.follow, "Keep printing what the stage writes");
  logs->add_option("-n,--tail", logs_opts.tail, "How many of the last lines to show first")
      ->check(CLI::Range(0, 100000));
  logs_opts.agent.add_flags(*logs);

  ConfigInputs reset_inputs;
  ResetOptions reset_opts;
  auto* reset = app.add_subcommand(
      "reset", "Undo what an agent on this configuration did to the machine (docs/reset.md)");
  add_config_flags(*reset, &reset_inputs);
  reset->add_flag("--data", reset_opts.data,
                  "Also remove the daemons' data roots, etcd's data, subnet.env and the logs");

  InstallCommands install_commands(app);
  ConfigInputs check_inputs;
  CheckCommandOptions check_opts;
  auto* check = app.add_subcommand(
      "check", "Check this machine for the node: kernel, binaries, paths, ports, master");
  add_config_flags(*check, &check_inputs);
  check->add_option("-o,--output", check_opts.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  check->add_option("--timeout-ms", check_opts.timeout_ms, "Connect timeout to the master")
      ->check(CLI::Range(1, 600000));

  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with a usage hint
    return code == 0 ? 0 : kExitUsage;
  }

  if (*version) {
    std::cout << "kube-node-agent " << kVersion << "\n";
    return 0;
  }
  if (*status) return cmd_status(status_opts);
  if (*restart) return cmd_restart(restart_opts);
  if (*logs) return cmd_logs(logs_opts);
  if (*check) {
    auto loaded = load_or_report(check_inputs);
    return loaded ? cmd_check(loaded->config, check_opts) : kExitConfig;
  }
  if (auto code = install_commands.run()) return *code;
  if (*reset) {
    auto loaded = load_or_report(reset_inputs);
    return loaded ? run_reset(loaded->config, reset_opts, std::cout, std::cerr) : kExitConfig;
  }
  if (*plan) return cmd_plan(plan_inputs, plan_output);
  if (*config) return cmd_config(config_inputs, config_output);
  auto loaded = load_or_report(run_inputs);
  if (!loaded) return kExitConfig;
  if (auto fit = preflight_for_run(loaded->config); !fit) {
    std::cerr << "kube-node-agent: " << fit.error().message;
    return kExitConfig;  // like an invalid configuration: nothing was started
  }
  return run_agent(*loaded);
}

}  // namespace kna::app
