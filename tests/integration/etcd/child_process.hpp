#pragma once
// A child process for integration tests: output collected as it comes, so that a test waits for a
// log line instead of sleeping, and its exit observed through a pidfd.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace kna::test {

// A child with stdout and stderr on one pipe, read continuously by a thread. Its exit is
// watched through a pidfd, not through the pipe, which grandchildren may keep open.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& extra_env = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (extra_env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
    }
    for (const auto& [key, value] : extra_env) env_strings.push_back(key + "=" + value);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (auto& entry : env_strings) env.push_back(entry.data());
    env.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    reader_ = std::thread([output = output_, fd = fds[0]] { read_all(*output, fd); });
  }

  ~ChildProcess() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(10));
    }
    if (pidfd_ >= 0) ::close(pidfd_);
    // A grandchild may still hold the pipe; the reader owns its state and finishes on its own.
    std::unique_lock lock(output_->mutex);
    if (output_->eof) {
      lock.unlock();
      reader_.join();
    } else {
      reader_.detach();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // True once the output contains `text`; false when the output closed first or time ran out.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    return wait_for_output_count(text, 1, timeout);
  }

  // True once `text` appears `count` times in the output.
  bool wait_for_output_count(const std::string& text, int count,
                             std::chrono::milliseconds timeout) {
    auto& out = *output_;
    std::unique_lock lock(out.mutex);
    const auto enough = [&] {
      int seen = 0;
      for (auto pos = out.text.find(text); pos != std::string::npos && seen < count;
           pos = out.text.find(text, pos + text.size()))
        ++seen;
      return seen >= count;
    };
    return out.changed.wait_for(lock, timeout, [&] { return enough() || out.eof; }) && enough();
  }

  std::string output() {
    std::lock_guard lock(output_->mutex);
    return output_->text;
  }

  void signal(int sig) {
    if (!status_) ::kill(pid_, sig);
  }

  // The wait status once the child has exited, or nullopt if it still runs after `timeout`.
  // Also waits (briefly) for the output to close, so output() then holds everything it wrote.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (!status_) {
      pollfd pfd{pidfd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
      int status = 0;
      if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
      status_ = status;
    }
    std::unique_lock lock(output_->mutex);
    output_->changed.wait_for(lock, std::chrono::seconds(2), [&] { return output_->eof; });
    return status_;
  }

 private:
  struct Output {
    std::mutex mutex;
    std::condition_variable changed;
    std::string text;
    bool eof{false};
  };

  static void read_all(Output& out, int fd) {
    char buffer[4096];
    for (;;) {
      const auto n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(out.mutex);
      if (n <= 0) {
        out.eof = true;
        out.changed.notify_all();
        break;
      }
      out.text.append(buffer, static_cast<std::size_t>(n));
      out.changed.notify_all();
    }
    ::close(fd);
  }

  pid_t pid_{-1};
  int pidfd_{-1};
  std::optional<int> status_;
  std::shared_ptr<Output> output_{std::make_shared<Output>()};
  std::thread reader_;
};

inline std::string exit_description(std::optional<int> status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit code " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "signal " + std::to_string(WTERMSIG(*status));
  return "status " + std::to_string(*status);
}

}  // namespace kna::test
