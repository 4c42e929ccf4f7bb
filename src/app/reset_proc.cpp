#include "app/reset_proc.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/atomic_file.hpp"
#include "runtime/pidfile.hpp"

namespace kna::app {

namespace {

namespace fs = std::filesystem;

std::string base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

int parent_pid(int pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
  // "pid (comm) S ppid …": comm may hold spaces and parentheses.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return 0;
  std::istringstream rest(stat.substr(close + 4));
  int ppid = 0;
  rest >> ppid;
  return ppid;
}

// Waits until the pidfd says the process ended, at most `limit`.
bool wait_exit(int pidfd, Millis limit) {
  pollfd p{pidfd, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    const int n = ::poll(&p, 1, static_cast<int>(std::max<Millis::rep>(0, left.count())));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::vector<std::string> cmdline_of(int pid) {
  const std::string raw = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start < raw.size()) {
    auto end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    argv.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return argv;
}

std::vector<int> all_pids() {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    const auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err == std::errc() && end == name.data() + name.size() && pid > 0) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::vector<int> children_of(int pid) {
  std::vector<int> children;
  for (int p : all_pids())
    if (parent_pid(p) == pid) children.push_back(p);
  return children;
}

std::string program_of(int pid) {
  const auto argv = cmdline_of(pid);
  if (argv.empty() || argv.front().empty()) return "pid " + std::to_string(pid);
  return base_name(argv.front());
}

bool is_dockerd_of(const std::vector<std::string>& argv, std::string_view socket,
                   std::string_view exec_root, std::string_view data_root) {
  if (argv.empty()) return false;
  const bool dockerd = base_name(argv.front()).find("dockerd") != std::string::npos;
  const std::string url = "unix://" + std::string(socket);
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    const std::string next = i + 1 < argv.size() ? argv[i + 1] : std::string();
    if (a == "--exec-root=" + std::string(exec_root) || (a == "--exec-root" && next == exec_root) ||
        a == "--data-root=" + std::string(data_root) || (a == "--data-root" && next == data_root))
      return true;
    if (dockerd && (a == "--host=" + url || ((a == "-H" || a == "--host") && next == url)))
      return true;
  }
  return false;
}

bool names_path_under(const std::vector<std::string>& argv, std::string_view root) {
  const std::string dir = std::string(root) + "/";
  return std::any_of(argv.begin(), argv.end(), [&](const std::string& a) {
    return a == root || a.find(dir) != std::string::npos;
  });
}

const char* to_string(Stopped s) {
  switch (s) {
    case Stopped::gone:
      return "gone";
    case Stopped::terminated:
      return "terminated";
    case Stopped::killed:
      return "killed";
    case Stopped::survived:
      return "survived SIGKILL";
  }
  return "?";
}

Stopped stop_process(int pid, int first_signal, Millis budget, Millis kill_wait) {
  const int fd = open_pidfd(pid);
  if (fd < 0) return Stopped::gone;
  Stopped result = Stopped::terminated;
  if (!process_alive(pid)) {
    result = Stopped::gone;
  } else if (!signal_pidfd(fd, first_signal) && errno == ESRCH) {
    result = Stopped::gone;
  } else {
    signal_pidfd(fd, SIGCONT);  // a stopped process must run to end
    if (!wait_exit(fd, budget)) {
      signal_pidfd(fd, SIGKILL);
      result = wait_exit(fd, kill_wait) ? Stopped::killed : Stopped::survived;
    }
  }
  ::close(fd);
  return result;
}

}  // namespace kna::app
