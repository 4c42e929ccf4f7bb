#include "runtime/process_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kna/catalogue.hpp"
#include "runtime/child_process.hpp"
#include "runtime/pidfile.hpp"
#include "runtime/token_bucket.hpp"

namespace kna {

namespace {

// What a workload needs after launch; shared by the Workload and the child's exit handler.
struct WorkloadState {
  explicit WorkloadState(Dispatcher& d) : dispatcher(d) {}
  Dispatcher& dispatcher;
  std::string stage;
  int pid{0};
  ChildProcess::Weak child;  // the child's state owns this one (through its exit callback)
  bool stop_requested{false};
  bool kill_sent{false};
  Millis stop_budget{0};
  Dispatcher::TimerId kill_timer{0};
  ExitCallback on_exit;
};

class ProcessWorkload : public Workload {
 public:
  explicit ProcessWorkload(std::shared_ptr<WorkloadState> state) : state_(std::move(state)) {}

  std::string id() const override { return fmt::format("pid {}", state_->pid); }
  std::optional<int> pid() const override { return state_->pid; }

  void stop(Millis timeout) override {
    auto& s = *state_;
    const auto child = s.child.lock();
    if (s.stop_requested || !child || !child->running()) return;
    s.stop_requested = true;
    s.stop_budget = timeout;
    spdlog::info("{}: sending SIGTERM to pid {}, SIGKILL in {}ms", s.stage, s.pid, timeout.count());
    child->signal(SIGTERM);
    s.kill_timer = s.dispatcher.call_after(timeout, [weak = std::weak_ptr(state_)] {
      auto st = weak.lock();
      if (!st) return;
      const auto alive = st->child.lock();
      if (!alive || !alive->running()) return;
      spdlog::warn(
          "{}: pid {} still running {}ms after SIGTERM, sending SIGKILL to its process "
          "group",
          st->stage, st->pid, st->stop_budget.count());
      st->kill_sent = true;
      alive->signal(SIGKILL, /*group=*/true);
    });
  }

 private:
  std::shared_ptr<WorkloadState> state_;
};

}  // namespace

struct ProcessRuntime::Impl : std::enable_shared_from_this<ProcessRuntime::Impl> {
  Impl(boost::asio::io_context& i, Dispatcher& d, Options o) : io(i), dispatcher(d), options(o) {}

  boost::asio::io_context& io;
  Dispatcher& dispatcher;
  Options options;
  std::map<std::string, LineLimiter> limiters;  // per stage, across restarts
  std::map<int, ChildProcess> children;         // by pid, until their exit is collected

  struct Launch {
    std::string stage;
    ProcessSpec spec;
    Millis stop_timeout;
    LaunchDone done;
    ExitCallback on_exit;
  };

  void fail(Launch& l, std::string message) {
    spdlog::error("{}: {}", l.stage, message);
    dispatcher.post([done = std::move(l.done), stage = l.stage, message] {
      done(Error{fmt::format("{}: {}", stage, message)});
    });
  }

  void start(std::shared_ptr<Launch> l) {
    auto exe = resolve_executable(l->spec.argv.empty() ? std::string() : l->spec.argv.front());
    if (!exe) return fail(*l, exe.error().message);
    if (l->spec.pidfile.empty()) return spawn(*l, exe.value());

    const auto check = inspect_pidfile(l->spec.pidfile, l->stage);
    switch (check.kind) {
      case PidfileCheck::Kind::absent:
        return spawn(*l, exe.value());
      case PidfileCheck::Kind::stale:
        if (::unlink(l->spec.pidfile.c_str()) == -1 && errno != ENOENT) {
          return fail(*l, fmt::format("cannot remove stale pid file \"{}\": {}", l->spec.pidfile,
                                      std::strerror(errno)));
        }
        spdlog::info("{}: removed stale pid file \"{}\": {}", l->stage, l->spec.pidfile,
                     check.detail);
        return spawn(*l, exe.value());
      case PidfileCheck::Kind::foreign:
        return fail(*l, fmt::format("pid file \"{}\" names pid {}, which this agent did not start "
                                    "({}); refusing to start",
                                    l->spec.pidfile, check.pid, check.detail));
      case PidfileCheck::Kind::error:
        return fail(*l, check.detail);
      case PidfileCheck::Kind::ours:
        break;
    }
    spdlog::warn("{}: pid file \"{}\" names pid {} left running by an earlier agent, stopping it",
                 l->stage, l->spec.pidfile, check.pid);
    stop_orphan(io, dispatcher, check.pid, l->stage, l->stop_timeout,
                [weak = weak_from_this(), l, exe = exe.value()](Result<bool> stopped) {
                  auto self = weak.lock();
                  if (!self) return;
                  if (!stopped) return self->fail(*l, stopped.error().message);
                  ::unlink(l->spec.pidfile.c_str());
                  self->spawn(*l, exe);
                });
  }

  void spawn(Launch& l, const std::string& exe) {
    auto extra = l.spec.env;
    extra[kEnvStageMarker] = l.stage;
    ChildOptions opts;
    opts.executable = exe;
    opts.args.assign(l.spec.argv.begin() + 1, l.spec.argv.end());
    opts.env = child_environment(extra);
    opts.drain_grace = options.drain_grace;

    auto state = std::make_shared<WorkloadState>(dispatcher);
    state->stage = l.stage;
    state->on_exit = std::move(l.on_exit);

    auto child = ChildProcess::spawn(
        io, dispatcher, std::move(opts),
        [weak = weak_from_this(), stage = l.stage](std::string_view line) {
          if (auto self = weak.lock()) self->log_line(stage, line);
        },
        [weak = weak_from_this(), state](const ChildExit& exit) {
          auto self = weak.lock();
          if (self) self->on_child_exit(*state, exit);
          report_exit(state, exit);
        });
    if (!child) return fail(l, child.error().message);
    const int pid = child.value().pid();
    state->pid = pid;
    state->child = child.value().weak();
    children.emplace(pid, child.value());
    spdlog::info("{}: started pid {}: {}", l.stage, pid, fmt::join(l.spec.argv, " "));

    std::unique_ptr<Workload> workload = std::make_unique<ProcessWorkload>(state);
    auto holder = std::make_shared<std::unique_ptr<Workload>>(std::move(workload));
    dispatcher.post([done = std::move(l.done), holder] { done(std::move(*holder)); });
  }

  void log_line(const std::string& stage, std::string_view line) {
    auto& limiter =
        limiters.try_emplace(stage, options.output_lines_per_second, options.output_burst)
            .first->second;
    const auto verdict = limiter.admit(dispatcher.now());
    if (!verdict.pass) return;
    if (verdict.suppressed_before > 0) {
      spdlog::info("{}: suppressed {} lines of output", stage, verdict.suppressed_before);
    }
    spdlog::info("{}: {}", stage, line);
  }

  void on_child_exit(const WorkloadState& state, const ChildExit&) {
    children.erase(state.pid);
    auto it = limiters.find(state.stage);
    if (it == limiters.end()) return;
    if (const auto n = it->second.take_suppressed(); n > 0) {
      spdlog::info("{}: suppressed {} lines of output", state.stage, n);
    }
  }

  static void report_exit(const std::shared_ptr<WorkloadState>& state, const ChildExit& exit) {
    state->dispatcher.cancel(state->kill_timer);
    ExitStatus status;
    status.signaled = exit.signaled;
    status.code = exit.code;
    if (!exit.error.empty()) {
      status.cause = ExitStatus::Cause::lost;
      status.detail = fmt::format("exit status lost: {}", exit.error);
    } else if (state->kill_sent) {
      status.cause = ExitStatus::Cause::killed;
      status.detail = fmt::format("still running {}ms after SIGTERM", state->stop_budget.count());
    } else if (state->stop_requested) {
      status.cause = ExitStatus::Cause::terminated;
    }
    spdlog::info("{}: pid {} ended: {}", state->stage, state->pid, describe_exit(exit));
    auto on_exit = std::move(state->on_exit);
    state->on_exit = nullptr;
    if (on_exit)
      state->dispatcher.post([on_exit = std::move(on_exit), status] { on_exit(status); });
  }
};

ProcessRuntime::ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher)
    : ProcessRuntime(io, dispatcher, Options{}) {}

ProcessRuntime::ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher, Options options)
    : impl_(std::make_shared<Impl>(io, dispatcher, options)) {}

ProcessRuntime::~ProcessRuntime() = default;

void ProcessRuntime::launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  const auto* process = std::get_if<ProcessSpec>(&spec.launch);
  if (process == nullptr) {
    impl_->dispatcher.post([done = std::move(done), stage = spec.name] {
      done(Error{fmt::format("{}: the process runtime cannot run a container", stage)});
    });
    return;
  }
  auto l = std::make_shared<Impl::Launch>(
      Impl::Launch{spec.name, *process, spec.stop_timeout, std::move(done), std::move(on_exit)});
  // Deferred so that neither callback can run inside launch().
  impl_->dispatcher.post([weak = std::weak_ptr(impl_), l] {
    if (auto impl = weak.lock()) impl->start(l);
  });
}

bool ProcessRuntime::owns(int pid) const {
  auto it = impl_->children.find(pid);
  return it != impl_->children.end() && it->second.running();
}

}  // namespace kna
