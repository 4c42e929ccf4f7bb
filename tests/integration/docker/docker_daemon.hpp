#pragma once
// A private dockerd for integration tests: its own socket, data root and exec root in a temporary
// folder, started and waited for (/_ping), stopped and cleaned up at the end (leftover mounts
// included). Never touches the host's default daemon. Also builds the busybox test image.

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "clients/docker_client.hpp"
#include "support/loop_util.hpp"

extern char** environ;

namespace kna::test {

namespace fs = std::filesystem;

// The image every docker integration test runs: busybox-static's /bin/busybox and its applets.
inline constexpr const char* kBusyboxImage = "kna-test/busybox:1";

inline std::optional<std::string> find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return std::nullopt;
}

// Runs argv (no shell) with stdout+stderr into `output`; returns the exit code (-1: not run).
inline int run_command(const std::vector<std::string>& argv, std::string* output = nullptr) {
  char tmpl[] = "/tmp/kna-cmd-XXXXXX";
  const int out = ::mkstemp(tmpl);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, out, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::close(out);
  if (output) {
    std::ifstream in(tmpl);
    *output = std::string(std::istreambuf_iterator<char>(in), {});
  }
  ::unlink(tmpl);
  if (rc != 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls `done` (for conditions with nothing to wait on, like a socket appearing).
inline bool poll_until(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class PrivateDockerd {
 public:
  // Why the docker integration tests cannot run here, if they cannot.
  static std::optional<std::string> skip_reason() {
    if (::geteuid() != 0) return "needs root to run a private dockerd";
    if (!find_in_path("dockerd")) return "dockerd is not installed (package docker.io)";
    if (!find_in_path("docker")) return "the docker CLI is not installed (package docker.io)";
    return std::nullopt;
  }

  PrivateDockerd() {
    // Short: a unix socket path must fit in 108 bytes.
    char tmpl[] = "/tmp/kna-dockerd-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    socket_ = dir_ + "/d.sock";
  }
  ~PrivateDockerd() {
    kill_containers();  // else dockerd's shutdown gives each one 10 s to heed SIGTERM
    stop();
    kill_leftovers();
    unmount_leftovers();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  PrivateDockerd(const PrivateDockerd&) = delete;
  PrivateDockerd& operator=(const PrivateDockerd&) = delete;

  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Starts dockerd and waits until it answers /_ping. False (see log_tail()) if it did not.
  bool start() {
    const std::string log = dir_ + "/dockerd.log";
    std::vector<std::string> argv{
        "dockerd",         "-H",           "unix://" + socket_, "--data-root",   dir_ + "/data",
        "--exec-root",     dir_ + "/exec", "--pidfile",         dir_ + "/d.pid", "--iptables=false",
        "--ip-masq=false", "--bridge=none"};
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, 1);
    posix_spawn_file_actions_adddup2(&actions, fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, "dockerd", &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fd);
    if (rc != 0) {
      pid_ = 0;
      return false;
    }
    DockerClient client(DockerClientOptions{socket_, Millis{1'000}, Millis{5'000}});
    return poll_until([&] {
             if (!running()) return true;  // it died: stop waiting
             try {
               client.ping();
               return true;
             } catch (const DockerError&) {
               return false;
             }
           }) &&
           running();
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return false;
    }
    return true;
  }

  // SIGTERM (dockerd then stops its containers) or `sig`, and waits for it to exit.
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    const bool ended = poll_until([&] { return !running(); }, std::chrono::seconds(30));
    if (!ended && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }

  std::string log_tail() const {
    std::ifstream in(dir_ + "/dockerd.log");
    std::string all(std::istreambuf_iterator<char>(in), {});
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

  // `docker -H unix://<socket> args…`; returns the exit code.
  int docker(std::vector<std::string> args, std::string* output = nullptr) const {
    args.insert(args.begin(), {"docker", "-H", "unix://" + socket_});
    return run_command(args, output);
  }

  // Imports a root filesystem holding busybox (sh, sleep, …) as `ref`.
  bool import_busybox(const std::string& ref, std::string* output = nullptr) {
    const fs::path root = fs::path(dir_) / "rootfs";
    fs::create_directories(root / "bin");
    std::error_code ec;
    fs::copy_file("/bin/busybox", root / "bin" / "busybox", fs::copy_options::overwrite_existing,
                  ec);
    if (ec) {
      if (output) *output = "cannot copy /bin/busybox (package busybox-static): " + ec.message();
      return false;
    }
    for (const char* applet : {"sh", "sleep", "true", "false", "cat", "echo", "kill", "ls"}) {
      fs::remove(root / "bin" / applet, ec);
      fs::create_symlink("busybox", root / "bin" / applet, ec);
    }
    const std::string tar = dir_ + "/rootfs.tar";
    if (run_command({"tar", "-C", root.string(), "-cf", tar, "."}, output) != 0) return false;
    return docker({"import", "-c", R"(CMD ["sh"])", tar, ref}, output) == 0;
  }

 private:
  void kill_containers() {
    if (!running()) return;
    try {
      DockerClient client(DockerClientOptions{socket_, Millis{1'000}, Millis{10'000}});
      for (const auto& c : client.list_containers({}, false)) client.kill_container(c.id);
    } catch (const DockerError&) {
      // The shutdown below still stops them, only more slowly.
    }
  }

  // A dockerd that was SIGKILLed leaves its containerd shims and their containers running:
  // every process naming our folder, and everything below those.
  void kill_leftovers() {
    std::map<pid_t, pid_t> parent;
    std::vector<pid_t> doomed;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const pid_t pid = std::stoi(name);
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      parent[pid] = ppid;
      std::ifstream cmd(entry.path() / "cmdline");
      const std::string cmdline(std::istreambuf_iterator<char>(cmd), {});
      if (pid != ::getpid() && cmdline.find(dir_ + "/") != std::string::npos) doomed.push_back(pid);
    }
    for (std::size_t i = 0; i < doomed.size(); ++i) {
      for (const auto& [pid, ppid] : parent) {
        if (ppid == doomed[i]) doomed.push_back(pid);
      }
    }
    for (pid_t pid : doomed) ::kill(pid, SIGKILL);
    poll_until(
        [&] {
          return std::all_of(doomed.begin(), doomed.end(), [](pid_t pid) {
            std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
            std::string line;
            std::getline(stat, line);
            const auto close = line.rfind(')');
            return close == std::string::npos || line.substr(close + 2, 1) == "Z";
          });
        },
        std::chrono::seconds(10));
  }

  // dockerd leaves mounts (netns, overlay) behind when it dies; deepest first.
  void unmount_leftovers() {
    std::vector<std::string> points;
    std::ifstream mounts("/proc/self/mounts");
    for (std::string line; std::getline(mounts, line);) {
      std::istringstream fields(line);
      std::string dev, point;
      fields >> dev >> point;
      if (point.rfind(dir_ + "/", 0) == 0) points.push_back(point);
    }
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
  }

  std::string dir_;
  std::string socket_;
  pid_t pid_{0};
};

}  // namespace kna::test
