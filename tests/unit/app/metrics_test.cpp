// The agent's metrics: what the text says after a real Supervisor's transitions (state, up,
// ready, restart counters that carry restored counts and never go down, last transition times),
// probe latency timed by TimedProber, the process metrics from /proc and their parsers, and
// `promtool check metrics` on the whole text, of an AgentMetrics and of a live agent.

#include "app/metrics.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>

#include "api/client.hpp"
#include "app/version.hpp"
#include "core/request_count.hpp"
#include "support/fake_prober.hpp"
#include "support/fake_runtime.hpp"
#include "support/log_capture.hpp"
#include "support/sim_dispatcher.hpp"
#include "support/subprocess.hpp"

namespace kna::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using test::exit_code;
using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample whose name and labels are exactly `series` (labels sorted by name, as
// prometheus-cpp writes them); nullopt when the text has no such line.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with('#')) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos || line.substr(0, space) != series) continue;
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

std::string stage_series(const std::string& name, const std::string& stage) {
  return name + "{stage=\"" + stage + "\"}";
}

double epoch_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The text format writes 16 significant digits: a time stamp in seconds is exact to a microsecond.
constexpr double kMicrosecond = 1e-6;

TEST(StageUp, IsTheLaunchedStatesNotBeingStopped) {
  EXPECT_FALSE(stage_up(StageState::waiting));
  EXPECT_FALSE(stage_up(StageState::starting));
  EXPECT_TRUE(stage_up(StageState::running));
  EXPECT_TRUE(stage_up(StageState::ready));
  EXPECT_TRUE(stage_up(StageState::unready));
  EXPECT_FALSE(stage_up(StageState::backoff));
  EXPECT_FALSE(stage_up(StageState::stopping));
  EXPECT_FALSE(stage_up(StageState::stopped));
}

TEST(AgentMetricsBuildInfo, NamesTheVersionAndTheCompiler) {
  AgentMetrics metrics;
  const std::string text = metrics.text();
  std::istringstream in(text);
  std::string found;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("kna_build_info{")) found = line;
  EXPECT_THAT(found, HasSubstr(std::string("version=\"") + kVersion + "\""));
  EXPECT_THAT(found, HasSubstr("compiler=\"gcc ")) << "built with g++ here";
  EXPECT_TRUE(found.ends_with("} 1")) << found;
  EXPECT_THAT(text, HasSubstr("# TYPE kna_build_info gauge"));
}

// The value of the kna_requests_total line of `target` and `kind` in `text`; -1 when there is none.
double requests_of(const std::string& text, const std::string& target,
                   const std::string& kind = "api") {
  std::istringstream in(text);
  const std::string prefix = "kna_requests_total{target=\"" + target + "\",kind=\"" + kind + "\"} ";
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(prefix)) return std::stod(line.substr(prefix.size()));
  return -1;
}

TEST(AgentMetricsRequests, CountWhatTheAgentSentByTarget) {
  AgentMetrics metrics;
  // Process-wide counts: other tests of this binary may have counted before.
  const double api_before = std::max(requests_of(metrics.text(), "apiserver"), 0.0);
  const double etcd_before = std::max(requests_of(metrics.text(), "etcd"), 0.0);
  const double health_before = std::max(requests_of(metrics.text(), "etcd", "health"), 0.0);
  count_request(kTargetApiServer);
  count_request(kTargetApiServer);
  count_request(kTargetEtcd);
  count_request(kTargetEtcd, RequestKind::health);
  const std::string text = metrics.text();
  EXPECT_EQ(requests_of(text, "apiserver"), api_before + 2) << text;
  EXPECT_EQ(requests_of(text, "etcd"), etcd_before + 1) << text;
  EXPECT_EQ(requests_of(text, "etcd", "health"), health_before + 1) << text;
  EXPECT_THAT(text, HasSubstr("# TYPE kna_requests_total counter"));
}

TEST(AgentMetricsAgentRestarts, IsTheGivenCount) {
  AgentMetrics metrics;
  metrics.set_agent_restarts(2);
  EXPECT_EQ(sample(metrics.text(), "kna_agent_restarts"), 2);
}

// A real Supervisor on simulated time with a fake runtime and prober; the metrics are fed as the
// agent feeds them: record() and update() after every transition.
class AgentMetricsStages : public ::testing::Test {
 protected:
  void SetUp() override {
    add("a", {});
    add("b", {{"a"}});
  }

  void add(const std::string& name, std::vector<Dependency> deps) {
    StageSpec s;
    s.name = name;
    s.deps = std::move(deps);
    s.launch = ProcessSpec{{"/usr/bin/" + name}, {}, ""};
    s.ready.kind = ProbeKind::http;
    s.ready.url = url(name);
    specs.push_back(std::move(s));
  }
  static std::string url(const std::string& name) { return "http://" + name + "/ready"; }

  Supervisor& make() {
    sup = std::make_unique<Supervisor>(
        sim, runtime, timed, specs,
        [this](const std::string& name) -> Result<StageSpec> {
          for (const auto& s : specs)
            if (s.name == name) return s;
          return Error{"unknown stage " + name};
        },
        [] { return 0.5; });  // no jitter: the first restart comes 100 ms after the exit
    timed.set_stages(specs);
    sup->add_observer([this](const Transition& t) {
      metrics.record(t);
      metrics.update(sup->status(), sim);
    });
    metrics.update(sup->status(), sim);
    return *sup;
  }

  void bring_up(const std::string& name) {
    prober.set_ok(url(name));
    runtime.complete_launch(name);
    sim.run_posted();
  }

  double value(const std::string& series) {
    const auto v = sample(metrics.text(), series);
    EXPECT_TRUE(v) << "no sample " << series << " in\n" << metrics.text();
    return v.value_or(-1);
  }
  double stage_value(const std::string& name, const std::string& stage) {
    return value(stage_series(name, stage));
  }
  double state_value(const std::string& stage, const std::string& state) {
    return value("kna_stage_state{stage=\"" + stage + "\",state=\"" + state + "\"}");
  }

  test::LogCapture logs;
  test::SimDispatcher sim;
  test::FakeRuntime runtime{sim};
  test::FakeProber prober{sim};
  AgentMetrics metrics;
  TimedProber timed{prober, sim, metrics};
  std::vector<StageSpec> specs;
  std::unique_ptr<Supervisor> sup;
};

TEST_F(AgentMetricsStages, EveryStageIsThereBeforeItMoves) {
  make();
  for (const std::string stage : {"a", "b"}) {
    EXPECT_EQ(stage_value("kna_stage_up", stage), 0);
    EXPECT_EQ(stage_value("kna_stage_ready", stage), 0);
    EXPECT_EQ(stage_value("kna_stage_restarts_total", stage), 0);
    EXPECT_EQ(stage_value("kna_stage_failures_total", stage), 0);
    EXPECT_EQ(state_value(stage, "waiting"), 1);
    EXPECT_EQ(state_value(stage, "ready"), 0);
    EXPECT_NEAR(stage_value("kna_stage_last_transition_timestamp_seconds", stage),
                epoch_seconds(sim.wall_now()), kMicrosecond);
  }
}

TEST_F(AgentMetricsStages, FollowTheStagesThroughAnExitAndARestart) {
  make().start();
  sim.run_posted();
  EXPECT_EQ(state_value("a", "starting"), 1);
  EXPECT_EQ(stage_value("kna_stage_up", "a"), 0) << "starting: not launched yet";

  sim.advance(Millis(250));
  runtime.complete_launch("a");
  sim.run_posted();
  EXPECT_EQ(state_value("a", "running"), 1);
  EXPECT_EQ(state_value("a", "starting"), 0);
  EXPECT_EQ(stage_value("kna_stage_up", "a"), 1);
  EXPECT_EQ(stage_value("kna_stage_ready", "a"), 0);

  sim.advance(Millis(1'000));  // the first probe fails, then a later one passes
  prober.set_ok(url("a"));
  sim.advance(Millis(500));
  ASSERT_EQ(sup->status()[0].state, StageState::ready);
  const double a_ready_at = epoch_seconds(to_wall(sim, sup->status()[0].since));
  bring_up("b");
  EXPECT_EQ(stage_value("kna_stage_ready", "a"), 1);
  EXPECT_EQ(stage_value("kna_stage_ready", "b"), 1);
  EXPECT_EQ(stage_value("kna_stage_up", "b"), 1);
  EXPECT_NEAR(stage_value("kna_stage_last_transition_timestamp_seconds", "a"), a_ready_at,
              kMicrosecond);
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 0);

  sim.advance(seconds(10));
  runtime.set_auto_stop(true);
  runtime.exit("a", exit_code(1));
  sim.run_posted();
  EXPECT_EQ(state_value("a", "backoff"), 1);
  EXPECT_EQ(stage_value("kna_stage_up", "a"), 0);
  EXPECT_EQ(stage_value("kna_stage_ready", "a"), 0);
  EXPECT_EQ(stage_value("kna_stage_failures_total", "a"), 1);
  EXPECT_NEAR(stage_value("kna_stage_last_transition_timestamp_seconds", "a"),
              epoch_seconds(sim.wall_now()), kMicrosecond);
  EXPECT_EQ(stage_value("kna_stage_ready", "b"), 0) << "b restarts with a";
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 0) << "no relaunch yet";

  sim.advance(Millis(100));
  EXPECT_EQ(state_value("a", "starting"), 1);
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 1);
  bring_up("a");
  bring_up("b");
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 1);
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "b"), 1);
  EXPECT_EQ(value("kna_stage_transitions_total{stage=\"a\",to=\"ready\"}"), 2);
  EXPECT_EQ(value("kna_stage_transitions_total{stage=\"a\",to=\"backoff\"}"), 1);
  EXPECT_EQ(stage_value("kna_stage_failures_total", "b"), 0) << "b was stopped, not failed";
}

TEST_F(AgentMetricsStages, RestartCountsOfAnEarlierAgentCarryOverAndNeverGoDown) {
  make().restore({{"a", 4, std::nullopt, ""}});
  metrics.update(sup->status(), sim);  // the agent publishes once after restore()
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 4);
  sup->start();
  sim.run_posted();
  bring_up("a");
  // Not adopted: this agent's first launch of a stage that ran before is a restart too.
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 5);

  // A snapshot with a lower count (none should come) leaves the counter where it is.
  auto lower = sup->status();
  lower[0].restarts = 1;
  metrics.update(lower, sim);
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 5);
  lower[0].restarts = 7;
  metrics.update(lower, sim);
  EXPECT_EQ(stage_value("kna_stage_restarts_total", "a"), 7);
}

TEST_F(AgentMetricsStages, ProbeLatencyIsTimedFromCheckToTheResultOnTheLoop) {
  make().start();
  sim.run_posted();
  prober.hold(url("a"));
  runtime.complete_launch("a");
  sim.run_posted();  // the first check of a is in flight
  ASSERT_EQ(prober.pending(url("a")), 1u);
  sim.advance(Millis(300));
  prober.answer(url("a"), {true, "up"});
  sim.run_posted();
  ASSERT_EQ(sup->status()[0].state, StageState::ready) << "the result reached the supervisor";

  const std::string ok = "kna_probe_duration_seconds_bucket{result=\"ok\",stage=\"a\",le=\"";
  EXPECT_EQ(value(ok + "0.25\"}"), 0);
  EXPECT_EQ(value(ok + "0.5\"}"), 1);
  EXPECT_EQ(value(ok + "+Inf\"}"), 1);
  EXPECT_EQ(value("kna_probe_duration_seconds_count{result=\"ok\",stage=\"a\"}"), 1);
  EXPECT_DOUBLE_EQ(value("kna_probe_duration_seconds_sum{result=\"ok\",stage=\"a\"}"), 0.3);

  // b's checks fail at once, twice, then one passes after 2 ms.
  prober.hold(url("b"));
  runtime.complete_launch("b");
  sim.run_posted();
  prober.answer(url("b"), {false, "connection refused"});
  sim.advance(Millis(100));  // the probe interval
  prober.answer(url("b"), {false, "connection refused"});
  sim.advance(Millis(100));
  sim.advance(Millis(2));
  prober.answer(url("b"), {true, ""});
  sim.run_posted();
  const std::string failed = "{result=\"failed\",stage=\"b\"}";
  EXPECT_EQ(value("kna_probe_duration_seconds_count" + failed), 2);
  EXPECT_EQ(value("kna_probe_duration_seconds_sum" + failed), 0);
  EXPECT_EQ(value("kna_probe_duration_seconds_bucket{result=\"failed\",stage=\"b\",le=\"0.001\"}"),
            2);
  EXPECT_EQ(value("kna_probe_duration_seconds_bucket{result=\"ok\",stage=\"b\",le=\"0.001\"}"), 0);
  EXPECT_EQ(value("kna_probe_duration_seconds_bucket{result=\"ok\",stage=\"b\",le=\"0.0025\"}"), 1);
}

TEST(TimedProber, NamesAProbeOfNoListedStageUnknownAndLeavesProbesOfKindNoneUntimed) {
  test::SimDispatcher sim;
  test::FakeProber prober{sim};
  AgentMetrics metrics;
  TimedProber timed(prober, sim, metrics);
  StageSpec a;
  a.name = "a";
  a.ready.kind = ProbeKind::file;
  a.ready.path = "/run/a";
  timed.set_stages({a});

  std::vector<ProbeResult> results;
  auto keep = [&](ProbeResult r) { results.push_back(std::move(r)); };
  ProbeSpec other;
  other.kind = ProbeKind::file;
  other.path = "/run/other";
  prober.set_ok("/run/a");
  timed.check(a.ready, keep);
  ProbeSpec a_new_policy = a.ready;  // a reload changed only the timeouts: still a's probe
  a_new_policy.policy.timeout = Millis(9'000);
  timed.check(a_new_policy, keep);
  timed.check(other, keep);
  timed.check(ProbeSpec{}, keep);
  EXPECT_TRUE(results.empty()) << "never answered inside check()";
  sim.run_posted();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_FALSE(results[2].ok);
  EXPECT_EQ(results[2].detail, "no result set for /run/other");

  const std::string text = metrics.text();
  EXPECT_EQ(sample(text, "kna_probe_duration_seconds_count{result=\"ok\",stage=\"a\"}"), 2);
  EXPECT_EQ(sample(text, "kna_probe_duration_seconds_count{result=\"failed\",stage=\"unknown\"}"),
            1);
  EXPECT_EQ(sample(text, "kna_probe_duration_seconds_count{result=\"ok\",stage=\"unknown\"}"),
            std::nullopt)
      << "the probe of kind none is not timed";
}

// ---- the process metrics ----

class ProcTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-metrics-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/self/fd");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ + "/" + rel) << content;
  }
  std::string root_;
};

// A /proc/<pid>/stat line of comm `comm`: utime 250, stime 150, starttime 12345, vsize 8 MiB,
// rss 300 pages.
std::string stat_line(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 900 0 0 0 250 150 0 0 20 0 3 0 12345 8388608 300 "
         "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

TEST_F(ProcTree, ProcessMetricsComeFromProcAtScrapeTime) {
  write("self/stat", stat_line("kube-node-agent"));
  write("self/statm", "2048 300 100 10 0 500 0\n");
  write("stat", "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses 7\n");
  write("self/limits",
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max cpu time              unlimited            unlimited            seconds   \n"
        "Max open files            1024                 524288               files     \n");
  for (const std::string fd : {"0", "1", "2"}) write("self/fd/" + fd, "");
  AgentMetrics metrics(root_);
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  std::string text = metrics.text();
  EXPECT_DOUBLE_EQ(sample(text, "process_cpu_seconds_total").value_or(-1), 400 / tick);
  EXPECT_DOUBLE_EQ(sample(text, "process_start_time_seconds").value_or(-1),
                   1700000000 + 12345 / tick);
  EXPECT_EQ(sample(text, "process_resident_memory_bytes"), 300 * page);
  EXPECT_EQ(sample(text, "process_virtual_memory_bytes"), 2048 * page);
  EXPECT_EQ(sample(text, "process_open_fds"), 3);
  EXPECT_EQ(sample(text, "process_max_fds"), 1024);
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge"));

  write("self/fd/3", "");
  write("self/statm", "2048 512 100 10 0 500 0\n");
  text = metrics.text();
  EXPECT_EQ(sample(text, "process_open_fds"), 4) << "read again at each scrape";
  EXPECT_EQ(sample(text, "process_resident_memory_bytes"), 512 * page);
}

TEST_F(ProcTree, AFileThatDoesNotParseLeavesItsMetricsOutAndTheRestIn) {
  write("self/stat", "4242 (broken");
  write("self/statm", "2048 300 100 10 0 500 0\n");
  AgentMetrics metrics(root_);
  const std::string text = metrics.text();
  EXPECT_THAT(text, Not(HasSubstr("process_cpu_seconds_total")));
  EXPECT_THAT(text, Not(HasSubstr("process_start_time_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("process_max_fds")));
  EXPECT_TRUE(sample(text, "process_resident_memory_bytes"));
  EXPECT_EQ(sample(text, "process_open_fds"), 0);
}

TEST(ProcessMetrics, OfThisProcessAreThere) {
  AgentMetrics metrics;
  const std::string text = metrics.text();
  const auto now = epoch_seconds(WallClock::now());
  EXPECT_GE(sample(text, "process_cpu_seconds_total").value_or(-1), 0);
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(-1), 1024 * 1024);
  EXPECT_GT(sample(text, "process_virtual_memory_bytes").value_or(-1), 1024 * 1024);
  EXPECT_GE(sample(text, "process_open_fds").value_or(-1), 3);
  EXPECT_GT(sample(text, "process_max_fds").value_or(-1), 0);
  const double started = sample(text, "process_start_time_seconds").value_or(-1);
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 3600) << "this test started less than an hour ago";
}

// ---- the /proc parsers ----

TEST(ParseProcStat, ReadsTheFieldsAfterTheComm) {
  const auto s = parse_proc_stat(stat_line("kube-node-agent"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->comm, "kube-node-agent");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->utime_ticks, 250u);
  EXPECT_EQ(s->stime_ticks, 150u);
  EXPECT_EQ(s->start_ticks, 12345u);
  EXPECT_EQ(s->vsize_bytes, 8388608u);
  EXPECT_EQ(s->rss_pages, 300);
}

TEST(ParseProcStat, ACommMayHoldSpacesParenthesesAndWhatLooksLikeFields) {
  for (const std::string comm :
       {"tmux: server", "(sd-pam)", "a) b (c", ") R 1 2 3 4 5", "((", "))", "x)", " ", ""}) {
    const auto s = parse_proc_stat(stat_line(comm));
    ASSERT_TRUE(s) << "comm \"" << comm << "\"";
    EXPECT_EQ(s->comm, comm);
    EXPECT_EQ(s->state, 'S') << "comm \"" << comm << "\"";
    EXPECT_EQ(s->utime_ticks, 250u) << "comm \"" << comm << "\"";
    EXPECT_EQ(s->start_ticks, 12345u) << "comm \"" << comm << "\"";
  }
}

TEST(ParseProcStat, RefusesWhatIsNotAStatLine) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("4242 kube-node-agent S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("4242 (kube-node-agent"));
  EXPECT_FALSE(parse_proc_stat("4242 (a) S 1 2 3 4 5 6 7 8 9 10 11\n"));  // too few fields
  std::string bad_utime = stat_line("a");
  bad_utime.replace(bad_utime.find(" 250 "), 5, " 2x0 ");
  EXPECT_FALSE(parse_proc_stat(bad_utime));
}

TEST(ParseProcStatm, ReadsSizeAndResident) {
  const auto m = parse_proc_statm("2048 300 100 10 0 500 0\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size_pages, 2048u);
  EXPECT_EQ(m->resident_pages, 300u);
  EXPECT_FALSE(parse_proc_statm("2048\n"));
  EXPECT_FALSE(parse_proc_statm("a b c\n"));
}

TEST(ParseBootTime, FindsTheBtimeLine) {
  EXPECT_EQ(parse_boot_time("cpu  1 2\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
  EXPECT_EQ(parse_boot_time("btime 5"), 5u);
  EXPECT_EQ(parse_boot_time("cpu 1\nprocesses 9\n"), std::nullopt);
  EXPECT_EQ(parse_boot_time("btimex 5\n"), std::nullopt);
}

TEST(ParseMaxOpenFiles, ReadsTheSoftLimit) {
  EXPECT_EQ(
      parse_max_open_files("Limit  Soft Limit  Hard Limit  Units\n"
                           "Max open files            1024                 524288    files\n"),
      1024u);
  EXPECT_EQ(parse_max_open_files("Max open files  unlimited  unlimited  files\n"), std::nullopt);
  EXPECT_EQ(parse_max_open_files("Max processes  100  100  processes\n"), std::nullopt);
}

// ---- promtool ----

std::optional<std::string> find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Runs `command` through the shell; returns its exit code and what it wrote (stdout and stderr).
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) output.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(AgentMetricsStages, PromtoolCheckMetricsPassesOnTheText) {
  const auto promtool = find_in_path("promtool");
  if (!promtool) GTEST_SKIP() << "promtool not installed: apt-get install prometheus";

  // Every family with samples: transitions, a failure and a restart, probes ok and failed, the
  // process metrics of this process.
  metrics.set_agent_restarts(1);
  make().start();
  sim.run_posted();
  prober.set_failing(url("a"), "connection refused");
  runtime.complete_launch("a");
  sim.advance(Millis(100));
  prober.set_ok(url("a"));
  sim.advance(Millis(100));
  bring_up("b");
  runtime.set_auto_stop(true);
  runtime.exit("a", exit_code(1));
  sim.advance(Millis(100));
  bring_up("a");
  bring_up("b");
  const std::string text = metrics.text();
  ASSERT_THAT(text, HasSubstr("kna_probe_duration_seconds_count{result=\"failed\",stage=\"a\"}"));
  ASSERT_THAT(text, HasSubstr("process_cpu_seconds_total "));

  char tmpl[] = "/tmp/kna-metrics-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string file = std::string(tmpl) + "/metrics.txt";
  std::ofstream(file) << text;
  const auto [code, output] = run(*promtool + " check metrics < " + file);
  fs::remove_all(tmpl);
  EXPECT_EQ(code, 0) << output << "\non:\n" << text;
  EXPECT_EQ(output, "") << "promtool's lint found problems";
}

// A live agent, as in cli_test.cpp, with one stage: kube-proxy as a process that exits at once
// (the test child refuses kube-proxy's flags), so that it goes round starting, running and
// backoff. Its /metrics, fetched from the socket as Prometheus would, passes promtool.
TEST(LiveAgentMetrics, PassPromtoolCheckMetrics) {
  const auto promtool = find_in_path("promtool");
  if (!promtool) GTEST_SKIP() << "promtool not installed: apt-get install prometheus";
  char tmpl[] = "/tmp/kna-metrics-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/config.json") << "{}";
  const std::string sock = dir + "/run/agent.sock";
  std::vector<std::string> args{KNA_AGENT_BINARY, "run",    "--config",        dir + "/config.json",
                                "--role",         "worker", "--master-ip",     "10.9.8.7",
                                "--arch",         "arm",    "--net-interface", "eth0",
                                "--node-name",    "pi-1"};
  for (const std::string& s :
       {"paths.run_dir=" + dir + "/run", "paths.state_dir=" + dir + "/state",
        "paths.status_socket=" + sock, std::string("stages.kube-proxy.runtime=process"),
        std::string("stages.kube-proxy.binary=") + KNA_TEST_CHILD})
    args.insert(args.end(), {"--set", s});
  for (const char* stage :
       {"bootstrap-docker", "etcd", "flannel", "main-docker", "cri-dockerd", "kubelet"})
    args.insert(args.end(), {"--set", std::string("stages.") + stage + ".enabled=false"});

  std::string text;
  {
    test::Background agent(args, {{"PATH", "/usr/sbin:/usr/bin:/bin"}}, dir + "/agent.log");
    const bool failed_twice = test::eventually(
        [&] {
          auto got = api::get_from_agent(sock, "/metrics", Millis(2'000));
          if (!got.ok()) return false;
          text = got.value();
          return sample(text, stage_series("kna_stage_failures_total", "kube-proxy")).value_or(0) >=
                 2;
        },
        10'000);
    agent.signal(SIGTERM);
    const auto done = agent.wait(20'000);
    EXPECT_EQ(done.exit_code, 0) << done.out;
    ASSERT_TRUE(failed_twice) << "kube-proxy did not fail twice:\n" << text << done.out;
  }
  EXPECT_THAT(text, HasSubstr("kna_build_info{"));
  EXPECT_THAT(text, HasSubstr("kna_stage_state{stage=\"kube-proxy\",state=\"backoff\"}"));
  EXPECT_TRUE(sample(text, "process_cpu_seconds_total")) << text;
  EXPECT_GT(sample(text, "process_open_fds").value_or(0), 3) << text;

  const std::string file = dir + "/metrics.txt";
  std::ofstream(file) << text;
  const auto [code, output] = run(*promtool + " check metrics < " + file);
  fs::remove_all(dir);
  EXPECT_EQ(code, 0) << output << "\non:\n" << text;
  EXPECT_EQ(output, "") << "promtool's lint found problems";
}

// The checks above can fail: promtool's lint does flag a counter without _total.
TEST(Promtool, FlagsACounterWithoutTotal) {
  const auto promtool = find_in_path("promtool");
  if (!promtool) GTEST_SKIP() << "promtool not installed: apt-get install prometheus";
  const auto [code, output] =
      run("printf '# HELP kna_bad A counter.\\n# TYPE kna_bad counter\\nkna_bad 1\\n' | " +
          *promtool + " check metrics");
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("_total"));
}

}  // namespace
}  // namespace kna::app
