// Process-supervision bench: supervise a helper child, SIGKILL it N times, and measure how fast
// the agent notices (kill → transition out of ready) and respawns (backoff expiry → child
// running); then the agent's RSS while it supervises six processes.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>

#include "bench_output.hpp"
#include "kna/supervisor.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "runtime/prober.hpp"
#include "runtime/process_runtime.hpp"

namespace {

using namespace kna;
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

StageSpec child_stage(const std::string& name) {
  StageSpec s;
  s.name = name;
  s.launch = ProcessSpec{{KNA_TEST_CHILD}, {}, ""};
  s.ready.kind = ProbeKind::none;
  s.backoff.initial = Millis(10);
  s.backoff.multiplier = 1.0;
  s.backoff.jitter = 0.0;
  s.stop_timeout = Millis(2000);
  return s;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      in >> kb;
      return kb;
    }
    in.ignore(4096, '\n');
  }
  return -1;
}

void kill_bench(int kills) {
  boost::asio::io_context io;
  AsioDispatcher dispatcher(io);
  ProcessRuntime processes(io, dispatcher);
  RealProber prober(io, dispatcher);
  Supervisor sup(
      dispatcher, processes, prober, {child_stage("child")},
      [](const std::string& n) -> Result<StageSpec> { return child_stage(n); }, [] { return 0.5; });

  std::vector<double> detect, respawn;
  Clock::time_point killed_at{}, expired_at{};
  int done = 0;
  sup.add_observer([&](const Transition& t) {
    const auto now = Clock::now();
    if (t.from == StageState::ready && t.event == StageEvent::exited) {
      detect.push_back(ms_between(killed_at, now));
    } else if (t.from == StageState::backoff && t.event == StageEvent::backoff_expired) {
      expired_at = now;
    } else if (t.from == StageState::starting && t.event == StageEvent::launched &&
               expired_at != Clock::time_point{}) {
      respawn.push_back(ms_between(expired_at, now));
      expired_at = {};
    }
    if (t.to == StageState::ready) {
      if (done == kills) {
        sup.stop([&] { io.stop(); });
        return;
      }
      ++done;
      // Kill from the loop right after the transition has been handled.
      dispatcher.post([&] {
        const auto st = sup.status();
        if (st.empty() || !st[0].pid) return;
        killed_at = Clock::now();
        ::kill(*st[0].pid, SIGKILL);
      });
    }
  });
  sup.start();
  io.run();
  bench::emit_distribution("process_supervision", "detect", detect);
  bench::emit_distribution("process_supervision", "respawn", respawn);
  bench::emit("process_supervision", "kills", static_cast<double>(detect.size()), "count");
}

void rss_bench() {
  boost::asio::io_context io;
  AsioDispatcher dispatcher(io);
  ProcessRuntime processes(io, dispatcher);
  RealProber prober(io, dispatcher);
  std::vector<StageSpec> stages;
  for (int i = 0; i < 6; ++i) stages.push_back(child_stage("child-" + std::to_string(i)));
  Supervisor sup(
      dispatcher, processes, prober, stages,
      [](const std::string& n) -> Result<StageSpec> { return child_stage(n); }, [] { return 0.5; });
  long rss = -1;
  sup.add_observer([&](const Transition&) {
    if (rss < 0 && sup.all_ready()) {
      // Let the output readers settle, then measure and stop.
      dispatcher.call_after(Millis(500), [&] {
        rss = rss_kb();
        sup.stop([&] { io.stop(); });
      });
    }
  });
  sup.start();
  io.run();
  bench::emit("process_supervision", "rss_kb", static_cast<double>(rss), "KB");
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);
  const int kills = argc > 1 ? std::atoi(argv[1]) : 500;
  kill_bench(kills);
  rss_bench();
  return 0;
}
