#include "config/layers.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "config/checks.hpp"

namespace kna::config {
namespace {

std::string join_key(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

std::string normalized(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += c == '-' ? '_' : static_cast<char>(std::tolower(c));
  return out;
}

// Optimal string alignment distance: a swapped pair of letters counts as one edit.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// JSON type names as a user reads them: "a string", "an integer".
std::string expected_name(const Tree& schema) {
  if (schema.is_string()) return "a string";
  if (schema.is_boolean()) return "a boolean (true or false)";
  if (schema.is_number_integer()) return "an integer";
  if (schema.is_number()) return "a number";
  if (schema.is_array()) return "an array of strings";
  return "an object";
}

// The value converted to the schema's type, or nullopt if it does not fit.
std::optional<Tree> conform(const Tree& schema, const Tree& value) {
  if (schema.is_string()) return value.is_string() ? std::optional<Tree>(value) : std::nullopt;
  if (schema.is_boolean()) return value.is_boolean() ? std::optional<Tree>(value) : std::nullopt;
  if (schema.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
      return Tree(static_cast<std::int64_t>(u));
    }
    if (value.is_number_integer()) return Tree(value.get<std::int64_t>());
    if (value.is_number_float()) {
      const double d = value.get<double>();
      // 2.0 is a whole number; anything past ±2^53 has lost precision anyway.
      if (d == static_cast<double>(static_cast<std::int64_t>(d)) && d > -9.0e15 && d < 9.0e15)
        return Tree(static_cast<std::int64_t>(d));
    }
    return std::nullopt;
  }
  if (schema.is_number())
    return value.is_number() ? std::optional<Tree>(Tree(value.get<double>())) : std::nullopt;
  if (schema.is_array()) {
    if (!value.is_array()) return std::nullopt;
    for (const auto& item : value)
      if (!item.is_string()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string got(const std::string& key, const Tree& value) {
  return fmt::format("got {} {}", value.type_name(), shown_value(key, value));
}

}  // namespace

std::string describe(const Origin& origin) {
  switch (origin.source) {
    case ValueSource::default_value:
      return origin.where.empty() ? "default" : origin.where;
    case ValueSource::file:
      return "file " + origin.where;
    case ValueSource::env:
      return "env " + origin.where;
    case ValueSource::flag:
      return "flag " + origin.where;
    case ValueSource::machine:
      return origin.where.empty() ? "machine" : "machine: " + origin.where;
  }
  return "unknown";
}

std::string shown(const Layers& l, const std::string& key) {
  return shown_value(key, l.at(key));
}

std::string shown_value(const std::string& key, const Tree& value) {
  // A secret that is refused (a wrong type, say) stays hidden: even "" under api_token.
  if (is_secret_key(key)) return "<redacted>";
  std::string text = config::redacted_value(key, value).dump();
  constexpr std::size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

std::string closest_match(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string n = normalized(name);
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(n, normalized(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  const std::size_t allowed = std::max<std::size_t>(2, n.size() / 3);
  return best_distance <= allowed ? best : "";
}

Layers::Layers(Tree defaults) : schema_(defaults), tree_(std::move(defaults)) {
  record_default_origins(tree_, "");
}

void Layers::record_default_origins(const Tree& node, const std::string& key) {
  if (is_free_map(key)) {
    for (const auto& [k, v] : node.items()) origins_[join_key(key, k)] = Origin{};
    return;
  }
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) record_default_origins(v, join_key(key, k));
    return;
  }
  origins_[key] = Origin{};
}

void Layers::overlay_document(const Tree& document, const Origin& origin) {
  overlay(tree_, schema_, "", document, origin);
}

void Layers::overlay(Tree& target, const Tree& schema, const std::string& key, const Tree& value,
                     const Origin& origin) {
  if (is_free_map(key)) {
    if (!value.is_object()) {
      problem(key, origin, fmt::format("expected an object of strings, {}", got(key, value)));
      return;
    }
    for (const auto& [name, v] : value.items()) {
      const auto entry = join_key(key, name);
      if (!v.is_string()) {
        problem(entry, origin, fmt::format("expected a string, {}", got(entry, v)));
        continue;
      }
      target[name] = v;
      origins_[entry] = origin;
    }
    return;
  }
  if (schema.is_object()) {
    if (!value.is_object()) {
      problem(key.empty() ? "(top level)" : key, origin,
              fmt::format("expected an object, {}", got(key, value)));
      return;
    }
    for (const auto& [name, v] : value.items()) {
      if (!schema.contains(name)) {
        unknown_key(key, name, schema, origin);
        continue;
      }
      overlay(target[name], schema.at(name), join_key(key, name), v, origin);
    }
    return;
  }
  auto converted = conform(schema, value);
  if (!converted) {
    problem(key, origin, fmt::format("expected {}, {}", expected_name(schema), got(key, value)));
    return;
  }
  target = std::move(*converted);
  origins_[key] = origin;
}

void Layers::unknown_key(const std::string& parent, const std::string& name, const Tree& schema,
                         const Origin& origin) {
  std::vector<std::string> siblings;
  for (const auto& [k, v] : schema.items()) siblings.push_back(k);
  std::string suggestion;
  if (auto near = closest_match(name, siblings); !near.empty()) {
    suggestion = join_key(parent, near);
  } else {
    // An option written at the wrong level ("run_dir" for "paths.run_dir").
    std::set<std::string> found;
    const std::string n = normalized(name);
    for (const auto& [key, o] : origins_) {
      const auto dot = key.rfind('.');
      if (dot == std::string::npos || normalized(key.substr(dot + 1)) != n) continue;
      if (key.starts_with("stages.") && !is_free_map(key.substr(0, dot))) {
        const auto stage_end = key.find('.', 7);
        found.insert("stages.<stage>" + key.substr(stage_end));
      } else if (!key.starts_with("stages.")) {
        found.insert(key);
      }
    }
    if (found.size() == 1) suggestion = *found.begin();
  }
  std::string message = "unknown option";
  if (!suggestion.empty()) {
    message += fmt::format("; did you mean {}?", suggestion);
  } else if (siblings.size() <= 10) {
    std::string list;
    for (const auto& s : siblings) list += (list.empty() ? "" : ", ") + s;
    message += fmt::format("; valid here: {}", list);
  } else {
    message += "; see docs/configuration.md for the options";
  }
  problem(join_key(parent, name), origin, message);
}

void Layers::set_raw(const std::string& key, const std::string& raw, const Origin& origin) {
  Tree* target = &tree_;
  const Tree* schema = &schema_;
  std::string path;
  std::size_t pos = 0;
  while (true) {
    if (is_free_map(path) && !path.empty()) {
      const std::string name = key.substr(pos);
      if (name.empty()) {
        problem(key, origin, "expected an environment variable name after the stage's env.");
        return;
      }
      (*target)[name] = raw;
      origins_[key] = origin;
      return;
    }
    const auto dot = key.find('.', pos);
    const std::string name = key.substr(pos, dot == std::string::npos ? dot : dot - pos);
    if (!schema->is_object() || !schema->contains(name)) {
      unknown_key(path, name, *schema, origin);
      return;
    }
    path = join_key(path, name);
    schema = &schema->at(name);
    target = &(*target)[name];
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }

  Tree value;
  if (schema->is_string()) {
    value = raw;
  } else if (schema->is_boolean()) {
    auto b = parse_bool_word(raw);
    if (!b) {
      problem(key, origin,
              fmt::format("expected a boolean (true, false, 1, 0, yes or no), got {}",
                          shown_value(key, Tree(raw))));
      return;
    }
    value = *b;
  } else {
    value = Tree::parse(raw, nullptr, false);
    if (value.is_discarded()) {
      problem(
          key, origin,
          fmt::format("expected {}, got {}", expected_name(*schema), shown_value(key, Tree(raw))));
      return;
    }
  }
  overlay(*target, *schema, key, value, origin);
}

void Layers::set(const std::string& key, Tree value, const Origin& origin) {
  Tree* target = &tree_;
  std::size_t pos = 0;
  while (true) {
    const auto dot = key.find('.', pos);
    target = &(*target)[key.substr(pos, dot == std::string::npos ? dot : dot - pos)];
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  *target = std::move(value);
  origins_[key] = origin;
}

const Tree& Layers::at(const std::string& key) const {
  const Tree* node = &tree_;
  std::size_t pos = 0;
  while (true) {
    const auto dot = key.find('.', pos);
    node = &node->at(key.substr(pos, dot == std::string::npos ? dot : dot - pos));
    if (dot == std::string::npos) return *node;
    pos = dot + 1;
  }
}

const Origin& Layers::origin(const std::string& key) const {
  static const Origin kDefault;
  auto it = origins_.find(key);
  return it == origins_.end() ? kDefault : it->second;
}

void Layers::problem(const std::string& key, const Origin& origin, const std::string& message) {
  problems_.push_back(fmt::format("{} ({}): {}", key, describe(origin), message));
}

void Layers::problem(const std::string& key, const std::string& message) {
  problem(key, origin(key), message);
}

}  // namespace kna::config
