// Stopping: reverse dependency order, each stage after its dependents' exits, idempotence, and
// stop while a stage is in backoff, launching or probing.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class SupervisorStop : public SupervisorTest {
 protected:
  // a ← b ← c, and d needs a only for its first start.
  void start_chain() {
    add("a");
    add("b", {{"a"}});
    add("c", {{"b"}});
    add("d", {{"a", false}});
    automatic();
    runtime.set_auto_stop(false);
    start();
    ASSERT_TRUE(sup->all_ready());
  }
};

TEST_F(SupervisorStop, StopsDependentsFirstEachAfterTheExitOfWhatDependsOnIt) {
  start_chain();
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), UnorderedElementsAre("c", "d"));
  EXPECT_EQ(state("b"), StageState::ready);

  runtime.complete_stop("c");
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), UnorderedElementsAre("c", "d", "b"));
  runtime.complete_stop("b");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::ready);  // d has not ended yet
  runtime.complete_stop("d");
  sim.run_posted();
  EXPECT_EQ(runtime.stop_order().back(), "a");
  EXPECT_EQ(done_calls, 0);
  runtime.complete_stop("a");
  sim.run_posted();
  EXPECT_EQ(done_calls, 1);
  for (const auto& s : sup->status()) EXPECT_EQ(s.state, StageState::stopped) << s.name;
  EXPECT_EQ(runtime.launch_record(0).stop_timeout, Millis(10'000));
  EXPECT_TRUE(sup->stopping());
}

TEST_F(SupervisorStop, UsesEachStagesStopBudget) {
  add("a").stop_timeout = Millis(15'000);
  automatic();
  start();
  sup->stop(nullptr);
  sim.run_posted();
  EXPECT_EQ(runtime.launch_record(0).stop_timeout, Millis(15'000));
}

TEST_F(SupervisorStop, LogsWhetherTheWorkloadEndedAfterSigtermOrWasKilled) {
  add("a");
  add("b");
  automatic();
  runtime.set_auto_stop(false);
  start();
  sup->stop(nullptr);
  sim.advance(seconds(10));
  runtime.complete_stop("a", ExitStatus::Cause::terminated);
  runtime.complete_stop("b", ExitStatus::Cause::killed);
  sim.run_posted();
  EXPECT_TRUE(logs.has("info",
                       "a: stopping → stopped after 10s because 'pid 1000' ended: exit "
                       "code 0 after SIGTERM"));
  EXPECT_TRUE(logs.has("warning",
                       "b: stopping → stopped after 10s because 'pid 1001' ended: "
                       "killed by signal 9 (SIGKILL) after SIGKILL at the end of the "
                       "10s stop budget"));
  EXPECT_EQ(status("b").last_exit->cause, ExitStatus::Cause::killed);
}

TEST_F(SupervisorStop, SecondStopOnlyAddsAnotherDone) {
  start_chain();
  sup->stop(count_done());
  sim.run_posted();
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_EQ(runtime.launch_record(2).stop_requests, 1);  // c was asked once
  for (const std::string name : {"c", "d", "b", "a"}) {
    runtime.complete_stop(name);
    sim.run_posted();
  }
  EXPECT_EQ(done_calls, 2);
  sup->stop(count_done());  // after the fact: runs too, once
  sim.run_posted();
  EXPECT_EQ(done_calls, 3);
  sim.advance(std::chrono::hours(1));
  EXPECT_EQ(done_calls, 3);
}

TEST_F(SupervisorStop, DoneNeverRunsInsideStop) {
  add("a");
  start();
  runtime.fail_launch("a", "nope");
  sim.run_posted();
  sup->stop(count_done());
  EXPECT_EQ(done_calls, 0);
  sim.run_posted();
  EXPECT_EQ(done_calls, 1);
}

TEST_F(SupervisorStop, NothingRestartsAfterStop) {
  add("a");
  add("b", {{"a"}});
  automatic();
  start();
  sup->stop(count_done());
  sim.run_posted();
  ASSERT_EQ(done_calls, 1);
  sup->restart("a", "please");
  sup->start();
  sim.advance(std::chrono::hours(1));
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(runtime.launch_count("b"), 1u);
  EXPECT_EQ(state("a"), StageState::stopped);
}

TEST_F(SupervisorStop, StopBeforeStartStopsEverythingAtOnce) {
  add("a");
  add("b", {{"a"}});
  make();
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(state("b"), StageState::stopped);
  EXPECT_TRUE(runtime.launches().empty());
}

TEST_F(SupervisorStop, StopDuringBackoffCancelsTheRestart) {
  add("a");
  automatic();
  start();
  runtime.exit("a", exit_code(3));
  sim.run_posted();
  ASSERT_EQ(state("a"), StageState::backoff);
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_FALSE(status("a").next_retry);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(sim.pending_timers(), 0u);
  sim.advance(seconds(1));
  EXPECT_EQ(runtime.launch_count("a"), 1u);
}

TEST_F(SupervisorStop, StopDuringLaunchStopsTheWorkloadOnceItArrives) {
  add("a");
  start();
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopping);
  // The launch in flight is asked to give up rather than waited for.
  EXPECT_EQ(runtime.launch_record(0).cancel_requests, 1);
  runtime.complete_launch("a");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopping);
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 1);
  EXPECT_EQ(prober.checks(probe_url("a")), 0u);
  EXPECT_EQ(done_calls, 0);
  runtime.complete_stop("a");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(done_calls, 1);
  EXPECT_TRUE(logs.has("info", "a: launched 'pid 1000' after stop was requested; stopping it"));
}

TEST_F(SupervisorStop, StopDuringALaunchThatFailsEndsStopped) {
  add("a");
  start();
  sup->stop(count_done());
  sim.run_posted();
  EXPECT_EQ(runtime.launch_record(0).cancel_requests, 1);
  runtime.fail_launch("a", "launch cancelled: the agent is stopping");
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(sim.pending_timers(), 0u);
}

TEST_F(SupervisorStop, StopDuringProbingIgnoresTheLateProbeResult) {
  add("a");
  start();
  prober.hold(probe_url("a"));
  runtime.complete_launch("a");
  sim.run_posted();
  ASSERT_EQ(prober.pending(probe_url("a")), 1u);
  sup->stop(count_done());
  runtime.set_auto_stop(true);
  runtime.complete_stop("a");
  sim.run_posted();
  ASSERT_EQ(state("a"), StageState::stopped);
  const auto seen = transitions.size();
  prober.answer(probe_url("a"), {true, ""});
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(transitions.size(), seen);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(sim.pending_timers(), 0u);  // no deadline or re-probe left behind
}

TEST_F(SupervisorStop, WaitsForAWorkloadStillEndingAfterItsDeadline) {
  add("a");
  add("b", {{"a", false}});
  start();
  prober.set_failing(probe_url("a"), "refused");
  runtime.complete_launch("a");
  sim.advance(seconds(20));
  ASSERT_EQ(state("a"), StageState::backoff);
  ASSERT_EQ(runtime.launch_record(0).stop_requests, 1);
  sup->stop(count_done());
  sim.advance(seconds(1));
  EXPECT_EQ(state("a"), StageState::backoff);  // its workload has not ended yet
  EXPECT_FALSE(status("a").next_retry);
  EXPECT_EQ(state("b"), StageState::stopped);
  EXPECT_EQ(done_calls, 0);
  runtime.complete_stop("a", ExitStatus::Cause::killed);
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
}

TEST_F(SupervisorStop, AnObserverMayStopTheSupervisor) {
  add("a").ready.kind = ProbeKind::none;
  automatic();
  make();
  sup->add_observer([&](const Transition& t) {
    if (t.to == StageState::ready) sup->stop(count_done());
  });
  start();
  EXPECT_EQ(state("a"), StageState::stopped);
  EXPECT_EQ(done_calls, 1);
  ASSERT_GE(transitions.size(), 5u);
  EXPECT_EQ(transitions[2].to, StageState::ready);  // the first observer saw them in order
  EXPECT_EQ(transitions[3].to, StageState::stopping);
  EXPECT_EQ(transitions[4].to, StageState::stopped);
}

}  // namespace
}  // namespace kna::test
