// Container-supervision bench: a real Supervisor with the real ContainerRuntime supervises one
// busybox container in a private dockerd; the container is killed N times through the Docker API
// and the bench measures how fast the agent notices (kill request sent → transition out of ready)
// and relaunches (backoff expiry → launched). Usage: bench_container [KILLS]

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

struct Figures {
  std::vector<double> detect, respawn;
  int kills{0};
  int misses{0};
  int kill_errors{0};
  bool stuck{false};
};

class KillLoop {
 public:
  KillLoop(boost::asio::io_context& io, Dispatcher& dispatcher, Supervisor& sup,
           const std::string& socket, int kills)
      : io_(io),
        dispatcher_(dispatcher),
        sup_(sup),
        client_(DockerClientOptions{socket, Millis{5'000}, Millis{30'000}}),
        wanted_(kills) {
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
      // Kill from the loop right after the transition has been handled.
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

 private:
  void next() {
    if (finishing_ || awaiting_) return;
    if (figures_.kills == wanted_) {
      finish();
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
  Figures figures_;
  std::atomic<Clock::rep> killed_at_{0};  // written by the worker just before the request
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

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);
  const int kills = argc > 1 ? std::atoi(argv[1]) : 100;
  if (kills < 1) return fail("KILLS must be a positive number");
  if (auto why = test::PrivateDockerd::skip_reason()) return fail(*why);

  test::PrivateDockerd daemon;
  std::fprintf(stderr, "bench_container: starting a private dockerd in %s\n", daemon.dir().c_str());
  if (!daemon.start()) return fail("the private dockerd did not start:\n" + daemon.log_tail());
  std::string output;
  if (!daemon.import_busybox(kImage, &output)) return fail("importing busybox: " + output);

  Figures figures;
  {
    boost::asio::io_context io;
    AsioDispatcher dispatcher(io);
    ContainerRuntime containers(dispatcher, ContainerRuntimeOptions{});
    RealProber prober(io, dispatcher);
    const StageSpec stage = container_stage(daemon.socket());
    Supervisor sup(
        dispatcher, containers, prober, {stage},
        [&stage](const std::string&) -> Result<StageSpec> { return stage; }, [] { return 0.5; });
    KillLoop loop(io, dispatcher, sup, daemon.socket(), kills);
    sup.add_observer([&loop](const Transition& t) { loop.on_transition(t); });
    // A Ctrl-C still stops the container and the private daemon.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&loop](const boost::system::error_code& ec, int) {
      if (!ec) loop.finish();
    });
    sup.start();
    io.run();
    figures = loop.figures();
  }
  std::fprintf(stderr, "bench_container: %d kills, %d noticed, %d kill errors\n", figures.kills,
               static_cast<int>(figures.detect.size()), figures.kill_errors);

  bench::emit_distribution(kBench, "container_detect", figures.detect);
  bench::emit(kBench, "container_misses", figures.misses, "count");
  bench::emit(kBench, "container_respawn_p50_ms", bench::quantile(figures.respawn, 0.50), "ms");
  bench::emit(kBench, "container_respawn_p99_ms", bench::quantile(figures.respawn, 0.99), "ms");
  bench::emit(kBench, "container_kills", figures.kills, "count");
  if (figures.stuck) return fail("the supervised container stopped coming back");
  return 0;
}
