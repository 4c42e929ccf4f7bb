#pragma once
// Command lines of the Kubernetes stand-ins as the real programs' versions have them: the version
// comes from KNA_STANDIN_VERSION (default v1.3.6), and a flag that version lacks fails the way
// pflag fails (`Error: unknown flag: --X`, exit 1).

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "stages/version.hpp"

namespace kna::standins {

inline constexpr const char* kDefaultStandinVersion = "v1.3.6";

// The Kubernetes 1.x minor versions in which a flag exists: since ≤ minor < until.
struct FlagLife {
  int since{0};
  int until{1000};
};
inline FlagLife since(int minor) {
  return {minor, 1000};
}
inline FlagLife until(int minor) {
  return {0, minor};
}

class StandinCli {
 public:
  explicit StandinCli(const std::string& description);

  const std::string& version() const { return version_text_; }  // "v1.3.6"
  // True when this version is 1.minor or later (false while the version does not parse).
  bool at_least(int minor) const;
  bool has(FlagLife life) const { return at_least(life.since) && !at_least(life.until); }

  // Adds the flag only when this version has it; a flag given twice takes the last value.
  template <typename T>
  void option(const std::string& name, T& value, FlagLife life = {}) {
    if (has(life)) app_.add_option(name, value);
  }
  // A boolean flag: `--name`, `--name=true` or `--name=false`.
  void flag(const std::string& name, bool& value, FlagLife life = {});
  CLI::App& app() { return app_; }

  // nullopt: go on; otherwise the exit code, after --version, --help, an unknown flag, a bad value
  // or a KNA_STANDIN_VERSION that is not a version.
  std::optional<int> parse(int argc, char** argv);

 private:
  CLI::App app_;
  std::string version_text_;
  std::optional<stages::Version> version_;
  bool print_version_{false};
};

}  // namespace kna::standins
