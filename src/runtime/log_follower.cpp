#include "runtime/log_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace kna {

namespace {

// Longer lines are emitted in pieces of this size rather than growing the buffer without bound
// (the same limit as the pipe reader in child_process.cpp).
constexpr std::size_t kMaxLine = 16 * 1024;
// One tick reads at most this much, so that a burst of output cannot hold the loop; the rest
// comes on the next tick, scheduled at once.
constexpr std::uint64_t kTickBudget = 1024 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

}  // namespace

struct LogFollower::Impl : std::enable_shared_from_this<LogFollower::Impl> {
  Impl(Dispatcher& d, std::string p, Options o, LineFn fn)
      : dispatcher(d), path(std::move(p)), options(o), on_line(std::move(fn)) {}
  ~Impl() { close_file(); }

  Dispatcher& dispatcher;
  const std::string path;
  const Options options;
  // Never reset while running: stop() may be called from inside it. `stopped` silences it.
  LineFn on_line;
  int fd{-1};
  dev_t dev{};
  ino_t ino{};
  std::uint64_t offset{0};
  std::uint64_t read_total{0};  // bytes read since start: tells a quiet tick from a busy one
  Millis wait{0};               // the timer's next delay (options.poll, longer while quiet)
  std::string partial;          // the start of a line whose newline has not been written yet
  Dispatcher::TimerId timer{0};
  bool started{false};
  bool stopped{false};
  // After a failed rotation, the size the file must pass before the next attempt: a full disk
  // would otherwise make every tick copy megabytes only to fail again.
  std::uint64_t rotate_after{0};
  // The last problem logged: one that lasts is logged once, not on every tick.
  std::string last_error;
  std::array<char, kReadChunk> buf{};

  void report(std::string message) {
    if (message == last_error) return;
    spdlog::warn("{}", message);
    last_error = std::move(message);
  }

  void close_file() {
    if (fd != -1) ::close(fd);
    fd = -1;
  }

  // False when the file is not there (yet): not an error, the writer creates it when it starts.
  bool open_file(bool at_end) {
    const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f == -1) {
      if (errno != ENOENT) report(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
      return false;
    }
    struct stat st {};
    if (::fstat(f, &st) == -1) {
      report(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
      ::close(f);
      return false;
    }
    fd = f;
    dev = st.st_dev;
    ino = st.st_ino;
    offset = at_end ? static_cast<std::uint64_t>(st.st_size) : 0;
    return true;
  }

  void schedule(Duration delay) {
    timer = dispatcher.call_after(delay, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->stopped) return;
      self->timer = 0;
      std::uint64_t budget = kTickBudget;
      const std::uint64_t before = self->read_total;
      const bool caught_up = self->poll(budget);
      if (self->stopped) return;
      if (!caught_up) {
        self->schedule(Duration(0));
        return;
      }
      // Quiet: wait longer each time, up to idle_poll; anything read: back to poll.
      if (self->read_total != before || self->options.idle_poll <= self->options.poll)
        self->wait = self->options.poll;
      else
        self->wait = std::min(self->wait * 2, self->options.idle_poll);
      self->schedule(Duration(self->wait));
    });
  }

  // Reads and emits what is new, within `budget` bytes. True once caught up with the file (or
  // when there is nothing to read), false when the budget ran out first.
  bool poll(std::uint64_t& budget) {
    if (!started || stopped) return true;
    if (fd == -1 && !open_file(false)) return true;
    // Another file at the path (removed and created again): the old one's rest first, then the
    // new one from its start. A path with no file keeps the old one: its writer may still be
    // writing to it.
    struct stat at_path {};
    if (::stat(path.c_str(), &at_path) == 0 && (at_path.st_dev != dev || at_path.st_ino != ino)) {
      if (!read_some(budget)) return false;
      if (!partial.empty()) emit_partial(true);
      close_file();
      if (stopped || !open_file(false)) return true;
    }
    struct stat st {};
    if (::fstat(fd, &st) == -1) {
      report(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
      return true;
    }
    // Shorter than what was read: truncated, by a copy-truncate rotation or by hand. The partial
    // line is kept: after a copy-truncate its writer continues it at the new start. A truncation
    // that is followed by more output than we had read before the next tick goes unnoticed; its
    // lines before our offset are then skipped.
    if (static_cast<std::uint64_t>(st.st_size) < offset) offset = 0;
    if (!read_some(budget)) return false;
    if (options.rotate && offset > options.max_bytes && offset >= rotate_after) rotate();
    return true;
  }

  // True at the end of the file, false when the budget ran out first.
  bool read_some(std::uint64_t& budget) {
    while (!stopped) {
      if (budget == 0) return false;
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), budget));
      const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) {
        // Treated as the end for now; the next tick tries again.
        report(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
        return true;
      }
      if (n == 0) return true;
      offset += static_cast<std::uint64_t>(n);
      read_total += static_cast<std::uint64_t>(n);
      budget -= static_cast<std::uint64_t>(n);
      consume(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    return true;
  }

  void consume(std::string_view data) {
    while (!data.empty() && !stopped) {
      const auto nl = data.find('\n');
      std::string_view piece = data.substr(0, nl);
      while (partial.size() + piece.size() > kMaxLine && !stopped) {
        const auto take = kMaxLine - partial.size();
        partial.append(piece.substr(0, take));
        piece.remove_prefix(take);
        emit_partial(false);
      }
      partial.append(piece);
      if (nl == std::string_view::npos) return;
      emit_partial(true);
      data.remove_prefix(nl + 1);
    }
  }

  void emit_partial(bool line_end) {
    // Moved out first: the callback may re-enter (flush) or stop us.
    const std::string line = std::move(partial);
    partial.clear();
    std::string_view view(line);
    if (line_end && !view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (!stopped && on_line) on_line(view);
  }

  // Copy-truncate: the writer holds the file open with O_APPEND and cannot be told to reopen it,
  // so the content is copied to "<path>.1" and the file itself emptied; the writer's next write
  // lands at the new end. Copying a few MiB once per rotation on the loop is acceptable.
  void rotate() {
    namespace fs = std::filesystem;
    const std::string old = path + ".1";
    const std::string tmp = old + ".tmp";
    std::error_code ec;
    // Through a temporary and a rename, so that a failed copy leaves the previous .1 whole.
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, old, ec);
    if (ec) {
      report(fmt::format("cannot rotate {} to {}: {}", path, old, ec.message()));
      std::error_code ignored;
      fs::remove(tmp, ignored);
      rotate_after = offset + options.max_bytes;
      return;
    }
    // What was written during the copy is in the copy but not yet logged.
    std::uint64_t budget = kUnbounded;
    read_some(budget);
    if (stopped) return;  // not truncated: the next follower rotates again
    // Lines written between that read and the truncate are lost: neither in the copy nor in the
    // file any more. The window is two system calls wide; closing it would need a writer that
    // reopens its file on request, which dockerd and its peers are not.
    if (::truncate(path.c_str(), 0) == -1) {
      report(fmt::format("cannot truncate {} after copying it to {}: {}", path, old,
                         std::strerror(errno)));
      rotate_after = offset + options.max_bytes;
      return;
    }
    offset = 0;
    rotate_after = 0;
  }
};

LogFollower::LogFollower(Dispatcher& dispatcher, std::string path, Options options, LineFn on_line)
    : impl_(std::make_shared<Impl>(dispatcher, std::move(path), options, std::move(on_line))) {}

LogFollower::~LogFollower() {
  stop();
}

void LogFollower::start(bool from_end) {
  auto& impl = *impl_;
  if (impl.started || impl.stopped) return;
  impl.started = true;
  // The end is taken now, not at the first tick: what the process writes from here on is new.
  impl.open_file(from_end);
  impl.wait = impl.options.poll;
  impl.schedule(impl.options.poll);
}

void LogFollower::stop() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  impl.dispatcher.cancel(impl.timer);
  impl.timer = 0;
  impl.close_file();
}

void LogFollower::poll_now() {
  const auto keep = impl_;  // the callback may destroy this object
  std::uint64_t budget = kTickBudget;
  keep->poll(budget);
}

void LogFollower::flush() {
  const auto keep = impl_;
  // The writer has ended, so the end of the file is final: read all of it.
  std::uint64_t budget = kUnbounded;
  keep->poll(budget);
  if (!keep->stopped && !keep->partial.empty()) keep->emit_partial(true);
}

}  // namespace kna
