#include "runtime/prober.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/redact.hpp"
#include "core/thread_name.hpp"
#include "kna/catalogue.hpp"
#include "runtime/child_process.hpp"

namespace kna {

namespace {

// A failing command's last output lines go into the probe detail.
constexpr std::size_t kKeptLines = 3;
constexpr std::size_t kKeptLineLength = 200;

}  // namespace

ProbeResult check_file(const ProbeSpec& spec) {
  struct stat st {};
  if (::stat(spec.path.c_str(), &st) == -1) {
    return {false, fmt::format("{}: {}", spec.path, std::strerror(errno))};
  }
  if (!spec.parse_subnet_env) return {true, fmt::format("{} exists", spec.path)};
  std::ifstream in(spec.path);
  if (!in) return {false, fmt::format("{}: {}", spec.path, std::strerror(errno))};
  std::ostringstream text;
  text << in.rdbuf();
  const auto subnet = parse_subnet_env(text.str());
  if (!subnet) return {false, fmt::format("{}: {}", spec.path, subnet.error().message)};
  return {true, fmt::format("{}: subnet {}, mtu {}", spec.path, subnet.value().subnet,
                            subnet.value().mtu)};
}

struct RealProber::Impl : std::enable_shared_from_this<RealProber::Impl> {
  Impl(boost::asio::io_context& i, Dispatcher& d, std::size_t threads)
      : io(i), dispatcher(d), pool(threads) {
    name_pool_threads([this](std::function<void()> fn) { boost::asio::post(pool, std::move(fn)); },
                      threads, "kna-probe");
  }
  ~Impl() {
    pool.stop();
    pool.join();
  }

  boost::asio::io_context& io;
  Dispatcher& dispatcher;
  boost::asio::thread_pool pool;
  std::map<int, ChildProcess> commands;  // by pid, until their exit is collected

  using Done = std::function<void(ProbeResult)>;

  void post_result(Done done, ProbeResult result) {
    dispatcher.post([weak = weak_from_this(), done = std::move(done), r = std::move(result)] {
      if (!weak.expired()) done(r);
    });
  }

  template <typename Check>
  void off_loop(const ProbeSpec& spec, Done done, Check check) {
    // The job holds no strong reference: the last owner of Impl must never be a pool thread,
    // which would then join itself.
    boost::asio::post(
        pool, [weak = weak_from_this(), &d = dispatcher, spec, done = std::move(done), check] {
          ProbeResult r = check(spec);
          d.post([weak, done, r = std::move(r)] {
            if (!weak.expired()) done(r);
          });
        });
  }

  struct CommandRun {
    std::string command;  // for the detail
    Millis timeout{0};
    int pid{0};
    bool timed_out{false};
    Dispatcher::TimerId timer{0};
    std::deque<std::string> last_lines;
  };

  void run_command(const ProbeSpec& spec, Done done) {
    const std::string command = fmt::format("{}", fmt::join(redact_argv(spec.argv), " "));
    auto exe = resolve_executable(spec.argv.empty() ? std::string() : spec.argv.front());
    if (!exe) {
      return post_result(std::move(done),
                         {false, fmt::format("command \"{}\": {}", command, exe.error().message)});
    }
    ChildOptions opts;
    opts.executable = exe.value();
    opts.args.assign(spec.argv.begin() + 1, spec.argv.end());
    opts.env = child_environment({});
    opts.drain_grace = Millis(100);

    auto run = std::make_shared<CommandRun>();
    run->command = command;
    run->timeout = spec.policy.timeout;
    auto child = ChildProcess::spawn(
        io, dispatcher, std::move(opts),
        [run](std::string_view line) {
          if (line.empty()) return;
          run->last_lines.emplace_back(line.substr(0, kKeptLineLength));
          if (run->last_lines.size() > kKeptLines) run->last_lines.pop_front();
        },
        [weak = weak_from_this(), run, done](const ChildExit& exit) {
          auto self = weak.lock();
          if (!self) return;
          self->dispatcher.cancel(run->timer);
          self->commands.erase(run->pid);
          self->post_result(done, command_result(*run, exit));
        });
    if (!child) {
      return post_result(std::move(done), {false, fmt::format("command \"{}\": {}", command,
                                                              child.error().message)});
    }
    const int pid = child.value().pid();
    run->pid = pid;
    commands.emplace(pid, child.value());
    run->timer = dispatcher.call_after(spec.policy.timeout, [weak = weak_from_this(), run, pid] {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->commands.find(pid);
      if (it == self->commands.end() || !it->second.running()) return;
      run->timed_out = true;
      it->second.signal(SIGKILL, /*group=*/true);
    });
  }

  static ProbeResult command_result(const CommandRun& run, const ChildExit& exit) {
    if (run.timed_out) {
      return {false, fmt::format("command \"{}\" did not finish within {}ms", run.command,
                                 run.timeout.count())};
    }
    if (exit.error.empty() && !exit.signaled && exit.code == 0) {
      return {true, fmt::format("command \"{}\" exited with code 0", run.command)};
    }
    std::string detail = fmt::format("command \"{}\" ended: {}", run.command, describe_exit(exit));
    if (!run.last_lines.empty()) detail += fmt::format(": {}", fmt::join(run.last_lines, " | "));
    return {false, detail};
  }
};

RealProber::RealProber(boost::asio::io_context& io, Dispatcher& dispatcher, std::size_t threads)
    : impl_(std::make_shared<Impl>(io, dispatcher, threads)) {}

RealProber::~RealProber() = default;

void RealProber::check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  switch (spec.kind) {
    case ProbeKind::none:
      return impl_->post_result(std::move(done), {true, "no readiness probe"});
    case ProbeKind::http:
      return impl_->off_loop(spec, std::move(done), check_http);
    case ProbeKind::file:
      return impl_->off_loop(spec, std::move(done), check_file);
    case ProbeKind::command:
      return impl_->run_command(spec, std::move(done));
  }
  impl_->post_result(std::move(done), {false, "unknown probe kind"});
}

bool RealProber::owns(int pid) const {
  auto it = impl_->commands.find(pid);
  return it != impl_->commands.end() && it->second.running();
}

}  // namespace kna
