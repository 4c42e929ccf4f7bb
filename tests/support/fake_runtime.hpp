#pragma once
// A scriptable Runtime for tests. It records every launch (with its spec) and lets the test decide
// when a launch succeeds or fails, when a workload exits and how, and when a stop request
// completes (or completes them automatically). Like a real runtime it delivers every callback
// through Dispatcher::post, never synchronously inside launch() or Workload::stop().
//
// Launches are numbered 0, 1, 2 … in the order launch() was called. Each scripting call exists in
// two forms: by stage name (acts on that stage's latest launch) and by number (`…_at`). Misuse
// (e.g. completing a launch twice) is reported as a gtest failure, not a crash.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kna/runtime.hpp"
#include "kna/time.hpp"

namespace kna::test {

class FakeRuntime : public Runtime {
 public:
  enum class Phase {
    pending,  // launch() called; neither completed nor failed yet
    running,  // launch completed with a workload
    failed,   // launch failed
    exited,   // the workload's exit was delivered (or queued)
  };

  // What the test can see of one launch.
  struct Launch {
    std::size_t index{0};
    StageSpec spec;
    Phase phase{Phase::pending};
    int pid{0};                          // of the workload: 1000 + index
    int stop_requests{0};                // calls of Workload::stop()
    std::optional<Millis> stop_timeout;  // of the first stop request
    std::optional<ExitStatus> exit;      // as delivered to on_exit
    bool adopted{false};                 // through adopt() rather than launch()
    int cancel_requests{0};              // calls of Runtime::cancel() while pending
  };

  explicit FakeRuntime(Dispatcher& dispatcher);
  ~FakeRuntime() override;
  FakeRuntime(const FakeRuntime&) = delete;
  FakeRuntime& operator=(const FakeRuntime&) = delete;

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  // Recorded like a launch, with `adopted` set; scripted the same way.
  void adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  // Counted on the stage's latest launch while it is pending (Launch::cancel_requests).
  void cancel(const std::string& stage) override;

  // On: every later launch completes successfully by itself (posted). Off by default.
  void set_auto_launch(bool on);
  // On: every later stop request ends its workload by itself with cause `terminated`, exit code 0
  // (posted). Off by default: the test calls complete_stop().
  void set_auto_stop(bool on);

  // Launch results.
  void complete_launch(const std::string& stage);
  void complete_launch_at(std::size_t index);
  void fail_launch(const std::string& stage, const std::string& message);
  void fail_launch_at(std::size_t index, const std::string& message);

  // The workload ends (status.cause is as given; `exited` for an unasked exit).
  void exit(const std::string& stage, ExitStatus status = {});
  void exit_at(std::size_t index, ExitStatus status = {});
  // Ends a workload that was asked to stop: `terminated` (exit code 0) or `killed` (SIGKILL).
  void complete_stop(const std::string& stage,
                     ExitStatus::Cause cause = ExitStatus::Cause::terminated);
  void complete_stop_at(std::size_t index, ExitStatus::Cause cause = ExitStatus::Cause::terminated);

  // Observations.
  const std::vector<Launch>& launches() const;
  const Launch& launch_record(std::size_t index) const;
  // Index of the latest launch of `stage`; a gtest failure (and nullopt) if it never launched.
  std::optional<std::size_t> latest(const std::string& stage) const;
  std::size_t launch_count(const std::string& stage) const;
  std::vector<std::string> launch_order() const;  // stage names, one per launch
  std::vector<std::string> stop_order() const;    // stage names, at each launch's first stop()
  // Workloads that were launched and whose exit has not been delivered, over all stages.
  std::size_t live_workloads() const;

  struct State;

 private:
  Dispatcher& dispatcher_;
  std::shared_ptr<State> state_;
};

// Shorthand statuses for FakeRuntime::exit().
ExitStatus exit_code(int code);
ExitStatus killed_by(int signo);

}  // namespace kna::test
