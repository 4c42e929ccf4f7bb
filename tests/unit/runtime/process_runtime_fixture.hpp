#pragma once
// The fixture of the process runtime tests: a real loop, the runtime on it, and the launch result
// and exit of one workload.

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "runtime/asio_dispatcher.hpp"
#include "runtime/process_runtime.hpp"
#include "support/loop_util.hpp"

namespace kna::test {

inline StageSpec child_spec(const std::string& stage, std::vector<std::string> args) {
  StageSpec spec;
  spec.name = stage;
  ProcessSpec p;
  p.argv.push_back(KNA_TEST_CHILD);
  for (auto& a : args) p.argv.push_back(std::move(a));
  spec.launch = p;
  return spec;
}

inline ProcessSpec& process_of(StageSpec& spec) {
  return std::get<ProcessSpec>(spec.launch);
}

class ProcessRuntimeTest : public ::testing::Test {
 protected:
  // Launches and runs the loop until the launch result is in.
  void launch(const StageSpec& spec) {
    runtime_.launch(
        spec,
        [this](Result<std::unique_ptr<Workload>> r) {
          if (r) {
            workload_ = std::move(r.value());
          } else {
            error_ = r.error().message;
          }
          launched_ = true;
        },
        [this](const ExitStatus& s) {
          ++exits_;
          exit_ = s;
        });
    ASSERT_TRUE(run_until(io_, [this] { return launched_; }));
  }
  bool wait_exit() {
    return run_until(io_, [this] { return exit_.has_value(); });
  }
  bool wait_log(const std::string& s) {
    return run_until(io_, [&] { return log_.contains(s); });
  }
  std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::path(::testing::TempDir()) / (name + "." + std::to_string(::getpid()));
  }

  test::LogCapture log_;
  boost::asio::io_context io_;
  AsioDispatcher dispatcher_{io_};
  ProcessRuntime runtime_{io_, dispatcher_};
  bool launched_{false};
  std::unique_ptr<Workload> workload_;
  std::string error_;
  std::optional<ExitStatus> exit_;
  int exits_{0};
};

}  // namespace kna::test
