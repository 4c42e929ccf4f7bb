#include "app/cli.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/client.hpp"
#include "app/agent.hpp"
#include "app/facts.hpp"
#include "app/logging.hpp"
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

// The status socket for `status`: the flag, else KNA_STATUS_SOCKET, else paths.status_socket of the
// config file when it can be read (leniently: status must work even if the rest is invalid).
std::string status_socket_for(const std::string& flag, const std::string& config_path) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KNA_STATUS_SOCKET"); env != nullptr && *env != '\0') return env;
  std::ifstream in(config_path.empty() ? kDefaultConfigPath : config_path);
  if (in) {
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("paths") && j["paths"].is_object() &&
        j["paths"].contains("status_socket") && j["paths"]["status_socket"].is_string()) {
      return j["paths"]["status_socket"].get<std::string>();
    }
  }
  return Paths{}.status_socket;
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

int cmd_status(const std::string& socket, const std::string& output, int timeout_ms) {
  auto report = api::fetch_status(socket, Millis(timeout_ms));
  if (!report) {
    std::cerr << "kube-node-agent: " << report.error().message << "\n";
    return kExitUnavailable;
  }
  if (output == "json") {
    std::cout << api::to_json(report.value()).dump(2) << "\n";
  } else {
    std::cout << api::render_status_table(report.value(), WallClock::now());
  }
  return report.value().ready ? 0 : 3;  // like `systemctl status`: 3 = not (fully) running
}

}  // namespace

int main_cli(int argc, char** argv) {
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

  std::string status_output = "text", status_socket, status_config;
  int status_timeout_ms = 3000;
  auto* status = app.add_subcommand("status", "Ask the running agent for the state of each stage");
  status->add_option("-o,--output", status_output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  status->add_option("--status-socket", status_socket, "The agent's API socket");
  status->add_option("--config", status_config, "Config file to read paths.status_socket from");
  status->add_option("--timeout-ms", status_timeout_ms, "How long to wait for the agent")
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
  if (*status) return cmd_status(status_socket_for(status_socket, status_config), status_output,
                                 status_timeout_ms);
  if (*plan) return cmd_plan(plan_inputs, plan_output);
  if (*config) return cmd_config(config_inputs, config_output);
  auto loaded = load_or_report(run_inputs);
  if (!loaded) return kExitConfig;
  return run_agent(*loaded);
}

}  // namespace kna::app
