#pragma once
// Sources layered onto the defaults tree, which doubles as the schema. Every value set keeps the
// origin it came from; every problem (unknown key, wrong type) is collected, never thrown, so that
// one run reports all of them.

#include <map>
#include <string>
#include <vector>

#include "config/tree.hpp"
#include "kna/config_load.hpp"

namespace kna::config {

struct Origin {
  ValueSource source{ValueSource::default_value};
  std::string where;  // file path, environment variable, flag, or the machine fact used
};

// "file /etc/x.json", "env MASTER_IP", "flag --master-ip", "default", "machine: uname -m".
std::string describe(const Origin& origin);

class Layers {
 public:
  // Every leaf of `defaults` gets a default origin.
  explicit Layers(Tree defaults);

  // Overlays a parsed document (a config file) onto the root.
  void overlay_document(const Tree& document, const Origin& origin);
  // Sets a dotted key from a string (environment, flags), converted to the key's type: strings as
  // they are, booleans from true/false/1/0/yes/no, anything else parsed as JSON.
  void set_raw(const std::string& key, const std::string& raw, const Origin& origin);
  // Sets a value the loader derived itself (machine facts, derived defaults).
  void set(const std::string& key, Tree value, const Origin& origin);

  const Tree& tree() const { return tree_; }
  // The value at a dotted key of the schema (not into free maps).
  const Tree& at(const std::string& key) const;
  std::string string_at(const std::string& key) const { return at(key).get<std::string>(); }
  const Origin& origin(const std::string& key) const;
  const std::map<std::string, Origin>& origins() const { return origins_; }

  // "<key> (<origin>): <message>"
  void problem(const std::string& key, const Origin& origin, const std::string& message);
  void problem(const std::string& key, const std::string& message);
  void problem_text(std::string text) { problems_.push_back(std::move(text)); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void overlay(Tree& target, const Tree& schema, const std::string& key, const Tree& value,
               const Origin& origin);
  void unknown_key(const std::string& parent, const std::string& name, const Tree& schema,
                   const Origin& origin);
  void record_default_origins(const Tree& node, const std::string& key);

  Tree schema_;
  Tree tree_;
  std::map<std::string, Origin> origins_;
  std::vector<std::string> problems_;
};

// A value as shown in a message: JSON text, shortened, or <redacted> for a secret key.
std::string shown_value(const std::string& key, const Tree& value);
// The value under `key` in `l`, as shown_value shows it.
std::string shown(const Layers& l, const std::string& key);

// The closest of `candidates` to `name` by edit distance, or "" if none is close enough.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace kna::config
