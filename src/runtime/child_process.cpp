#include "runtime/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (g++ defines _GNU_SOURCE)

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/process/v2/default_launcher.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include "core/redact.hpp"

namespace kna {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

// Longer lines are logged in pieces of this size rather than growing the buffer without bound.
constexpr std::size_t kMaxLine = 16 * 1024;

// Runs in the forked child before exec: async-signal-safe calls only.
struct ChildSetup {
  template <typename Launcher>
  bp::error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*) {
    // Own process group: a stop can reach the helpers the workload forks, and a terminal's ^C
    // aimed at the agent does not reach the workloads.
    if (::setpgid(0, 0) == -1) return {errno, boost::system::system_category()};
    // Signal mask and ignored signals survive exec; the workload gets a clean slate.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    mark_inherited_fds_cloexec();
    return {};
  }

  // Boost 1.81's close_all() (posix/detail/close_handles.ipp) compares each whitelisted fd with
  // itself instead of the next one, so every fd below the highest kept one stays open across the
  // exec: the child inherited the agent's non-CLOEXEC fds, among them both ends of its own output
  // pipe (asio's connect_pipe() uses plain pipe()). Holding the read end itself, a child never
  // saw EPIPE once the agent was gone, but blocked for good when the pipe filled. Marked here
  // (fds 0-2 excepted, already dup'ed) they close at exec, whatever the launcher does.
  static void mark_inherited_fds_cloexec() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: one fcntl per possible fd, capped so that a
    // huge RLIMIT_NOFILE cannot make a spawn slow.
    rlimit limit{};
    rlim_t top = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < top) top = limit.rlim_cur;
    for (int fd = 3; static_cast<rlim_t>(fd) < top; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
};

// The stage's output file, opened for the child: O_APPEND so that the writer keeps writing at the
// end after a copy-truncate rotation (log_follower.cpp), CLOEXEC so that only the child's dup'ed
// fds 1 and 2 survive its exec.
Result<int> open_output_file(const std::string& path) {
  const auto folder = std::filesystem::path(path).parent_path();
  if (!folder.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) {
      return Error{
          fmt::format("cannot create the folder of output file {}: {}", path, ec.message())};
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd == -1) {
    return Error{fmt::format("cannot open output file {}: {}", path, std::strerror(errno))};
  }
  return fd;
}

}  // namespace

struct ChildProcess::State : std::enable_shared_from_this<ChildProcess::State> {
  State(asio::io_context& io, Dispatcher& d) : dispatcher(d), process(io.get_executor()), out(io) {}
  ~State() {
    // A bp::process SIGKILLs a running child when destroyed; ours must outlive the agent object.
    if (process.is_open()) process.detach();
  }

  Dispatcher& dispatcher;
  bp::process process;
  asio::readable_pipe out;
  std::string buffer;
  int pid{-1};
  bool exited{false};
  bool eof{false};
  bool finished{false};
  ChildExit exit_status;
  Dispatcher::TimerId drain_timer{0};
  Millis drain_grace{200};
  LineFn on_line;
  ExitFn on_exit;

  void read_more() {
    asio::async_read_until(out, asio::dynamic_buffer(buffer, kMaxLine), '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (finished) return;
    if (!ec) {
      emit(std::string_view(buffer).substr(0, n - 1));
      buffer.erase(0, n);
      read_more();
      return;
    }
    if (ec == asio::error::not_found) {  // a line longer than kMaxLine: log what we have
      emit(buffer);
      buffer.clear();
      read_more();
      return;
    }
    // End of output (or a read error, which ends it just the same).
    if (!buffer.empty()) emit(buffer);
    buffer.clear();
    eof = true;
    if (exited) finish();
  }

  void emit(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (on_line) on_line(line);
  }

  void wait_for_exit() {
    process.async_wait(
        [self = shared_from_this()](const bp::error_code& ec, int) { self->on_reaped(ec); });
  }

  void on_reaped(const bp::error_code& ec) {
    exited = true;
    if (ec) {
      exit_status.error = ec.message();
    } else {
      const int status = process.native_exit_code();
      if (WIFSIGNALED(status)) {
        exit_status.signaled = true;
        exit_status.code = WTERMSIG(status);
      } else {
        exit_status.code = WEXITSTATUS(status);
      }
    }
    // Reaped: the pid may be reused from now on, so nothing may signal or wait on it any more.
    process.detach();
    if (eof) {
      finish();
      return;
    }
    drain_timer = dispatcher.call_after(drain_grace, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->finish();
    });
  }

  void finish() {
    if (finished) return;
    finished = true;
    dispatcher.cancel(drain_timer);
    boost::system::error_code ignored;
    out.close(ignored);
    if (!buffer.empty()) emit(buffer);
    buffer.clear();
    auto done = std::move(on_exit);
    on_line = nullptr;
    on_exit = nullptr;
    if (done) done(exit_status);
  }
};

Result<std::string> resolve_executable(const std::string& program) {
  if (program.empty()) return Error{"no program to run: argv is empty"};
  if (program.find('/') == std::string::npos) {
    const auto found = bp::environment::find_executable(program);
    if (found.empty()) return Error{fmt::format("executable \"{}\" not found in PATH", program)};
    return found.string();
  }
  if (::access(program.c_str(), X_OK) == -1) {
    return Error{fmt::format("cannot execute \"{}\": {}", program, std::strerror(errno))};
  }
  boost::system::error_code ec;
  if (!bp::filesystem::is_regular_file(program, ec)) {
    return Error{fmt::format("cannot execute \"{}\": not a regular file", program)};
  }
  return program;
}

bool inherited_by_children(std::string_view name) {
  // Addressed to the agent alone: a workload that saw NOTIFY_SOCKET would tell systemd it is ready
  // on the agent's behalf.
  static const std::set<std::string, std::less<>> kAgentOnly{"NOTIFY_SOCKET", "LISTEN_FDS",
                                                             "LISTEN_PID",    "LISTEN_FDNAMES",
                                                             "WATCHDOG_PID",  "WATCHDOG_USEC"};
  // The agent's own settings (KNA_API_TOKEN among them) and whatever secret the agent was given
  // are not the workload's: a stage that needs one names it in its env.
  return !kAgentOnly.contains(name) && !name.starts_with("KNA_") && !looks_secret(name);
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    const std::string name(entry.substr(0, eq));
    if (!extra.contains(name) && inherited_by_children(name)) env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

Result<ChildProcess> ChildProcess::spawn(asio::io_context& io, Dispatcher& dispatcher,
                                         ChildOptions options, LineFn on_line, ExitFn on_exit) {
  auto state = std::make_shared<State>(io, dispatcher);
  state->drain_grace = options.drain_grace;
  state->on_line = std::move(on_line);
  state->on_exit = std::move(on_exit);

  // Whichever the child's output goes to: the write end of our pipe or the output file.
  int out_fd = -1;
  int file_fd = -1;
  asio::writable_pipe out_write(io);
  boost::system::error_code ec;
  if (options.output_file.empty()) {
    asio::connect_pipe(state->out, out_write, ec);
    if (ec) return Error{fmt::format("cannot create an output pipe: {}", ec.message())};
    out_fd = out_write.native_handle();
  } else {
    auto opened = open_output_file(options.output_file);
    if (!opened.ok()) return opened.error();
    file_fd = opened.value();
    out_fd = file_fd;
    // Nothing to read: the exit is reported as soon as the child is reaped, with no drain.
    state->eof = true;
  }

  std::vector<const char*> envp;
  envp.reserve(options.env.size() + 1);
  for (const auto& e : options.env) envp.push_back(e.c_str());
  envp.push_back(nullptr);

  // If exec fails, Boost.Process's child calls exit(), which flushes inherited buffers again.
  spdlog::default_logger()->flush();
  std::fflush(nullptr);

  bp::default_process_launcher launcher;
  launcher.env = envp.data();
  bp::error_code launch_ec;
  state->process = launcher(
      asio::any_io_executor(io.get_executor()), launch_ec, bp::filesystem::path(options.executable),
      options.args, bp::process_stdio{{bp::filesystem::path("/dev/null")}, {out_fd}, {out_fd}},
      ChildSetup{});
  // The child has its copy; EOF comes when the child's side closes.
  out_write.close(ec);
  if (file_fd != -1) ::close(file_fd);
  if (launch_ec) {
    return Error{fmt::format("cannot start {}: {}", options.executable, launch_ec.message())};
  }
  state->pid = state->process.id();
  if (!state->eof) state->read_more();
  state->wait_for_exit();
  return ChildProcess(std::move(state));
}

ChildProcess::Weak ChildProcess::weak() const {
  Weak w;
  w.state_ = state_;
  return w;
}

std::optional<ChildProcess> ChildProcess::Weak::lock() const {
  auto state = state_.lock();
  if (!state) return std::nullopt;
  return ChildProcess(std::move(state));
}

int ChildProcess::pid() const {
  return state_->pid;
}

bool ChildProcess::running() const {
  return !state_->exited;
}

bool ChildProcess::signal(int sig, bool group) const {
  if (state_->exited || state_->pid <= 0) return false;
  return ::kill(group ? -state_->pid : state_->pid, sig) == 0;
}

std::string describe_exit(const ChildExit& exit) {
  if (!exit.error.empty()) return fmt::format("exit status unknown ({})", exit.error);
  if (exit.signaled) {
    const char* name = sigabbrev_np(exit.code);
    return fmt::format("signal {} (SIG{})", exit.code, name != nullptr ? name : "?");
  }
  return fmt::format("exit code {}", exit.code);
}

}  // namespace kna
