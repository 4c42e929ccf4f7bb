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

// RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF (what JSON, and so the
// configuration's own tree, can hold).
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the byte after the first
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

constexpr const char* kNotText =
    "the value is not UTF-8 text (a stray byte from another encoding, or binary data?): set it "
    "again as plain text";

// The environment as the loader reads it. A value that is not UTF-8 text can be neither shown nor
// held in the configuration's JSON tree: for a variable the agent reads it is a problem, named
// without its bytes; any such variable is left out.
std::map<std::string, std::string> text_env(const std::map<std::string, std::string>& env,
                                            config::Layers& layers) {
  std::map<std::string, std::string> out;
  for (const auto& [var, value] : env) {
    if (is_utf8(value)) {
      out.emplace(var, value);
      continue;
    }
    std::string key = var == "RESIN_DEVICE_UUID" || var == "BALENA_DEVICE_UUID" ? "node_name" : "";
    for (const auto& name : config::option_names())
      if (name.env == var) key = std::string(name.key);
    if (!key.empty()) layers.problem(key, config::Origin{ValueSource::env, var}, kNotText);
  }
  return out;
}

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
  } catch (const config::Tree::exception& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 3, column 5: ...",
    // or out_of_range.406 for a number too big for a double ("number overflow parsing '1e999'").
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
    const config::Origin origin{ValueSource::flag, flag};
    if (is_utf8(raw))
      layers.set_raw(key, raw, origin);
    else
      layers.problem(key, origin, kNotText);
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
    overlay_env(text_env(inputs.env, layers), layers);
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
  const auto env = text_env(inputs.env, layers);
  overlay_env(env, layers);
  overlay_flags(inputs.flags, layers);
  config::apply_machine_defaults(layers, env, machine);
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
