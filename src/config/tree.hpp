#pragma once
// The configuration as a JSON tree with the file's key names. The tree of default_config() is
// also the schema the loader checks every source against; the loader converts the final tree
// back into a Config.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kna/config.hpp"

namespace kna::config {

// Ordered, so that renderings follow the struct (and the stages their start order).
using Tree = nlohmann::ordered_json;

Tree config_to_tree(const Config& config);

// Expects a tree that passed validation; enum strings it does not know are a broken invariant.
Config tree_to_config(const Tree& tree);

// True for "stages.<stage>.env": an object whose keys are free (environment variable names).
bool is_free_map(std::string_view dotted_key);

// A key whose value is a secret by the one rule of core/redact.hpp: its last part looks secret
// (api_token), or, for a stage's environment entry (stages.<stage>.env.<NAME>), the variable's
// name does.
bool is_secret_key(std::string_view dotted_key);

// A value as `config` and messages show it: <redacted> under a secret key (an empty string stays
// empty: "unset" is worth seeing), a command line's secrets hidden (redact_argv), and a string's
// (redact_text: a URL's password, a bearer credential).
Tree redacted_value(std::string_view dotted_key, const Tree& value);

const char* role_name(Role role);
const char* runtime_name(RuntimeKind runtime);
const char* log_format_name(LogFormat format);
const char* etcd_api_name(EtcdApi api);

}  // namespace kna::config
