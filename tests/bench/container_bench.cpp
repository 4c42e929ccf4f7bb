// Container-supervision bench: a real Supervisor with the real ContainerRuntime supervises one
// busybox container in a private dockerd; the container is killed N times through the Docker API
// and the bench measures how fast the agent notices (kill request sent → transition out of ready)
// and relaunches (backoff expiry → launched).
// Then the event storm: STORM short-lived containers (pods churning) are run and removed in the
// same daemon, four at a time, by docker CLI processes of their own, while the container is
// supervised: once left alone, for the agent's CPU seconds per 1 000 foreign events (its own
// process's CPU, getrusage; the CLI processes are not counted), and once with kills spread over the
// storm, for the detection time of a death in the middle of it. Usage: bench_container [KILLS
// [STORM]]   (STORM 0: no storm)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "bench_output.hpp"
#include "integration/docker/docker_daemon.hpp"
#include "kna/catalogue.hpp"
#include "kna/supervisor.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/prober.hpp"

namespace {

using namespace kna;
using Clock = std::chrono::steady_clock;

constexpr const char* kBench = "container_supervision";
constexpr const char* kImage = "kna-bench/busybox:sleep";
constexpr auto kMissAfter = std::chrono::seconds(10);
// Far beyond any relaunch on a working daemon: past it the bench cannot go on.
constexpr auto kStuckAfter = std::chrono::seconds(60);

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Labelled and named the way the catalogue finishes a container (stage_common.cpp), so that the
// runtime's adoption and stale-container cleanup see what they see in the agent.
StageSpec container_stage(const std::string& socket) {
  ContainerSpec c;
  c.docker_socket = socket;
  c.image = kImage;
  c.cmd = {"/bin/sleep", "1000000"};
  c.restart_policy = "no";
  c.labels[kLabelAgent] = "true";
  c.labels[kLabelStage] = "bench";
  c.labels[kLabelNode] = "bench-node";
  const std::string hash = spec_hash(c);
  c.labels[kLabelSpecHash] = hash;
  c.name = "kube_bench_" + hash.substr(0, 5);

  StageSpec s;
  s.name = "bench";
  s.launch = c;
  s.ready.kind = ProbeKind::none;
  s.backoff.initial = Millis(10);
  s.backoff.multiplier = 1.0;
  s.backoff.jitter = 0.0;
  // sleep is PID 1 in its container and ignores SIGTERM: keep the final docker stop short.
  s.stop_timeout = Millis(1'000);
  return s;
}

// "container 3f2a1c9b0d12" → "3f2a1c9b0d12"
std::string container_of(const std::string& workload) {
  const std::string prefix = "container ";
  return workload.rfind(prefix, 0) == 0 ? workload.substr(prefix.size()) : std::string{};
}

// Nanoseconds since the epoch on the wall clock: the daemon's events carry the same clock.
long long wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Figures {
  std::vector<double> detect, respawn;
  // Per noticed kill, on the wall clock: when the kill was sent and when the supervisor saw it.
  std::vector<long long> killed_ns, noticed_ns;
  int kills{0};
  int misses{0};
  int kill_errors{0};
  bool stuck{false};
};

class KillLoop {
 public:
  // Kills `kills` times, each `pace` after the container is ready again; then, while `busy` says
  // so (the storm still runs), waits before it stops the supervisor.
  KillLoop(boost::asio::io_context& io, Dispatcher& dispatcher, Supervisor& sup,
           const std::string& socket, int kills, Millis pace = Millis{0},
           std::function<bool()> busy = {})
      : io_(io),
        dispatcher_(dispatcher),
        sup_(sup),
        client_(DockerClientOptions{socket, Millis{5'000}, Millis{30'000}}),
        wanted_(kills),
        pace_(pace),
        busy_(std::move(busy)) {
    arm_stuck_timer();  // the first start is bounded too
  }

  ~KillLoop() { worker_.join(); }

  void on_transition(const Transition& t) {
    const auto now = Clock::now();
    if (t.from == StageState::ready && t.to != StageState::ready) {
      if (awaiting_) {
        awaiting_ = false;
        dispatcher_.cancel(miss_timer_);
        const auto sent = Clock::time_point(Clock::duration(killed_at_.load()));
        figures_.detect.push_back(ms_between(sent, now));
        figures_.killed_ns.push_back(killed_wall_ns_.load());
        figures_.noticed_ns.push_back(wall_ns());
      }
      arm_stuck_timer();
    } else if (t.from == StageState::backoff && t.event == StageEvent::backoff_expired) {
      expired_at_ = now;
    } else if (t.from == StageState::starting && t.event == StageEvent::launched &&
               expired_at_ != Clock::time_point{}) {
      figures_.respawn.push_back(ms_between(expired_at_, now));
      expired_at_ = {};
    }
    if (t.to == StageState::ready) {
      dispatcher_.cancel(stuck_timer_);
      if (on_ready_) std::exchange(on_ready_, {})();
      // Kill from the loop right after the transition has been handled.
      if (pace_.count() > 0)
        dispatcher_.call_after(pace_, [this] { next(); });
      else
        dispatcher_.post([this] { next(); });
    }
  }

  // Stops the supervisor, then the loop.
  void finish() {
    if (finishing_) return;
    finishing_ = true;
    dispatcher_.cancel(miss_timer_);
    dispatcher_.cancel(stuck_timer_);
    sup_.stop([this] { io_.stop(); });
  }

  const Figures& figures() const { return figures_; }
  // The storm has ended (from the loop).
  void poke() { next(); }
  // Called once, the first time the container is ready.
  void on_first_ready(std::function<void()> fn) { on_ready_ = std::move(fn); }

 private:
  void next() {
    if (finishing_ || awaiting_) return;
    const bool storming = busy_ && busy_();
    // With a storm, the kills go on only while it does, and the loop waits for its end (poke()).
    if (figures_.kills == wanted_ || (busy_ && !storming)) {
      if (!storming) finish();
      return;
    }
    const auto st = sup_.status();
    const std::string id = st.empty() ? std::string{} : container_of(st[0].workload);
    if (st.empty() || st[0].state != StageState::ready || id.empty()) return;
    ++figures_.kills;
    awaiting_ = true;
    if (figures_.kills % 10 == 0)
      std::fprintf(stderr, "bench_container: kill %d\n", figures_.kills);
    // The Docker call blocks: it runs on the worker, never on the loop.
    boost::asio::post(worker_, [this, id] {
      killed_wall_ns_.store(wall_ns());
      killed_at_.store(Clock::now().time_since_epoch().count());
      try {
        client_.kill_container(id, "SIGKILL");
      } catch (const DockerError& e) {
        const std::string why = e.what();
        dispatcher_.post([this, why] { on_kill_failed(why); });
      }
    });
    const int number = figures_.kills;
    miss_timer_ = dispatcher_.call_after(kMissAfter, [this, number] { on_miss(number); });
  }

  void on_kill_failed(const std::string& why) {
    std::fprintf(stderr, "bench_container: kill %d failed: %s\n", figures_.kills, why.c_str());
    ++figures_.kill_errors;
    dispatcher_.cancel(miss_timer_);
    awaiting_ = false;
    dispatcher_.call_after(Millis(100), [this] { next(); });
  }

  void on_miss(int number) {
    if (!awaiting_ || number != figures_.kills) return;
    std::fprintf(stderr, "bench_container: kill %d not noticed within %llds\n", number,
                 static_cast<long long>(kMissAfter.count()));
    ++figures_.misses;
    awaiting_ = false;
    next();
  }

  void arm_stuck_timer() {
    stuck_timer_ = dispatcher_.call_after(kStuckAfter, [this] {
      std::fprintf(stderr, "bench_container: the container was not ready again within %llds\n",
                   static_cast<long long>(kStuckAfter.count()));
      figures_.stuck = true;
      finish();
    });
  }

  boost::asio::io_context& io_;
  Dispatcher& dispatcher_;
  Supervisor& sup_;
  DockerClient client_;
  boost::asio::thread_pool worker_{1};
  const int wanted_;
  const Millis pace_;
  const std::function<bool()> busy_;
  std::function<void()> on_ready_;
  Figures figures_;
  std::atomic<Clock::rep> killed_at_{0};  // written by the worker just before the request
  std::atomic<long long> killed_wall_ns_{0};
  Clock::time_point expired_at_{};
  bool awaiting_{false};  // a kill was sent and no transition out of ready seen yet
  bool finishing_{false};
  Dispatcher::TimerId miss_timer_{0};
  Dispatcher::TimerId stuck_timer_{0};
};

int fail(const std::string& why) {
  std::fprintf(stderr, "bench_container: cannot run: %s\n", why.c_str());
  return 2;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// STORM containers run (`true`) and removed, four at a time, by docker CLI processes under a
// shell: their CPU is theirs, not the bench's. A `docker events` process of the shell's counts
// their events as they happen (the daemon's own record keeps only its last 256 events).
class Storm {
 public:
  Storm(const test::PrivateDockerd& daemon, int containers, std::string tag)
      : daemon_(daemon),
        containers_(containers),
        label_("kna-bench-storm=" + std::move(tag)),
        events_file_(daemon.dir() + "/storm-" + label_.substr(label_.find('=') + 1) + ".events"),
        dies_file_(daemon.dir() + "/storm-" + label_.substr(label_.find('=') + 1) + ".dies") {}
  ~Storm() { join(); }

  // on_end runs on the storm's thread once every container is gone.
  void start(std::function<void()> on_end) {
    running_ = true;
    started_ = wall_seconds();
    cpu_started_ = cpu_seconds();
    thread_ = std::thread([this, on_end = std::move(on_end)] {
      const std::string docker = "docker -H unix://" + daemon_.socket();
      // --since replays what happened between it and the subscription; the events process gets
      // a second after the last container to report it.
      // A second events process records when the daemon reports each death of the supervised
      // container: the detection time splits into the daemon's part and the agent's.
      const std::string script =
          docker + " events --since $(( $(date +%s) - 1 )) --filter label=" + label_ +
          " --format '{{.Action}}' >" + events_file_ + " & ev=$!\n" + docker +
          " events --filter label=" + kLabelStage +
          "=bench --filter event=die --format "
          "'{{.TimeNano}}' >" +
          dies_file_ + " & dv=$!\n" + "seq " + std::to_string(containers_) + " | xargs -P 4 -I{} " +
          docker + " run --rm --network none --log-driver none --label " + label_ + " " + kImage +
          " true >/dev/null\nrc=$?\nsleep 1\nkill $ev $dv\nwait $ev $dv 2>/dev/null\nexit $rc\n";
      rc_ = test::run_command({"sh", "-c", script}, &output_);
      cpu_used_ = cpu_seconds() - cpu_started_;
      ended_ = wall_seconds();
      running_ = false;
      on_end();
    });
  }
  bool running() const { return running_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // After join(): what the storm did.
  bool ok() const { return rc_ == 0; }
  const std::string& output() const { return output_; }
  double seconds() const { return ended_ - started_; }
  double cpu_used() const { return cpu_used_; }
  // The storm's containers' events (create, start, die, destroy …) as the daemon sent them.
  // When the daemon reported each death of the supervised container (ns since the epoch).
  std::vector<long long> deaths() const {
    std::ifstream in(dies_file_);
    std::vector<long long> out;
    for (long long ns = 0; in >> ns;) out.push_back(ns);
    return out;
  }
  long events() const {
    std::ifstream in(events_file_);
    long n = 0;
    for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
    return n;
  }

 private:
  const test::PrivateDockerd& daemon_;
  const int containers_;
  const std::string label_;
  const std::string events_file_;
  const std::string dies_file_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  double started_{0}, ended_{0}, cpu_started_{0}, cpu_used_{0};
  int rc_{-1};
  std::string output_;
};

// One supervised run: `kills` kills `pace` apart; with a storm, the storm starts when the container
// is first ready, and the kills go on (at most `kills`) until the storm ends.
Figures supervise(const test::PrivateDockerd& daemon, int kills, Millis pace, Storm* storm) {
  boost::asio::io_context io;
  AsioDispatcher dispatcher(io);
  ContainerRuntime containers(dispatcher, ContainerRuntimeOptions{});
  RealProber prober(io, dispatcher);
  const StageSpec stage = container_stage(daemon.socket());
  Supervisor sup(
      dispatcher, containers, prober, {stage},
      [&stage](const std::string&) -> Result<StageSpec> { return stage; }, [] { return 0.5; });
  std::function<bool()> busy;
  if (storm) busy = [storm] { return storm->running(); };
  KillLoop loop(io, dispatcher, sup, daemon.socket(), kills, pace, busy);
  if (storm)
    loop.on_first_ready([&] { storm->start([&] { dispatcher.post([&loop] { loop.poke(); }); }); });
  sup.add_observer([&loop](const Transition& t) { loop.on_transition(t); });
  // A Ctrl-C still stops the container and the private daemon.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&loop](const boost::system::error_code& ec, int) {
    if (!ec) loop.finish();
  });
  sup.start();
  io.run();
  if (storm) storm->join();
  return loop.figures();
}

void report(const char* when, const Figures& f) {
  std::fprintf(stderr, "bench_container: %s%d kills, %d noticed, %d kill errors\n", when, f.kills,
               static_cast<int>(f.detect.size()), f.kill_errors);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);
  const int kills = argc > 1 ? std::atoi(argv[1]) : 100;
  const int storm_size = argc > 2 ? std::atoi(argv[2]) : 300;
  if (kills < 1) return fail("KILLS must be a positive number");
  if (storm_size < 0) return fail("STORM must be a number of containers (0: no storm)");
  if (auto why = test::PrivateDockerd::skip_reason()) return fail(*why);

  test::PrivateDockerd daemon;
  std::fprintf(stderr, "bench_container: starting a private dockerd in %s\n", daemon.dir().c_str());
  if (!daemon.start()) return fail("the private dockerd did not start:\n" + daemon.log_tail());
  std::string output;
  if (!daemon.import_busybox(kImage, &output)) return fail("importing busybox: " + output);

  const Figures figures = supervise(daemon, kills, Millis{0}, nullptr);
  report("", figures);
  bench::emit_distribution(kBench, "container_detect", figures.detect);
  bench::emit(kBench, "container_misses", figures.misses, "count");
  bench::emit(kBench, "container_respawn_p50_ms", bench::quantile(figures.respawn, 0.50), "ms");
  bench::emit(kBench, "container_respawn_p99_ms", bench::quantile(figures.respawn, 0.99), "ms");
  bench::emit(kBench, "container_kills", figures.kills, "count");
  if (figures.stuck) return fail("the supervised container stopped coming back");
  if (storm_size == 0) return 0;

  // The storm left alone: what foreign events cost the supervising process.
  constexpr const char* kStorm = "event_storm";
  std::fprintf(stderr, "bench_container: storm of %d containers, no kills\n", storm_size);
  Storm quiet(daemon, storm_size, "quiet");
  const Figures idle = supervise(daemon, 0, Millis{0}, &quiet);
  if (!quiet.ok()) return fail("the storm's docker commands failed:\n" + quiet.output());
  const long events = quiet.events();
  if (events <= 0) return fail("the daemon recorded no event of the storm's containers");
  std::fprintf(stderr, "bench_container: %ld foreign events in %.1f s, %.3f s of CPU\n", events,
               quiet.seconds(), quiet.cpu_used());
  bench::emit(kStorm, "storm_containers", storm_size, "count");
  bench::emit(kStorm, "storm_events", static_cast<double>(events), "count");
  bench::emit(kStorm, "storm_s", quiet.seconds(), "s");
  bench::emit(kStorm, "storm_events_per_s", static_cast<double>(events) / quiet.seconds(), "per_s");
  bench::emit(kStorm, "agent_cpu_s_per_1000_events",
              quiet.cpu_used() * 1000.0 / static_cast<double>(events), "s");
  if (idle.stuck) return fail("the supervised container stopped coming back during the storm");

  // The storm again, with a kill every second while it lasts.
  std::fprintf(stderr, "bench_container: storm of %d containers, with kills\n", storm_size);
  Storm loud(daemon, storm_size, "kills");
  const Figures stormy = supervise(daemon, 10'000, Millis{1'000}, &loud);
  if (!loud.ok()) return fail("the storm's docker commands failed:\n" + loud.output());
  report("during the storm: ", stormy);
  bench::emit_distribution(kStorm, "storm_detect", stormy.detect);
  // Each kill's first reported death: kill sent → the daemon's die event (dockerd, containerd and
  // the kernel under the storm's load), then die event → the supervisor's transition (the agent).
  std::vector<double> daemon_ms, agent_ms;
  const auto deaths = loud.deaths();
  for (std::size_t i = 0; i < stormy.killed_ns.size(); ++i) {
    const auto die = std::lower_bound(deaths.begin(), deaths.end(), stormy.killed_ns[i]);
    if (die == deaths.end() || *die > stormy.noticed_ns[i]) continue;
    daemon_ms.push_back(static_cast<double>(*die - stormy.killed_ns[i]) / 1e6);
    agent_ms.push_back(static_cast<double>(stormy.noticed_ns[i] - *die) / 1e6);
  }
  std::fprintf(stderr, "bench_container: %zu of %zu kills matched to the daemon's die event\n",
               daemon_ms.size(), stormy.killed_ns.size());
  bench::emit_distribution(kStorm, "storm_daemon_die", daemon_ms);
  bench::emit_distribution(kStorm, "storm_agent_after_die", agent_ms);
  bench::emit(kStorm, "storm_misses", stormy.misses, "count");
  bench::emit(kStorm, "storm_kills", stormy.kills, "count");
  if (stormy.stuck) return fail("the supervised container stopped coming back during the storm");
  return 0;
}
