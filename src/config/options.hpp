#pragma once
// The names an option goes by outside the JSON file: its environment variable and its flag. One
// table feeds the environment layer, the flag registration and the hints in error messages.

#include <string>
#include <string_view>
#include <vector>

namespace kna::config {

struct OptionName {
  std::string_view key;   // dotted key, as in the JSON file
  std::string_view env;   // environment variable; empty if there is none
  std::string_view flag;  // command-line flag; empty if there is none
  std::string_view help;
};

// Every option with an environment variable or a flag, in the order of `kube-node-agent --help`.
const std::vector<OptionName>& option_names();
const OptionName* find_option_name(std::string_view key);

// "set MASTER_IP, --master-ip or master_ip in the config file" (the ways this key can be set).
std::string how_to_set(std::string_view key);

}  // namespace kna::config
