// Readiness after the first ready: failure threshold, unready/ready flapping, the unready
// deadline, and probe results that arrive too late.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

class SupervisorProbe : public SupervisorTest {
 protected:
  void SetUp() override {
    add("a");
    add("b", {{"a"}});
    automatic();
    start();
    ASSERT_TRUE(sup->all_ready());
  }
  const std::string url = probe_url("a");
};

TEST_F(SupervisorProbe, BecomesUnreadyAfterThresholdFailuresInARowAndDependentsKeepRunning) {
  prober.set_failing(url, "503 Service Unavailable");
  sim.advance(seconds(10));  // two failures
  EXPECT_EQ(state("a"), StageState::ready);
  sim.advance(seconds(5));
  EXPECT_EQ(state("a"), StageState::unready);
  EXPECT_EQ(status("a").last_error,
            "readiness probe failed 3 times in a row: 503 Service Unavailable");
  EXPECT_FALSE(status("a").ready_since);
  EXPECT_EQ(state("b"), StageState::ready);
  EXPECT_TRUE(runtime.stop_order().empty());
  EXPECT_FALSE(sup->all_ready());
  EXPECT_TRUE(logs.has("warning", "a: ready → unready after 15s because readiness probe failed"));
}

TEST_F(SupervisorProbe, ASuccessBelowTheThresholdStartsTheCountAgain) {
  for (int round = 0; round < 4; ++round) {
    prober.set_failing(url, "timeout");
    sim.advance(seconds(10));
    prober.set_ok(url);
    sim.advance(seconds(5));
  }
  EXPECT_EQ(state("a"), StageState::ready);
}

TEST_F(SupervisorProbe, FlapsBetweenUnreadyAndReadyWithEveryChangeReported) {
  for (int round = 0; round < 3; ++round) {
    prober.set_failing(url, "timeout");
    sim.advance(seconds(15));
    ASSERT_EQ(state("a"), StageState::unready) << round;
    prober.set_ok(url);
    sim.advance(seconds(5));
    ASSERT_EQ(state("a"), StageState::ready) << round;
    EXPECT_EQ(status("a").ready_since, sim.now());
  }
  int unready = 0, ready_again = 0;
  for (const auto& t : transitions) {
    if (t.stage != "a") continue;
    if (t.to == StageState::unready) ++unready;
    if (t.from == StageState::unready && t.to == StageState::ready) ++ready_again;
  }
  EXPECT_EQ(unready, 3);
  EXPECT_EQ(ready_again, 3);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(runtime.launch_count("b"), 1u);
}

TEST_F(SupervisorProbe, UnreadyLongerThanTheDeadlineRestartsItAndItsDependents) {
  prober.set_failing(url, "timeout");
  sim.advance(seconds(15));
  ASSERT_EQ(state("a"), StageState::unready);
  sim.advance(Millis(19'999));
  EXPECT_EQ(state("a"), StageState::unready);
  sim.advance(Millis(1));
  EXPECT_EQ(state("a"), StageState::backoff);
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 1);
  EXPECT_EQ(state("b"), StageState::stopped);
  EXPECT_TRUE(logs.has("warning",
                       "a: unready → backoff after 20s because unready for longer than "
                       "20s: timeout"));
  prober.set_ok(url);
  sim.advance(Millis(100));
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_EQ(runtime.launch_count("b"), 2u);
  EXPECT_TRUE(sup->all_ready());
}

TEST_F(SupervisorProbe, ProbeResultFromAnEarlierRunIsIgnored) {
  prober.hold(url);
  sim.advance(seconds(5));
  ASSERT_EQ(prober.pending(url), 1u);  // a re-probe of run 1 is in flight
  runtime.exit("a", exit_code(1));
  sim.advance(Millis(100));  // run 2 starts; its probe waits for run 1's to answer
  ASSERT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_EQ(state("a"), StageState::running);
  EXPECT_EQ(prober.answer(url, {true, ""}), 1u);  // run 1's answer: "ok"
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::running);
  EXPECT_EQ(prober.pending(url), 1u);  // run 2's own probe, sent once run 1's answered
  EXPECT_EQ(prober.max_in_flight(url), 1u);
  prober.answer(url, {true, ""});
  sim.run_posted();
  EXPECT_EQ(state("a"), StageState::ready);
}

TEST_F(SupervisorProbe, AFailureOutsideTheWorkloadKeepsItUnreadyWithoutRestartingIt) {
  prober.set_result(url, {false, "API server http://10.9.0.1:8080 is not reachable", true});
  sim.advance(seconds(15));
  ASSERT_EQ(state("a"), StageState::unready);
  sim.advance(seconds(120));  // six readiness deadlines
  EXPECT_EQ(state("a"), StageState::unready);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 0);
  EXPECT_EQ(status("a").last_error, "API server http://10.9.0.1:8080 is not reachable");
  EXPECT_TRUE(logs.has("info", "a: still not ready after 20s, not restarting it: API server"));
  prober.set_ok(url);
  sim.advance(seconds(30));  // the checks back off while the cause lies outside: up to 30 s apart
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(status("a").last_error, "");  // what was missing is back: nothing left to show
  EXPECT_EQ(runtime.launch_count("b"), 1u);
}

TEST_F(SupervisorProbe, AFailureOfTheWorkloadItselfAfterAnOutsideOneRestartsItAtTheDeadline) {
  prober.set_result(url, {false, "API server down", true});
  sim.advance(seconds(15));
  ASSERT_EQ(state("a"), StageState::unready);
  prober.set_failing(url, "GET http://127.0.0.1:10248/healthz: connection refused");
  sim.advance(Millis(19'999));
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 0);
  sim.advance(Millis(1));  // the deadline armed at 15 s fires after a failure of the workload
  EXPECT_EQ(runtime.launch_record(0).stop_requests, 1);
  EXPECT_TRUE(logs.has("warning",
                       "a: unready → backoff after 20s because unready for longer "
                       "than 20s: GET http://127.0.0.1:10248/healthz"));
}

TEST_F(SupervisorProbe, OutsideFailuresAreRetriedWithAJitteredBackoff) {
  // One check at the ready; then the API server goes away. Without a backoff: a check every 5 s.
  ASSERT_EQ(prober.checks(url), 1u);
  prober.set_result(url, {false, "API server down", true});
  // random 0.5 (no jitter): 5, 10, 15 (unready), 20, then 8, 16 and 30 s apart: 28, 44, 74, 104.
  sim.advance(seconds(104));
  EXPECT_EQ(prober.checks(url), 9u);
  EXPECT_EQ(state("a"), StageState::unready);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
}

TEST_F(SupervisorProbe, TheBackoffOfOutsideFailuresFollowsTheRandomSource) {
  // Another draw, another schedule: agents that lost the API server together drift apart.
  random_value = 0.0;  // each backoff halved: 5, 10, 15, 20, 25, then 8 and 15 s apart: 33, 48
  prober.set_result(url, {false, "API server down", true});
  sim.advance(seconds(48));
  EXPECT_EQ(prober.checks(url), 1u + 7u);  // with 0.5: 5, 10, 15, 20, 28, 44, one fewer
}

// A stage whose check is followed by a step (ProbeSpec::then), and one that depends on it.
class SupervisorStep : public SupervisorTest {
 protected:
  void start_with(Millis then_every) {
    add("a").ready.then = NodeReady{"http://10.9.0.1:8080", "w1", "", "", "", ""};
    specs.back().ready.then_every = then_every;
    add("b", {{"a"}});
    automatic();
    start();
    ASSERT_TRUE(sup->all_ready());
    ASSERT_EQ(prober.steps(url), 1u);
  }
  // The steps run so far, once `later` has passed.
  std::size_t steps_after(Duration later) {
    sim.advance(later);
    return prober.steps(url);
  }
  const std::string url = probe_url("a");
};

TEST_F(SupervisorStep, ZeroRunsTheStepAtEveryCheck) {
  start_with(Millis{0});
  sim.advance(seconds(60));
  EXPECT_EQ(prober.checks(url), 13u);
  EXPECT_EQ(prober.steps(url), 13u);
}

TEST_F(SupervisorStep, OncePerRunLeavesTheCheckAloneWhileTheStageStaysReady) {
  start_with(kThenOncePerRun);
  sim.advance(seconds(600));
  EXPECT_EQ(prober.checks(url), 121u);
  EXPECT_EQ(prober.steps(url), 1u);
  // A failed check: the step runs again with the next one.
  prober.set_failing(url, "timeout");
  sim.advance(seconds(5));
  prober.set_ok(url);
  EXPECT_EQ(steps_after(seconds(5)), 2u);
  EXPECT_EQ(steps_after(seconds(60)), 2u);
}

TEST_F(SupervisorStep, ADependentStartingAgainRunsTheStepAgain) {
  start_with(kThenOncePerRun);
  ASSERT_EQ(steps_after(seconds(60)), 1u);
  runtime.exit("b", ExitStatus{});  // flannel died: its network config may be what it lacked
  sim.advance(seconds(10));
  ASSERT_EQ(state("b"), StageState::ready);
  EXPECT_EQ(runtime.launch_count("b"), 2u);
  EXPECT_EQ(prober.steps(url), 2u);
}

TEST_F(SupervisorStep, APeriodRunsTheStepAgainAfterItWithUpToAFifthMore) {
  random_value = 1.0;  // the full fifth: the step is fresh for 72 s
  start_with(Millis{60'000});
  EXPECT_EQ(steps_after(seconds(70)), 1u);
  EXPECT_EQ(steps_after(seconds(5)), 2u);  // the check at 75 s
  EXPECT_EQ(steps_after(seconds(70)), 2u);
  EXPECT_EQ(steps_after(seconds(5)), 3u);
}

TEST_F(SupervisorStep, AStepWithWorkLeftRunsAgainUntilItIsDone) {
  start_with(kThenOncePerRun);
  // The first run passed without `again`; make the stage start over with a step that has more
  // to do (main-docker's images loading behind).
  prober.set_result(url, {true, "the rest loads behind", false, true});
  runtime.exit("a", ExitStatus{});
  sim.advance(seconds(20));
  ASSERT_EQ(state("a"), StageState::ready);
  const std::size_t steps = prober.steps(url);
  EXPECT_EQ(steps_after(seconds(10)), steps + 2);
  prober.set_ok(url);
  EXPECT_EQ(steps_after(seconds(5)), steps + 3);
  EXPECT_EQ(steps_after(seconds(60)), steps + 3);
}

// The checks of ready stages fall on common beats (multiples of the period from the
// supervisor's start), so that an idle agent wakes once for all of them.
class SupervisorBeat : public SupervisorTest {
 protected:
  // "a" is ready at once; "b" fails its checks until `b_ready_after`, then passes.
  void start_with_b_ready_after(Duration b_ready_after) {
    add("a");
    add("b");
    automatic();
    prober.set_failing(probe_url("b"), "not yet");
    start();
    ASSERT_EQ(state("a"), StageState::ready);
    sim.advance(b_ready_after);
    prober.set_ok(probe_url("b"));
    sim.advance(Millis(100));  // b's next attempt while starting passes
    ASSERT_EQ(state("b"), StageState::ready);
    b_ready_at = sim.now() - origin;
  }
  // The checks of `name` so far, once simulated time has reached `at` since the start.
  std::size_t checks_at(const std::string& name, Duration at) {
    sim.advance(origin + at - sim.now());
    return prober.checks(probe_url(name));
  }
  TimePoint origin = sim.now();
  Duration b_ready_at{0};
};

TEST_F(SupervisorBeat, AStageReadyLaterIsCheckedOnTheSameBeatsAsTheOthers) {
  start_with_b_ready_after(Millis(1'200));
  const std::size_t a0 = checks_at("a", Millis(4'999));
  const std::size_t b0 = prober.checks(probe_url("b"));
  // Both at 5 s: b was ready at 1.3 s, and is not checked again at 6.3 s.
  EXPECT_EQ(checks_at("a", Millis(5'000)), a0 + 1);
  EXPECT_EQ(prober.checks(probe_url("b")), b0 + 1);
  EXPECT_EQ(checks_at("b", Millis(9'999)), b0 + 1);
  EXPECT_EQ(checks_at("b", Millis(10'000)), b0 + 2);
  EXPECT_EQ(prober.checks(probe_url("a")), a0 + 2);
}

TEST_F(SupervisorBeat, AStageReadyJustBeforeABeatWaitsForTheNextOne) {
  start_with_b_ready_after(Millis(4'000));  // ready at 4.1 s: 0.9 s before the beat
  ASSERT_EQ(b_ready_at, Millis(4'100));
  const std::size_t b0 = checks_at("b", Millis(9'999));
  EXPECT_EQ(prober.checks(probe_url("b")), b0);
  EXPECT_EQ(checks_at("b", Millis(10'000)), b0 + 1);
}

TEST_F(SupervisorBeat, ASlowCheckKeepsTheBeat) {
  add("a");
  automatic();
  start();
  const std::string url = probe_url("a");
  prober.hold(url);
  sim.advance(seconds(5));  // the check of the 5 s beat waits for its answer
  sim.advance(Millis(1'500));
  ASSERT_EQ(prober.answer(url, {true, ""}), 1u);
  prober.release(url);
  sim.run_posted();
  const std::size_t after = prober.checks(url);
  sim.advance(origin + seconds(10) - Millis(1) - sim.now());
  EXPECT_EQ(prober.checks(url), after);
  sim.advance(Millis(1));  // 10 s: not 11.5 s
  EXPECT_EQ(prober.checks(url), after + 1);
}

}  // namespace
}  // namespace kna::test
