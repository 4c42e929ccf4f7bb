#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/tree.hpp"
#include "kna/config_load.hpp"

namespace kna {
namespace {

struct Row {
  std::string key;
  config::Tree value;  // already redacted
  ValueSource source;
};

// One group per heading: the general options, then log, paths and each stage.
struct Group {
  std::string heading;
  std::vector<Row> rows;
};

void flatten(const config::Tree& node, const std::string& key, const LoadedConfig& loaded,
             std::vector<Row>& rows) {
  const auto source_of = [&loaded](const std::string& k) {
    auto it = loaded.sources.find(k);
    return it == loaded.sources.end() ? ValueSource::default_value : it->second;
  };
  const auto add = [&](const std::string& k, const config::Tree& value) {
    rows.push_back(Row{k, config::redacted_value(k, value), source_of(k)});
  };
  if (config::is_free_map(key)) {
    if (node.empty()) add(key, node);
    for (const auto& [name, value] : node.items()) add(key + "." + name, value);
    return;
  }
  if (node.is_object()) {
    for (const auto& [name, value] : node.items())
      flatten(value, key.empty() ? name : key + "." + name, loaded, rows);
    return;
  }
  add(key, node);
}

std::vector<Group> groups(const LoadedConfig& loaded) {
  const config::Tree tree = config::config_to_tree(loaded.config);
  std::vector<Group> out{{"general", {}}};
  for (const auto& [name, value] : tree.items()) {
    if (name == "stages") {
      for (const auto& [stage, stage_tree] : value.items()) {
        out.push_back({"stages." + stage, {}});
        flatten(stage_tree, "stages." + stage, loaded, out.back().rows);
      }
    } else if (value.is_object()) {
      out.push_back({name, {}});
      flatten(value, name, loaded, out.back().rows);
    } else {
      flatten(value, name, loaded, out.front().rows);
    }
  }
  return out;
}

}  // namespace

std::string render_config_text(const LoadedConfig& loaded) {
  std::string out = fmt::format("# configuration file: {}\n",
                                loaded.file_used.empty() ? "none" : loaded.file_used);
  for (const auto& group : groups(loaded)) {
    std::size_t width = 0;
    for (const auto& row : group.rows) width = std::max(width, row.key.size());
    out += fmt::format("\n[{}]\n", group.heading);
    for (const auto& row : group.rows)
      out += fmt::format("{:<{}} = {}  ({})\n", row.key, width, row.value.dump(),
                         to_string(row.source));
  }
  return out;
}

nlohmann::json render_config_json(const LoadedConfig& loaded) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& group : groups(loaded))
    for (const auto& row : group.rows)
      values[row.key] = {{"value", nlohmann::json::parse(row.value.dump())},
                         {"source", to_string(row.source)}};
  return {{"file",
           loaded.file_used.empty() ? nlohmann::json(nullptr) : nlohmann::json(loaded.file_used)},
          {"values", values}};
}

}  // namespace kna
