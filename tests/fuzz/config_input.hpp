#pragma once
// Fuzz inputs as the sources of a configuration, and what every loaded configuration must hold,
// for the targets of src/config (config_file, config_layers) and of what is written from it
// (writers).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/tree.hpp"
#include "fuzz.hpp"
#include "kna/catalogue.hpp"
#include "kna/config_load.hpp"

namespace kna::fuzz {

// The machine every input is loaded on: fixed, so that an input loads the same way everywhere.
inline MachineFacts machine() {
  return MachineFacts{"x86_64", "eth0", "192.168.1.10", "fuzz-host"};
}

// The lines of `text` as the agent's command line and environment: a line that starts with '-' is
// one argument ("--master-ip=10.0.0.5") or, split at its first space, two ("--set KEY=VALUE"),
// read by the agent's own flag definitions; any other line is NAME=VALUE in the environment.
// nullopt when CLI11 refuses the command line, as the agent would before loading anything. The
// file is always `config_path`: an input never names a file of this machine.
inline std::optional<ConfigInputs> config_inputs(std::string_view text,
                                                 const std::string& config_path) {
  ConfigInputs inputs;
  std::vector<std::string> args{"kube-node-agent"};
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.starts_with("-")) {
      const auto space = line.find(' ');
      args.emplace_back(line.substr(0, space));
      if (space != std::string_view::npos) args.emplace_back(line.substr(space + 1));
    } else if (const auto eq = line.find('='); eq != std::string_view::npos) {
      inputs.env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
  }
  CLI::App app;
  add_config_flags(app, &inputs);
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  inputs.config_path = config_path;
  return inputs;
}

// load_config, which may refuse a configuration only with ConfigError. What it accepts must be
// usable everywhere the agent shows or uses it: `config` (text and JSON), `plan` (every stage's
// specification), its tree converts back to the same configuration, and `status` finds the same
// socket without validating.
inline std::optional<LoadedConfig> load(const ConfigInputs& inputs) {
  std::optional<LoadedConfig> loaded;
  try {
    loaded = load_config(inputs, machine());
  } catch (const ConfigError& e) {
    check(!e.problems().empty(), "a refused configuration names a problem");
    return std::nullopt;
  }
  render_config_text(*loaded);
  render_config_json(*loaded).dump(2);
  const auto plan = build_plan(loaded->config, PlanFacts{});
  render_plan_text(plan);
  render_plan_json(plan).dump(2);

  const auto tree = config::config_to_tree(loaded->config);
  check(config::config_to_tree(config::tree_to_config(tree)) == tree,
        "a configuration converts to its tree and back unchanged");
  check(status_socket_of(inputs) == loaded->config.paths.status_socket,
        "status finds the socket that run serves");
  return loaded;
}

}  // namespace kna::fuzz
