#pragma once
// Runs a program (argv, no shell) with a given environment and captures its output and exit
// status; or starts it in the background for tests that signal it. For CLI and e2e tests.

#include <map>
#include <string>
#include <vector>

namespace kna::test {

struct Completed {
  int exit_code{-1};  // -1 when killed by a signal
  int signal{0};
  std::string out;
  std::string err;
};

// Runs to completion. `env` replaces the environment entirely.
Completed run_program(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env);

// The standard output of `command` run by /bin/sh; "" when it cannot be started.
std::string shell_output(const std::string& command);

// A program running in the background, its stdout and stderr going to files.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path);
  ~Background();  // SIGKILLs it if still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  int pid() const { return pid_; }
  void signal(int signo) const;
  // Waits up to `timeout_ms` for it to exit; returns its status, or nullopt-like exit_code -2 on
  // timeout.
  Completed wait(int timeout_ms);

 private:
  int pid_{-1};
  bool reaped_{false};
  std::string log_path_;
};

// Polls `predicate` every 20 ms until it holds or `timeout_ms` passes (for real processes only;
// unit tests with simulated time never need it). Returns whether it held.
template <typename Pred>
bool eventually(Pred predicate, int timeout_ms);

}  // namespace kna::test

#include <chrono>
#include <thread>

template <typename Pred>
bool kna::test::eventually(Pred predicate, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}
