#pragma once
// Shared pieces of the configuration tests: a temporary folder for config files, a fake machine
// and the inputs of a minimal valid worker.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kna/config_load.hpp"

namespace kna::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kna-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file) << content;
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline MachineFacts fake_machine() {
  return MachineFacts{"x86_64", "eth0", "192.168.1.5", "node-1"};
}

// A worker that needs nothing else: MASTER_IP set, an empty config file named explicitly (so that
// a real /etc/kube-node-agent/config.json on the test machine cannot leak in).
struct Setup {
  TempDir dir;
  ConfigInputs inputs;
  MachineFacts machine = fake_machine();

  Setup() {
    inputs.config_path = dir.write("config.json", "{}");
    inputs.env["MASTER_IP"] = "10.0.0.1";
  }
  void file(const std::string& json) { inputs.config_path = dir.write("config.json", json); }
  LoadedConfig load() const { return load_config(inputs, machine); }
  // The problems of a load that must fail; an empty list (a test failure) if it succeeded.
  std::vector<std::string> problems() const {
    try {
      load_config(inputs, machine);
    } catch (const ConfigError& e) {
      return e.problems();
    }
    ADD_FAILURE() << "configuration loaded although it should not";
    return {};
  }
};

}  // namespace kna::test
