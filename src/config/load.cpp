#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/layers.hpp"
#include "config/options.hpp"
#include "config/validate.hpp"
#include "kna/config_load.hpp"

extern char** environ;

namespace kna {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// Reads and overlays the config file; returns the path read, or "" when there was none to read.
std::string overlay_file(const ConfigInputs& inputs, config::Layers& layers) {
  const bool explicit_path = inputs.config_path.has_value();
  const std::string path = explicit_path ? *inputs.config_path : kDefaultConfigPath;
  const std::string label = explicit_path ? fmt::format("config file {} (flag --config)", path)
                                          : fmt::format("config file {}", path);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    if (explicit_path)
      layers.problem_text(label +
                          ": does not exist; create it or give the path of an existing "
                          "file");
    return "";
  }
  if (std::filesystem::is_directory(status)) {
    layers.problem_text(label + ": is a directory; give the path of a JSON file");
    return "";
  }
  std::ifstream in(path);
  if (!in) {
    layers.problem_text(fmt::format("{}: cannot be read: {}", label, std::strerror(errno)));
    return "";
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  config::Tree document;
  try {
    document = config::Tree::parse(buffer.str(), nullptr, true, /*ignore_comments=*/true);
  } catch (const config::Tree::parse_error& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    std::string detail = e.what();
    if (auto at = detail.find("at line"); at != std::string::npos) detail = detail.substr(at + 3);
    layers.problem_text(fmt::format("{}: malformed JSON at {}", label, detail));
    return path;
  }
  if (!document.is_object()) {
    layers.problem_text(fmt::format("{}: expected a JSON object at the top level, got {}", label,
                                    document.type_name()));
    return path;
  }
  layers.overlay_document(document, config::Origin{ValueSource::file, path});
  return path;
}

void overlay_env(const std::map<std::string, std::string>& env, config::Layers& layers) {
  for (const auto& name : config::option_names()) {
    if (name.env.empty()) continue;
    const std::string var(name.env);
    auto it = env.find(var);
    if (it == env.end() || it->second.empty()) continue;  // empty counts as unset
    layers.set_raw(std::string(name.key), it->second, config::Origin{ValueSource::env, var});
  }
}

void overlay_flags(const std::vector<std::pair<std::string, std::string>>& flags,
                   config::Layers& layers) {
  for (const auto& [key, raw] : flags) {
    const auto* name = config::find_option_name(key);
    const std::string flag =
        name != nullptr && !name->flag.empty() ? std::string(name->flag) : "--set " + key;
    layers.set_raw(key, raw, config::Origin{ValueSource::flag, flag});
  }
}

}  // namespace

const char* to_string(ValueSource s) {
  switch (s) {
    case ValueSource::default_value:
      return "default";
    case ValueSource::file:
      return "file";
    case ValueSource::env:
      return "env";
    case ValueSource::flag:
      return "flag";
    case ValueSource::machine:
      return "machine";
  }
  return "unknown";
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::map<std::string, std::string> environment_map() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string status_socket_of(const ConfigInputs& inputs) {
  try {
    config::Layers layers(config::config_to_tree(default_config()));
    overlay_file(inputs, layers);
    overlay_env(inputs.env, layers);
    overlay_flags(inputs.flags, layers);
    config::apply_derived_defaults(layers);
    const auto& value = layers.at("paths.status_socket");
    if (value.is_string()) return value.get<std::string>();
  } catch (const std::exception&) {
    // Leniency is the point here: fall through to the default.
  }
  return Paths{}.status_socket;
}

LoadedConfig load_config(const ConfigInputs& inputs, const MachineFacts& machine) {
  config::Layers layers(config::config_to_tree(default_config()));
  const std::string file_used = overlay_file(inputs, layers);
  overlay_env(inputs.env, layers);
  overlay_flags(inputs.flags, layers);
  config::apply_machine_defaults(layers, inputs.env, machine);
  config::apply_derived_defaults(layers);
  config::validate(layers);
  if (!layers.problems().empty()) throw ConfigError(layers.problems());

  LoadedConfig loaded{config::tree_to_config(layers.tree()), file_used, {}, inputs};
  for (const auto& [key, origin] : layers.origins()) loaded.sources[key] = origin.source;
  spdlog::debug("configuration loaded from {}", file_used.empty() ? "defaults, environment and "
                                                                    "flags"
                                                                  : "\"" + file_used + "\"");
  return loaded;
}

}  // namespace kna
