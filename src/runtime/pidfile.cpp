#include "runtime/pidfile.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "kna/catalogue.hpp"

namespace kna {

namespace {

bool read_whole(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Seconds since boot at which `pid` started (/proc/PID/stat field 22), or a negative number.
double started_since_boot(int pid) {
  std::string stat;
  if (!read_whole(fmt::format("/proc/{}/stat", pid), stat)) return -1;
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // After "pid (comm)": state is field 3, starttime field 22.
  for (int i = 3; i <= 22; ++i)
    if (!(fields >> field)) return -1;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? std::stod(field) / static_cast<double>(ticks) : -1;
}

// Seconds since boot at which `path` was last written (negative: before this boot, or unknown).
double written_since_boot(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1e18;
  timespec real{}, boot{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const double boot_at = static_cast<double>(real.tv_sec - boot.tv_sec) +
                         static_cast<double>(real.tv_nsec - boot.tv_nsec) / 1e9;
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9 -
         boot_at;
}

}  // namespace

std::optional<std::string> pid_reused_since(const std::string& path, int pid) {
  const double started = started_since_boot(pid);
  if (started < 0) return std::nullopt;
  const double written = written_since_boot(path);
  // Slack for clock adjustments between the write and now; a pid is not reused that fast.
  if (started <= written + 2.0) return std::nullopt;
  if (written < 0) {
    return fmt::format("the file is from before this boot, and pid {} started {:.0f}s after boot",
                       pid, started);
  }
  return fmt::format(
      "pid {} started {:.0f}s after the file was written: the pid was reused (the "
      "file is from another PID namespace, a restarted container)",
      pid, started - written);
}

int open_pidfd(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

bool signal_pidfd(int pidfd, int sig) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  std::string stat;
  if (!read_whole(fmt::format("/proc/{}/stat", pid), stat) || stat.empty()) return false;
  // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  const char state = stat[close + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

bool has_stage_marker(int pid, const std::string& stage) {
  std::string environ;
  if (!read_whole(fmt::format("/proc/{}/environ", pid), environ)) return false;
  const std::string marker = fmt::format("{}={}", kEnvStageMarker, stage);
  std::size_t start = 0;
  while (start < environ.size()) {
    auto end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    if (std::string_view(environ).substr(start, end - start) == marker) return true;
    start = end + 1;
  }
  return false;
}

PidfileCheck inspect_pidfile(const std::string& path, const std::string& stage) {
  using Kind = PidfileCheck::Kind;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return {Kind::absent, 0, ""};
    return {Kind::error, 0,
            fmt::format("cannot read pid file \"{}\": {}", path, std::strerror(errno))};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = trim(ss.str());
  int pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 0) {
    return {Kind::stale, 0, fmt::format("it holds no pid (\"{}\")", text.substr(0, 32))};
  }
  if (!process_alive(pid)) return {Kind::stale, pid, fmt::format("pid {} is not running", pid)};
  if (has_stage_marker(pid, stage)) {
    return {Kind::ours, pid,
            fmt::format("pid {} carries {}={} in its environment", pid, kEnvStageMarker, stage)};
  }
  // Not ours; but a process younger than the file is not the one that wrote it.
  if (auto reused = pid_reused_since(path, pid)) return {Kind::stale, pid, *reused};
  return {Kind::foreign, pid,
          fmt::format("pid {} is running and has no {}={} in its environment", pid, kEnvStageMarker,
                      stage)};
}

namespace {

// One orphan being stopped; lives in its pending handlers.
struct OrphanStop : std::enable_shared_from_this<OrphanStop> {
  OrphanStop(boost::asio::io_context& io, Dispatcher& d) : dispatcher(d), pidfd(io) {}
  Dispatcher& dispatcher;
  boost::asio::posix::stream_descriptor pidfd;
  int pid{0};
  std::string stage;
  Millis budget{0};
  bool killed{false};
  bool finished{false};
  Dispatcher::TimerId timer{0};
  std::function<void(Result<bool>)> done;

  void wait() {
    pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (ec == boost::asio::error::operation_aborted) return;
                       self->finish(Result<bool>(self->killed));
                     });
  }

  void on_budget_spent() {
    if (finished) return;
    if (killed) {
      finish(Error{fmt::format("{}: orphan pid {} is still alive after SIGKILL", stage, pid)});
      return;
    }
    spdlog::warn("{}: orphan pid {} still running {}ms after SIGTERM, sending SIGKILL", stage, pid,
                 budget.count());
    killed = true;
    signal_pidfd(pidfd.native_handle(), SIGKILL);
    // SIGKILL cannot be ignored; this bound only catches a process stuck in the kernel.
    timer = dispatcher.call_after(Millis(5000), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_budget_spent();
    });
  }

  void finish(Result<bool> result) {
    if (finished) return;
    finished = true;
    dispatcher.cancel(timer);
    boost::system::error_code ignored;
    pidfd.cancel(ignored);
    pidfd.close(ignored);
    auto fn = std::move(done);
    fn(std::move(result));
  }
};

}  // namespace

void stop_orphan(boost::asio::io_context& io, Dispatcher& dispatcher, int pid,
                 const std::string& stage, Millis budget, std::function<void(Result<bool>)> done) {
  auto op = std::make_shared<OrphanStop>(io, dispatcher);
  op->pid = pid;
  op->stage = stage;
  op->budget = budget;
  op->done = std::move(done);
  const int fd = open_pidfd(pid);
  if (fd == -1) {
    if (errno == ESRCH) {
      dispatcher.post([op] { op->finish(Result<bool>(false)); });
    } else {
      dispatcher.post([op, msg = fmt::format("{}: cannot watch orphan pid {}: {}", stage, pid,
                                             std::strerror(errno))] { op->finish(Error{msg}); });
    }
    return;
  }
  op->pidfd.assign(fd);
  if (!process_alive(pid)) {  // ended since the pid file was read
    dispatcher.post([op] { op->finish(Result<bool>(false)); });
    return;
  }
  // The pidfd pins the process: if the marker is still there now, the signal reaches that very
  // process and not a newcomer that reused its pid.
  if (!has_stage_marker(pid, stage)) {
    dispatcher.post(
        [op, msg = fmt::format("{}: pid {} no longer carries {}={}; not touching it", stage, pid,
                               kEnvStageMarker, stage)] { op->finish(Error{msg}); });
    return;
  }
  if (!signal_pidfd(fd, SIGTERM) && errno != ESRCH) {
    dispatcher.post([op, msg = fmt::format("{}: cannot signal orphan pid {}: {}", stage, pid,
                                           std::strerror(errno))] { op->finish(Error{msg}); });
    return;
  }
  signal_pidfd(fd, SIGCONT);  // a stopped process acts on SIGTERM only once it runs again
  op->wait();
  op->timer = dispatcher.call_after(budget, [weak = op->weak_from_this()] {
    if (auto self = weak.lock()) self->on_budget_spent();
  });
}

}  // namespace kna
