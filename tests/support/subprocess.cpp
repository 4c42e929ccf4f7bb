#include "support/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kna::test {
namespace {

std::vector<char*> c_strings(std::vector<std::string>& owned) {
  std::vector<char*> out;
  for (auto& s : owned) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> env_strings(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Forks and execs argv with stdout/stderr sent to the given fds; returns the pid.
int spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          int out_fd, int err_fd) {
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = env_strings(env);
  auto cargs = c_strings(args);
  auto cenv = c_strings(envs);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    ::execve(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

std::string slurp_fd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

Completed status_of(int wstatus) {
  Completed c;
  if (WIFEXITED(wstatus)) c.exit_code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) c.signal = WTERMSIG(wstatus);
  return c;
}

}  // namespace

Completed run_program(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env) {
  char out_tmpl[] = "/tmp/kna-out-XXXXXX";
  char err_tmpl[] = "/tmp/kna-err-XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  const int pid = spawn(argv, env, out_fd, err_fd);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  Completed c = status_of(wstatus);
  ::lseek(out_fd, 0, SEEK_SET);
  ::lseek(err_fd, 0, SEEK_SET);
  c.out = slurp_fd(out_fd);
  c.err = slurp_fd(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return c;
}

Background::Background(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& log_path)
    : log_path_(log_path) {
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path);
  pid_ = spawn(argv, env, fd, fd);
  ::close(fd);
}

Background::~Background() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Background::signal(int signo) const {
  if (!reaped_) ::kill(pid_, signo);
}

Completed Background::wait(int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int wstatus = 0;
    const pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      Completed c = status_of(wstatus);
      std::ifstream in(log_path_);
      std::stringstream ss;
      ss << in.rdbuf();
      c.out = ss.str();
      return c;
    }
    if (std::chrono::steady_clock::now() >= end) {
      Completed c;
      c.exit_code = -2;
      return c;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  while (const auto n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

}  // namespace kna::test
