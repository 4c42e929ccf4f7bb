// Starting: dependency order behind readiness gates, readiness probing and its deadline, the
// resolver, status fields, and the constructor's checks.

#include <stdexcept>

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SupervisorStart : public SupervisorTest {};

TEST_F(SupervisorStart, StartsEachStageOnlyOnceItsDependenciesAreReady) {
  add("main", {{"flannel", false}});
  add("flannel", {{"etcd"}});
  add("boot");
  add("etcd", {{"boot"}});
  start();
  EXPECT_THAT(runtime.launch_order(), ElementsAre("boot"));

  runtime.complete_launch("boot");
  sim.advance(seconds(5));  // running, probe failing: etcd keeps waiting
  EXPECT_EQ(state("boot"), StageState::running);
  EXPECT_EQ(state("etcd"), StageState::waiting);
  EXPECT_THAT(runtime.launch_order(), ElementsAre("boot"));

  prober.set_ok(probe_url("boot"));
  sim.advance(Millis(100));
  EXPECT_EQ(state("boot"), StageState::ready);
  EXPECT_THAT(runtime.launch_order(), ElementsAre("boot", "etcd"));

  bring_up("etcd");
  bring_up("flannel");
  bring_up("main");
  EXPECT_THAT(runtime.launch_order(), ElementsAre("boot", "etcd", "flannel", "main"));
  EXPECT_TRUE(sup->all_ready());
}

TEST_F(SupervisorStart, ReportsStagesInTopologicalOrderStableToTheInput) {
  add("kubelet", {{"main"}});
  add("proxy", {{"main"}});
  add("main");
  add("extra");
  make();
  std::vector<std::string> names;
  for (const auto& s : sup->status()) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("main", "kubelet", "proxy", "extra"));
  EXPECT_THAT(status("kubelet").deps, ElementsAre("main"));
}

TEST_F(SupervisorStart, StartsIndependentStagesTogether) {
  add("a");
  add("b");
  start();
  EXPECT_THAT(runtime.launch_order(), ElementsAre("a", "b"));
}

TEST_F(SupervisorStart, NothingStartsBeforeStart) {
  add("a");
  make();
  sim.advance(seconds(10));
  EXPECT_TRUE(runtime.launches().empty());
  EXPECT_EQ(state("a"), StageState::waiting);
}

TEST_F(SupervisorStart, StageWithoutProbeIsReadyRightAfterLaunch) {
  add("a").ready.kind = ProbeKind::none;
  start();
  runtime.complete_launch("a");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(prober.checks(probe_url("a")), 0u);
  sim.advance(std::chrono::hours(1));
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(prober.checks(probe_url("a")), 0u);
}

TEST_F(SupervisorStart, ProbesEveryIntervalUntilReady) {
  add("a");
  start();
  runtime.complete_launch("a");
  sim.run_posted();
  EXPECT_EQ(prober.checks(probe_url("a")), 1u);  // at once after launch
  sim.advance(Millis(1000));
  EXPECT_EQ(prober.checks(probe_url("a")), 11u);
  EXPECT_EQ(state("a"), StageState::running);
  prober.set_ok(probe_url("a"));
  sim.advance(Millis(100));
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(prober.checks(probe_url("a")), 12u);
  // Then every period, on the beats counted from the supervisor's start: ready at 1.1 s, next
  // checked at 5 s and 10 s.
  sim.advance(Millis(3899));
  EXPECT_EQ(prober.checks(probe_url("a")), 12u);
  sim.advance(Millis(1));
  EXPECT_EQ(prober.checks(probe_url("a")), 13u);
  sim.advance(Millis(4999));
  EXPECT_EQ(prober.checks(probe_url("a")), 13u);
  sim.advance(Millis(1));
  EXPECT_EQ(prober.checks(probe_url("a")), 14u);
}

TEST_F(SupervisorStart, KeepsOnlyOneProbeInFlight) {
  add("a");
  start();
  prober.hold(probe_url("a"));
  runtime.complete_launch("a");
  sim.advance(seconds(2));
  EXPECT_EQ(prober.checks(probe_url("a")), 1u);
  EXPECT_EQ(prober.answer(probe_url("a"), {false, "slow"}), 1u);
  sim.advance(seconds(2));
  EXPECT_EQ(prober.checks(probe_url("a")), 2u);
  EXPECT_EQ(prober.max_in_flight(probe_url("a")), 1u);
}

TEST_F(SupervisorStart, NotReadyWithinTheDeadlineStopsTheWorkloadAndRestartsWithBackoff) {
  add("a");
  prober.set_failing(probe_url("a"), "connection refused");
  start();
  runtime.complete_launch("a");
  sim.run_posted();
  sim.advance(Millis(19'999));
  EXPECT_EQ(state("a"), StageState::running);
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 0);

  sim.advance(Millis(1));
  EXPECT_EQ(state("a"), StageState::backoff);
  EXPECT_EQ(status("a").last_error, "not ready within 20s: connection refused");
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 1);
  EXPECT_EQ(runtime.launch_record(0).stop_timeout, Millis(10'000));
  EXPECT_EQ(status("a").next_retry, sim.now() + Millis(100));
  EXPECT_TRUE(logs.has("warning",
                       "a: running → backoff after 20s because not ready within 20s: "
                       "connection refused; failure 1 in a row, next attempt in 100ms"));

  // The delay is over, but the old workload has not ended yet: no second instance.
  sim.advance(Millis(100));
  EXPECT_EQ(state("a"), StageState::waiting);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(status("a").workload, "pid 1000");

  runtime.complete_stop("a");
  sim.run_posted();
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_EQ(state("a"), StageState::starting);
  EXPECT_EQ(status("a").last_exit->cause, ExitStatus::Cause::terminated);
}

TEST_F(SupervisorStart, DeadlineCountsFromTheLaunchOfTheCurrentRun) {
  add("a");
  runtime.set_auto_launch(true);
  prober.set_failing(probe_url("a"), "refused");
  start();
  sim.advance(seconds(15));
  runtime.exit("a", exit_code(1));
  sim.advance(Millis(100));  // relaunched at 15.1s
  ASSERT_EQ(runtime.launch_count("a"), 2u);
  sim.advance(Millis(19'999));
  EXPECT_EQ(state("a"), StageState::running);  // the first run's deadline did not fire
  sim.advance(Millis(1));
  EXPECT_EQ(state("a"), StageState::backoff);
}

TEST_F(SupervisorStart, WaitsPastTheDeadlineWhenWhatIsMissingIsOutsideTheWorkload) {
  add("a");
  runtime.set_auto_launch(true);
  prober.set_result(probe_url("a"), {false, "node 'n1' is not registered yet", true});
  start();
  sim.advance(seconds(60));
  EXPECT_EQ(state("a"), StageState::running);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(status("a").last_error, "node 'n1' is not registered yet");
  // Every 100 ms for the first deadline (a master's kubelet waits for its own API server), then
  // backing off (1, 2, 4, 8, 16 s…): ~200 checks, not 600.
  EXPECT_GE(prober.checks(probe_url("a")), 200u);
  EXPECT_LE(prober.checks(probe_url("a")), 207u);
  prober.set_ok(probe_url("a"));
  sim.advance(seconds(30));
  EXPECT_EQ(state("a"), StageState::ready);
}

TEST_F(SupervisorStart, DeadlineWithoutAnyProbeAnswerSaysSo) {
  add("a");
  prober.hold(probe_url("a"));
  start();
  runtime.complete_launch("a");
  sim.advance(seconds(20));
  EXPECT_EQ(status("a").last_error, "not ready within 20s: no readiness probe has answered");
}

TEST_F(SupervisorStart, ResolvesTheSpecRightBeforeEachLaunch) {
  add("a").ready.kind = ProbeKind::none;
  runtime.set_auto_launch(true);
  start();
  EXPECT_EQ(resolves["a"], 1);
  std::get<ProcessSpec>(specs[0].launch).argv.push_back("--bip=10.1.7.1/24");
  runtime.exit("a", exit_code(1));
  sim.advance(Millis(100));
  EXPECT_EQ(resolves["a"], 2);
  ASSERT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_THAT(std::get<ProcessSpec>(runtime.launch_record(1).spec.launch).argv,
              ElementsAre("/usr/bin/a", "--bip=10.1.7.1/24"));
}

TEST_F(SupervisorStart, ResolverErrorIsAFailedLaunchWithBackoff) {
  add("a").ready.kind = ProbeKind::none;
  resolve_errors["a"] = "no flannel subnet yet";
  start();
  EXPECT_TRUE(runtime.launches().empty());
  EXPECT_EQ(state("a"), StageState::backoff);
  EXPECT_EQ(status("a").last_error, "cannot build its specification: no flannel subnet yet");
  sim.advance(Millis(100));
  EXPECT_EQ(resolves["a"], 2);
  EXPECT_EQ(state("a"), StageState::backoff);
  EXPECT_EQ(status("a").next_retry, sim.now() + Millis(200));
  resolve_errors.clear();
  sim.advance(Millis(200));
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(state("a"), StageState::starting);
}

TEST_F(SupervisorStart, RuntimeLaunchFailureIsRetriedWithBackoff) {
  add("a");
  start();
  runtime.fail_launch("a", "exec /usr/bin/a: no such file");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::backoff);
  EXPECT_EQ(status("a").last_error, "launch failed: exec /usr/bin/a: no such file");
  sim.advance(Millis(100));
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_EQ(status("a").restarts, 1);
}

TEST_F(SupervisorStart, StatusShowsWorkloadSinceAndReadySince) {
  add("a");
  start();
  const TimePoint t0 = sim.now();
  EXPECT_EQ(status("a").state, StageState::starting);
  EXPECT_EQ(status("a").since, t0);
  EXPECT_EQ(status("a").workload, "");
  sim.advance(Millis(300));
  runtime.complete_launch("a");
  sim.run_posted();
  EXPECT_EQ(status("a").since, t0 + Millis(300));
  EXPECT_EQ(status("a").workload, "pid 1000");
  EXPECT_EQ(status("a").pid, 1000);
  EXPECT_FALSE(status("a").ready_since);
  prober.set_ok(probe_url("a"));
  sim.advance(Millis(100));
  EXPECT_EQ(status("a").ready_since, t0 + Millis(400));
  EXPECT_EQ(status("a").restarts, 0);
  EXPECT_FALSE(status("a").last_exit);
  EXPECT_FALSE(status("a").next_retry);
}

TEST_F(SupervisorStart, LogsEachTransitionWithElapsedTimeAndCause) {
  add("a");
  add("b", {{"a"}});
  start();
  sim.advance(Millis(1200));
  runtime.complete_launch("a");
  sim.run_posted();
  prober.set_ok(probe_url("a"));
  sim.advance(Millis(350));
  EXPECT_TRUE(logs.has_line("info a: waiting → starting after 0ms because nothing to wait for"));
  EXPECT_TRUE(logs.has_line("info a: starting → running after 1.2s because launched 'pid 1000'"));
  EXPECT_TRUE(
      logs.has_line("info a: running → ready after 100ms because the readiness probe passed"));
  EXPECT_TRUE(
      logs.has_line("info b: waiting → starting after 1.3s because dependencies ready: 'a'"));
}

TEST_F(SupervisorStart, ObserversSeeEveryTransitionInOrder) {
  add("a").ready.kind = ProbeKind::none;
  start();
  runtime.complete_launch("a");
  sim.run_posted();
  ASSERT_EQ(transitions.size(), 3u);
  EXPECT_EQ(transitions[0].from, StageState::waiting);
  EXPECT_EQ(transitions[0].event, StageEvent::deps_ready);
  EXPECT_EQ(transitions[1].event, StageEvent::launched);
  EXPECT_EQ(transitions[2].to, StageState::ready);
  EXPECT_EQ(transitions[2].because, "it has no readiness probe");
  EXPECT_EQ(transitions[2].stage, "a");
  EXPECT_EQ(transitions[2].at, sim.now());
}

TEST_F(SupervisorStart, ObserverSeesTheStatusAfterTheTransition) {
  add("a").ready.kind = ProbeKind::none;
  make();
  std::vector<bool> all_ready_seen;
  sup->add_observer([&](const Transition&) { all_ready_seen.push_back(sup->all_ready()); });
  start();
  runtime.complete_launch("a");
  sim.run_posted();
  ASSERT_FALSE(all_ready_seen.empty());
  EXPECT_TRUE(all_ready_seen.back());
}

TEST_F(SupervisorStart, ConstructorRejectsACycle) {
  add("a", {{"b"}});
  add("b", {{"a"}});
  EXPECT_THROW(make(), std::invalid_argument);
}

TEST_F(SupervisorStart, ConstructorRejectsAnUnknownDependency) {
  add("a", {{"nope"}});
  try {
    make();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'nope'"));
  }
}

}  // namespace
}  // namespace kna::test
