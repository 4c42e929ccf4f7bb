#pragma once
// Loading the configuration: built-in defaults < JSON file < environment < command-line flags,
// validated into one Config, with the source of every value kept for `kube-node-agent config`.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kna/config.hpp"

namespace CLI {
class App;
}

namespace kna {

inline constexpr const char* kDefaultConfigPath = "/etc/kube-node-agent/config.json";
inline constexpr int kExitUsage = 64;        // EX_USAGE
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE
inline constexpr int kExitConfig = 78;       // EX_CONFIG

enum class ValueSource { default_value, file, env, flag, machine };
const char* to_string(ValueSource s);

// Facts about the machine that some defaults come from; detected by detect_machine(), faked in
// tests.
struct MachineFacts {
  std::string uname_machine;            // `uname -m`: x86_64, armv7l, aarch64, ppc64le …
  std::string default_route_interface;  // from /proc/net/route; empty if there is no default route
  std::string default_route_address;    // IPv4 address of that interface; empty if unknown
  std::string hostname;
};
MachineFacts detect_machine();

// What the command line and the process gave us, before any interpretation.
struct ConfigInputs {
  std::optional<std::string> config_path;                  // --config; nullopt: kDefaultConfigPath
  std::map<std::string, std::string> env;                  // the process environment
  std::vector<std::pair<std::string, std::string>> flags;  // (config key, raw value), in order
};

// Raised for any invalid configuration; what() joins all problems, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }
  int exit_code() const { return kExitConfig; }

 private:
  std::vector<std::string> problems_;
};

struct LoadedConfig {
  Config config;
  std::string file_used;                       // empty when no file was read
  std::map<std::string, ValueSource> sources;  // dotted key ("paths.run_dir") → where it came from
  ConfigInputs inputs;  // what it was loaded from: a reload (SIGHUP) reads the same file and flags
};

// Throws ConfigError naming each bad option, its source, the bad value and what would be valid.
LoadedConfig load_config(const ConfigInputs& inputs, const MachineFacts& machine);

// Where the running agent's status socket is, from the same sources as load_config but without
// validating anything else: `status` must work even when the rest of the configuration is invalid.
std::string status_socket_of(const ConfigInputs& inputs);

// The environment of this process as a map (for ConfigInputs::env).
std::map<std::string, std::string> environment_map();

// Registers one flag per option (--master-ip, --role, --k8s-version, … and --set KEY=VALUE for any
// dotted key) on `app`; values parsed by CLI11 are appended to inputs->flags. `inputs` must outlive
// the parse.
void add_config_flags(CLI::App& app, ConfigInputs* inputs);

// The effective configuration with each value's source; secrets redacted.
std::string render_config_text(const LoadedConfig& loaded);
nlohmann::json render_config_json(const LoadedConfig& loaded);

}  // namespace kna
