#include "runtime/process_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/redact.hpp"
#include "kna/catalogue.hpp"
#include "platform/atomic_file.hpp"
#include "runtime/child_process.hpp"
#include "runtime/helper_cleanup.hpp"
#include "runtime/log_follower.hpp"
#include "runtime/pidfile.hpp"
#include "runtime/process_record.hpp"
#include "runtime/token_bucket.hpp"

namespace kna {

namespace {

// The first part of a stop when the spec asks for it: writes the reload file and sends SIGHUP
// (with SIGCONT, for a stopped process). True when SIGTERM is to wait reload->settle.
bool reload_before_stop(const std::string& stage, int pid,
                        const std::optional<ReloadBeforeStop>& reload,
                        const std::function<void(int)>& send) {
  if (!reload) return false;
  if (auto written = write_file_atomically(reload->path, reload->content, 0644); !written) {
    spdlog::warn("{}: cannot prepare pid {} for its stop ({}); stopping it as it is", stage, pid,
                 written.error().message);
    return false;
  }
  spdlog::info("{}: wrote {} and sent SIGHUP to pid {}; SIGTERM follows in {}ms", stage,
               reload->path, pid, reload->settle.count());
  send(SIGHUP);
  send(SIGCONT);
  return true;
}

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
  std::optional<ReloadBeforeStop> reload;
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
    auto terminate = [weak = std::weak_ptr(state_)] {
      auto st = weak.lock();
      if (!st) return;
      const auto alive = st->child.lock();
      if (!alive || !alive->running() || st->kill_sent) return;
      spdlog::info("{}: sending SIGTERM to pid {}, SIGKILL {}ms after the stop began", st->stage,
                   st->pid, st->stop_budget.count());
      alive->signal(SIGTERM);
      alive->signal(SIGCONT);  // a stopped (hung) process acts on SIGTERM only once it runs again
    };
    if (reload_before_stop(s.stage, s.pid, s.reload, [&](int sig) { child->signal(sig); })) {
      s.dispatcher.call_after(s.reload->settle, terminate);
    } else {
      terminate();
    }
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

// A live process an earlier agent started, watched through a pidfd: it is not (necessarily) our
// child, so its exit status is known only when it is (after a re-exec of the agent).
struct AdoptedState : std::enable_shared_from_this<AdoptedState> {
  AdoptedState(boost::asio::io_context& io, Dispatcher& d) : dispatcher(d), pidfd(io) {}
  Dispatcher& dispatcher;
  boost::asio::posix::stream_descriptor pidfd;
  std::string stage;
  int pid{0};
  bool ended{false};
  bool stop_requested{false};
  bool kill_sent{false};
  Millis stop_budget{0};
  Dispatcher::TimerId kill_timer{0};
  std::optional<ReloadBeforeStop> reload;
  std::shared_ptr<LogFollower> follower;
  ExitCallback on_exit;
  std::function<void()> on_end;  // the runtime forgets the pid

  void watch() {
    pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (ec == boost::asio::error::operation_aborted) return;
                       self->ended_now();
                     });
  }

  void ended_now() {
    if (ended) return;
    ended = true;
    dispatcher.cancel(kill_timer);
    ExitStatus status;
    siginfo_t info{};
    // P_PIDFD (3): collects the status when the process is our child (we re-executed ourselves).
    if (::waitid(static_cast<idtype_t>(3), static_cast<id_t>(pidfd.native_handle()), &info,
                 WEXITED | WNOHANG) == 0 &&
        info.si_pid == pid) {
      status.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
      status.code = info.si_status;
    } else {
      status.code = -1;
      status.detail = "adopted from an earlier agent, not our child";
    }
    if (kill_sent) {
      status.cause = ExitStatus::Cause::killed;
    } else if (stop_requested) {
      status.cause = ExitStatus::Cause::terminated;
    }
    boost::system::error_code ignored;
    pidfd.close(ignored);
    if (follower) {
      follower->poll_now();
      follower->flush();
      follower->stop();
    }
    spdlog::info("{}: adopted pid {} ended: {}", stage, pid, status.describe());
    if (on_end) on_end();
    auto cb = std::move(on_exit);
    on_exit = nullptr;
    if (cb) dispatcher.post([cb = std::move(cb), status] { cb(status); });
  }

  void stop(Millis timeout) {
    if (stop_requested || ended) return;
    stop_requested = true;
    stop_budget = timeout;
    auto terminate = [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->ended || self->kill_sent) return;
      spdlog::info("{}: sending SIGTERM to adopted pid {}, SIGKILL {}ms after the stop began",
                   self->stage, self->pid, self->stop_budget.count());
      signal_pidfd(self->pidfd.native_handle(), SIGTERM);
      signal_pidfd(self->pidfd.native_handle(), SIGCONT);
    };
    if (reload_before_stop(stage, pid, reload,
                           [this](int sig) { signal_pidfd(pidfd.native_handle(), sig); })) {
      dispatcher.call_after(reload->settle, terminate);
    } else {
      terminate();
    }
    kill_timer = dispatcher.call_after(timeout, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->ended) return;
      spdlog::warn("{}: adopted pid {} still running {}ms after SIGTERM, sending SIGKILL",
                   self->stage, self->pid, self->stop_budget.count());
      self->kill_sent = true;
      // Its own process group (ChildProcess made it one) takes the helpers it forked with it.
      if (::getpgid(self->pid) == self->pid) ::kill(-self->pid, SIGKILL);
      signal_pidfd(self->pidfd.native_handle(), SIGKILL);
    });
  }
};

class AdoptedWorkload : public Workload {
 public:
  explicit AdoptedWorkload(std::shared_ptr<AdoptedState> state) : state_(std::move(state)) {}
  std::string id() const override { return fmt::format("pid {}", state_->pid); }
  std::optional<int> pid() const override { return state_->pid; }
  void stop(Millis timeout) override { state_->stop(timeout); }

 private:
  std::shared_ptr<AdoptedState> state_;
};

}  // namespace

struct ProcessRuntime::Impl : std::enable_shared_from_this<ProcessRuntime::Impl> {
  Impl(boost::asio::io_context& i, Dispatcher& d, Options o) : io(i), dispatcher(d), options(o) {}

  boost::asio::io_context& io;
  Dispatcher& dispatcher;
  Options options;
  std::map<std::string, LineLimiter> limiters;         // per stage, across restarts
  std::map<int, ChildProcess> children;                // by pid, until their exit is collected
  std::map<int, std::weak_ptr<AdoptedState>> adopted;  // by pid, until they end
  // Stopped when the runtime goes: the exit handlers that hold them may outlive the dispatcher.
  std::vector<std::weak_ptr<LogFollower>> followers;

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

  // A process an earlier agent left for this stage is replaced: stopped first, whatever its spec.
  void start(std::shared_ptr<Launch> l) {
    auto exe = resolve_executable(l->spec.argv.empty() ? std::string() : l->spec.argv.front());
    if (!exe) return fail(*l, exe.error().message);
    if (options.record_dir.empty()) return check_pidfile(l, exe.value());
    const auto rec = check_process_record(options.record_dir, l->stage, options.boot_id);
    if (rec.kind == RecordCheck::Kind::stale) {
      spdlog::info("{}: removed a stale process record: {}", l->stage, rec.detail);
      remove_process_record(options.record_dir, l->stage);
    }
    if (rec.kind != RecordCheck::Kind::ours) return check_pidfile(l, exe.value());
    spdlog::info(
        "{}: replacing pid {} left by an earlier agent ({})", l->stage, rec.record.pid,
        rec.record.spec_hash == spec_hash(l->spec) ? "restarting it" : "its spec has changed");
    stop_earlier(l, rec.record.pid,
                 [weak = weak_from_this(), l, exe = exe.value()](Result<bool> stopped) {
                   auto self = weak.lock();
                   if (!self) return;
                   if (!stopped) return self->fail(*l, stopped.error().message);
                   remove_process_record(self->options.record_dir, l->stage);
                   self->check_pidfile(l, exe);
                 });
  }

  // Stops the process an earlier agent left for l's stage (just proven ours), with the reload
  // first when the spec asks for it.
  void stop_earlier(const std::shared_ptr<Launch>& l, int pid,
                    std::function<void(Result<bool>)> then) {
    auto go = [weak = weak_from_this(), l, pid, then = std::move(then)]() mutable {
      if (auto self = weak.lock())
        stop_orphan(self->io, self->dispatcher, pid, l->stage, l->stop_timeout, std::move(then));
    };
    if (reload_before_stop(l->stage, pid, l->spec.reload_before_stop,
                           [pid](int sig) { ::kill(pid, sig); })) {
      dispatcher.call_after(l->spec.reload_before_stop->settle, std::move(go));
    } else {
      go();
    }
  }

  static std::string spec_hash(const ProcessSpec& p) { return kna::spec_hash(LaunchSpec(p)); }

  void check_pidfile(const std::shared_ptr<Launch>& l, const std::string& exe) {
    if (l->spec.pidfile.empty()) return clear_helpers(l, exe);

    const auto check = inspect_pidfile(l->spec.pidfile, l->stage);
    switch (check.kind) {
      case PidfileCheck::Kind::absent:
        return clear_helpers(l, exe);
      case PidfileCheck::Kind::stale:
        if (::unlink(l->spec.pidfile.c_str()) == -1 && errno != ENOENT) {
          return fail(*l, fmt::format("cannot remove stale pid file \"{}\": {}", l->spec.pidfile,
                                      std::strerror(errno)));
        }
        spdlog::info("{}: removed stale pid file \"{}\": {}", l->stage, l->spec.pidfile,
                     check.detail);
        return clear_helpers(l, exe);
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
    stop_earlier(l, check.pid, [weak = weak_from_this(), l, exe](Result<bool> stopped) {
      auto self = weak.lock();
      if (!self) return;
      if (!stopped) return self->fail(*l, stopped.error().message);
      ::unlink(l->spec.pidfile.c_str());
      self->clear_helpers(l, exe);
    });
  }

  // A killed dockerd leaves its containerd dying or an unreaped zombie behind, and the next
  // dockerd would wait 15 s for it in vain.
  void clear_helpers(const std::shared_ptr<Launch>& l, const std::string& exe) {
    if (l->spec.helper_pidfiles.empty()) return spawn(*l, exe);
    stop_stale_helpers(io, dispatcher, l->stage, l->spec.helper_pidfiles, l->stop_timeout,
                       [weak = weak_from_this(), l, exe](Result<bool> cleared) {
                         auto self = weak.lock();
                         if (!self) return;
                         // What could not be cleared, the program itself will report.
                         if (!cleared) spdlog::warn("{}: {}", l->stage, cleared.error().message);
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
    state->reload = l.spec.reload_before_stop;
    state->on_exit = std::move(l.on_exit);
    std::shared_ptr<LogFollower> follower;
    if (!options.log_dir.empty()) {
      opts.output_file = log_path(l.stage);
      // From the current end: what an earlier run wrote was logged by the agent of that time.
      follower = follow(l.stage, /*from_end=*/true);
    }

    auto child = ChildProcess::spawn(
        io, dispatcher, std::move(opts),
        [weak = weak_from_this(), stage = l.stage](std::string_view line) {
          if (auto self = weak.lock()) self->log_line(stage, line);
        },
        [weak = weak_from_this(), state, follower](const ChildExit& exit) {
          if (follower) {  // the last lines it wrote, before its end is reported
            follower->poll_now();
            follower->flush();
            follower->stop();
          }
          auto self = weak.lock();
          if (self) self->on_child_exit(*state, exit);
          report_exit(state, exit);
        });
    if (!child) {
      if (follower) follower->stop();
      return fail(l, child.error().message);
    }
    const int pid = child.value().pid();
    state->pid = pid;
    state->child = child.value().weak();
    children.emplace(pid, child.value());
    spdlog::info("{}: started pid {}: {}", l.stage, pid, fmt::join(redact_argv(l.spec.argv), " "));
    if (!options.record_dir.empty()) {
      ProcessRecord rec{l.stage, pid, process_start_ticks(pid).value_or(0), options.boot_id,
                        spec_hash(l.spec)};
      if (auto written = write_process_record(options.record_dir, rec); !written) {
        spdlog::warn("{}: a later agent will not adopt pid {}: {}", l.stage, pid,
                     written.error().message);
      }
    }

    std::unique_ptr<Workload> workload = std::make_unique<ProcessWorkload>(state);
    auto holder = std::make_shared<std::unique_ptr<Workload>>(std::move(workload));
    dispatcher.post([done = std::move(l.done), holder] { done(std::move(*holder)); });
  }

  std::string log_path(const std::string& stage) const {
    return options.log_dir + "/" + stage + ".log";
  }

  std::shared_ptr<LogFollower> follow(const std::string& stage, bool from_end) {
    LogFollower::Options o;
    o.poll = options.log_poll;
    o.idle_poll = options.log_idle_poll;
    o.max_bytes = options.log_max_bytes;
    auto follower = std::make_shared<LogFollower>(
        dispatcher, log_path(stage), o, [weak = weak_from_this(), stage](std::string_view line) {
          if (auto self = weak.lock()) self->log_line(stage, line);
        });
    follower->start(from_end);
    std::erase_if(followers, [](const auto& f) { return f.expired(); });
    followers.push_back(follower);
    return follower;
  }

  // Takes over the stage's live process when its record proves it ours and of the same spec;
  // false when there is none such (the caller launches anew).
  bool try_adopt(Launch& l) {
    if (options.record_dir.empty()) return false;
    const auto rec = check_process_record(options.record_dir, l.stage, options.boot_id);
    if (rec.kind != RecordCheck::Kind::ours) return false;
    if (rec.record.spec_hash != spec_hash(l.spec)) {
      spdlog::info("{}: not adopting pid {}: its spec has changed", l.stage, rec.record.pid);
      return false;
    }
    const int fd = open_pidfd(rec.record.pid);
    if (fd == -1) {
      spdlog::info("{}: not adopting pid {}: {}", l.stage, rec.record.pid, std::strerror(errno));
      return false;
    }
    auto state = std::make_shared<AdoptedState>(io, dispatcher);
    state->pidfd.assign(fd);
    // The pidfd pins the process: proven again now, the proof holds for as long as we watch it.
    if (check_process_record(options.record_dir, l.stage, options.boot_id).kind !=
        RecordCheck::Kind::ours) {
      return false;
    }
    state->stage = l.stage;
    state->pid = rec.record.pid;
    state->reload = l.spec.reload_before_stop;
    state->on_exit = std::move(l.on_exit);
    if (!options.log_dir.empty()) state->follower = follow(l.stage, /*from_end=*/true);
    const int pid = state->pid;
    state->on_end = [weak = weak_from_this(), pid] {
      if (auto self = weak.lock()) self->adopted.erase(pid);
    };
    adopted[pid] = state;
    state->watch();
    spdlog::info("{}: adopted pid {}, left running by an earlier agent", l.stage, pid);
    std::unique_ptr<Workload> workload = std::make_unique<AdoptedWorkload>(state);
    auto holder = std::make_shared<std::unique_ptr<Workload>>(std::move(workload));
    dispatcher.post([done = std::move(l.done), holder] { done(std::move(*holder)); });
    return true;
  }

  void recover(const std::vector<StageSpec>& planned, RecoverDone done) {
    auto report = std::make_shared<RecoveryReport>();
    if (options.record_dir.empty()) {
      dispatcher.post([done = std::move(done), report] { done(std::move(*report)); });
      return;
    }
    std::map<std::string, const ProcessSpec*> processes;
    for (const auto& spec : planned)
      if (const auto* p = std::get_if<ProcessSpec>(&spec.launch)) processes[spec.name] = p;
    // Leftovers of stages no longer run as processes here are stopped one after another.
    auto leftovers = std::make_shared<std::vector<std::pair<std::string, int>>>();
    for (const auto& stage : recorded_stages(options.record_dir)) {
      const auto rec = check_process_record(options.record_dir, stage, options.boot_id);
      auto it = processes.find(stage);
      if (rec.kind != RecordCheck::Kind::ours) {
        report->notes.push_back(
            fmt::format("{}: removed a stale process record: {}", stage, rec.detail));
        remove_process_record(options.record_dir, stage);
      } else if (it == processes.end()) {
        leftovers->emplace_back(stage, rec.record.pid);
      } else if (rec.record.spec_hash == spec_hash(*it->second)) {
        report->adoptable.push_back(stage);
        report->notes.push_back(fmt::format("{}: pid {} can be adopted", stage, rec.record.pid));
      } else {
        report->notes.push_back(fmt::format("{}: pid {} runs an earlier spec; it will be replaced",
                                            stage, rec.record.pid));
      }
    }
    stop_leftovers(leftovers, report, std::move(done));
  }

  void stop_leftovers(std::shared_ptr<std::vector<std::pair<std::string, int>>> leftovers,
                      std::shared_ptr<RecoveryReport> report, RecoverDone done) {
    if (leftovers->empty()) {
      dispatcher.post([done = std::move(done), report] { done(std::move(*report)); });
      return;
    }
    const auto [stage, pid] = leftovers->back();
    leftovers->pop_back();
    spdlog::info("{}: stopping pid {}: the stage is no longer run as a process here", stage, pid);
    stop_orphan(io, dispatcher, pid, stage, Millis(10'000),
                [weak = weak_from_this(), leftovers, report, done = std::move(done), stage = stage,
                 pid = pid](Result<bool> stopped) mutable {
                  auto self = weak.lock();
                  if (!self) return;
                  if (stopped) {
                    remove_process_record(self->options.record_dir, stage);
                    report->removed.push_back(stage);
                  } else {
                    report->notes.push_back(fmt::format("{}: could not stop pid {}: {}", stage, pid,
                                                        stopped.error().message));
                  }
                  self->stop_leftovers(leftovers, report, std::move(done));
                });
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

ProcessRuntime::~ProcessRuntime() {
  for (const auto& weak : impl_->followers)
    if (auto follower = weak.lock()) follower->stop();
}

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

void ProcessRuntime::adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  const auto* process = std::get_if<ProcessSpec>(&spec.launch);
  if (process == nullptr) return launch(spec, std::move(done), std::move(on_exit));
  auto l = std::make_shared<Impl::Launch>(
      Impl::Launch{spec.name, *process, spec.stop_timeout, std::move(done), std::move(on_exit)});
  impl_->dispatcher.post([weak = std::weak_ptr(impl_), l] {
    auto impl = weak.lock();
    if (!impl) return;
    if (!impl->try_adopt(*l)) impl->start(l);
  });
}

void ProcessRuntime::recover(const std::vector<StageSpec>& planned, RecoverDone done) {
  impl_->recover(planned, std::move(done));
}

bool ProcessRuntime::owns(int pid) const {
  if (impl_->adopted.contains(pid)) return true;
  auto it = impl_->children.find(pid);
  return it != impl_->children.end() && it->second.running();
}

}  // namespace kna
