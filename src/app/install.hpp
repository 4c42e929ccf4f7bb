#pragma once
// `kube-node-agent install` and `uninstall`: the systemd unit (from the one template,
// systemd/kube-node-agent.service.in) naming this binary, the config file holding the values given
// as flags, and optionally the link that enables the unit; and their removal.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kna/config_load.hpp"

namespace CLI {
class App;
}

namespace kna::app {

inline constexpr const char* kUnitName = "kube-node-agent.service";
inline constexpr const char* kUnitDir = "/etc/systemd/system";
inline constexpr const char* kWantsDir = "/etc/systemd/system/multi-user.target.wants";

// The unit text for `binary` and `config_path`: the template with its placeholders filled in.
std::string render_unit(std::string_view binary, std::string_view config_path);

// The config file `install` writes: only the values set in `flags`, as a JSON document with the
// types the loader gives them ("true" → true, "[\"a\"]" → ["a"]), in the order of the reference.
// Throws ConfigError for a key that is unknown or a value of the wrong type.
std::string render_flag_config(const std::vector<std::pair<std::string, std::string>>& flags);

// Registers `install` and `uninstall` on `app`; run() performs the one that was parsed. Holds
// what the parse writes into, so it must outlive the parse and is neither copied nor moved.
class InstallCommands {
 public:
  explicit InstallCommands(CLI::App& app);
  InstallCommands(const InstallCommands&) = delete;
  InstallCommands& operator=(const InstallCommands&) = delete;

  // The exit code of the subcommand that was parsed, or nullopt when it was another one.
  std::optional<int> run();

 private:
  CLI::App* install_;
  CLI::App* uninstall_;
  ConfigInputs inputs_;
  bool enable_{false};
  bool force_{false};
  std::string install_root_;
  std::string uninstall_root_;
};

}  // namespace kna::app
