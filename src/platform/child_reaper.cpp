#include "platform/child_reaper.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kna {

namespace {

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return fmt::format("signal {} (SIG{})", WTERMSIG(status), name != nullptr ? name : "?");
  }
  return fmt::format("exit code {}", WEXITSTATUS(status));
}

}  // namespace

struct ChildReaper::Impl : std::enable_shared_from_this<ChildReaper::Impl> {
  Impl(boost::asio::io_context& io, IsOurs ours, Millis r)
      : signals(io), timer(io), is_ours(std::move(ours)), retry(r) {}

  boost::asio::signal_set signals;
  boost::asio::steady_timer timer;
  IsOurs is_ours;
  Millis retry;
  Observer observer;
  bool running{false};
  bool retry_pending{false};
  std::uint64_t reaped{0};

  void wait_signal() {
    signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int) {
      if (ec || !self->running) return;
      self->sweep();
      self->wait_signal();
    });
  }

  void sweep() {
    for (;;) {
      siginfo_t info{};
      // WNOWAIT: only look; a child someone else waits for must stay waitable for them.
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1) {
        if (errno == EINTR) continue;
        return;  // ECHILD: no children at all
      }
      const int pid = info.si_pid;
      if (pid == 0) return;  // none has exited
      if (is_ours && is_ours(pid)) {
        // waitid shows the same exited child until its owner reaps it; look again soon so that
        // orphans behind it are not left as zombies.
        schedule_retry();
        return;
      }
      int status = 0;
      const int r = ::waitpid(pid, &status, WNOHANG);
      if (r != pid) continue;  // reaped by someone else in between
      ++reaped;
      spdlog::info("reaped orphan pid {} ({})", pid, describe_status(status));
      if (observer) observer(pid, status);
    }
  }

  void schedule_retry() {
    if (retry_pending) return;
    retry_pending = true;
    timer.expires_after(retry);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->retry_pending = false;
      if (ec || !self->running) return;
      self->sweep();
    });
  }
};

ChildReaper::ChildReaper(boost::asio::io_context& io, IsOurs is_ours, Millis retry)
    : impl_(std::make_shared<Impl>(io, std::move(is_ours), retry)) {}

ChildReaper::~ChildReaper() {
  stop();
}

Status ChildReaper::become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
    return Error{fmt::format("cannot become a child subreaper: {}", std::strerror(errno))};
  }
  return std::monostate{};
}

void ChildReaper::start() {
  if (impl_->running) return;
  impl_->running = true;
  impl_->signals.add(SIGCHLD);
  impl_->wait_signal();
  // Orphans that ended before we listened sent their SIGCHLD to nobody.
  impl_->sweep();
}

void ChildReaper::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  boost::system::error_code ignored;
  impl_->signals.cancel(ignored);
  impl_->signals.clear(ignored);
  impl_->timer.cancel();
}

void ChildReaper::set_observer(Observer observer) {
  impl_->observer = std::move(observer);
}

std::uint64_t ChildReaper::reaped() const {
  return impl_->reaped;
}

}  // namespace kna
