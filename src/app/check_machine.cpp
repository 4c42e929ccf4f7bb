// The real machine behind `check`: PATH lookups, commands, sockets, /proc.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "app/check.hpp"
#include "runtime/child_process.hpp"

extern char** environ;

namespace kna::app {
namespace {

namespace fs = std::filesystem;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string kernel_release() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return u.release;
}

Result<std::string> run_command(const std::vector<std::string>& argv, Millis timeout) {
  if (argv.empty()) return Error{"no command"};
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) return Error{std::strerror(errno)};
  Fd read_end(pipe_fds[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) return Error{fmt::format("cannot run {}: {}", argv[0], std::strerror(rc))};

  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return Error{fmt::format("{} gave no answer within {} ms", argv[0], timeout.count())};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{fmt::format("{} failed (status {})", argv[0], status)};
  }
  return out;
}

Status bind_one(const char* address, int port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return Error{std::strerror(errno)};
  const int one = 1;
  // Ignores TIME_WAIT leftovers; a listener still makes bind() fail.
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return Error{fmt::format("cannot bind {}:{}: {}", address, port, std::strerror(errno))};
  }
  return kOk;
}

Status bind_port(int port) {
  for (const char* address : {"0.0.0.0", "127.0.0.1"}) {
    if (auto r = bind_one(address, port); !r) return r;
  }
  return kOk;
}

Status connect_to(const std::string& ip, int port, Millis timeout) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) {
    return Error{fmt::format("\"{}\" is not an IPv4 address", ip)};
  }
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.get() < 0) return Error{std::strerror(errno)};
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return kOk;
  if (errno != EINPROGRESS) return Error{std::strerror(errno)};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error{fmt::format("no answer within {} ms", timeout.count())};
    }
    pollfd p{s.get(), POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::strerror(errno)};
    if (n == 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Error{std::strerror(err)};
    return kOk;
  }
}

// Socket inodes listening on `port`, from /proc/net/tcp and tcp6.
std::set<std::string> listening_inodes(int port) {
  std::set<std::string> inodes;
  const std::string want = fmt::format(":{:04X}", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state != "0A") continue;  // LISTEN
      if (local.size() < want.size() ||
          local.compare(local.size() - want.size(), want.size(), want) != 0) {
        continue;
      }
      inodes.insert(inode);
    }
  }
  return inodes;
}

std::string port_holder(int port) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return "";
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      const std::string target = fs::read_symlink(fd.path(), link_ec).string();
      if (link_ec || target.rfind("socket:[", 0) != 0) continue;
      if (!inodes.contains(target.substr(8, target.size() - 9))) continue;
      std::string comm;
      std::getline(std::ifstream(proc.path() / "comm"), comm);
      return fmt::format("pid {} ({})", pid, comm);
    }
  }
  return "";
}

}  // namespace

Machine real_machine() {
  Machine m;
  m.root = "/";
  m.kernel_release = kernel_release;
  m.find_executable = [](const std::string& program) { return resolve_executable(program); };
  m.run = run_command;
  m.bind_port = bind_port;
  m.port_holder = port_holder;
  m.connect = connect_to;
  return m;
}

}  // namespace kna::app
