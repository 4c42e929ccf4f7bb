#include "kube/standin_cli.hpp"

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace kna::standins {

StandinCli::StandinCli(const std::string& description) : app_(description) {
  const char* env = std::getenv("KNA_STANDIN_VERSION");
  version_text_ = env != nullptr && *env != '\0' ? env : kDefaultStandinVersion;
  version_ = stages::parse_version(version_text_);
  // pflag keeps the last of repeated flags; CLI11 would refuse them.
  app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_.add_flag("--version", print_version_, "print the version and exit");
  app_.allow_extras();  // reported below in pflag's words
}

bool StandinCli::at_least(int minor) const {
  return stages::at_least(version_, 1, minor);
}

void StandinCli::flag(const std::string& name, bool& value, FlagLife life) {
  if (has(life)) app_.add_flag(name, value);
}

std::optional<int> StandinCli::parse(int argc, char** argv) {
  if (!version_) {
    std::fprintf(stderr, "Error: KNA_STANDIN_VERSION '%s' is not a Kubernetes version\n",
                 version_text_.c_str());
    return 1;
  }
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  for (const auto& extra : app_.remaining()) {
    if (extra.size() > 1 && extra.front() == '-') {
      std::fprintf(stderr, "Error: unknown flag: %s\n", extra.substr(0, extra.find('=')).c_str());
      return 1;
    }
  }
  if (print_version_) {
    std::printf("Kubernetes %s\n", version_text_.c_str());
    return 0;
  }
  for (const auto& extra : app_.remaining())
    spdlog::warn("Ignoring argument '{}': this program takes only flags", extra);
  return std::nullopt;
}

}  // namespace kna::standins
