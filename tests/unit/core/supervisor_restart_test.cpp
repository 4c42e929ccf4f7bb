// Restarts: backoff after an exit (delays, jitter, cap, reset), dependents restarted with their
// dependency, restart() and the first-start-only gate of restart_with=false dependencies.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

using ::testing::ElementsAre;

class SupervisorRestart : public SupervisorTest {
 protected:
  // Makes `name` exit and checks that it is relaunched exactly `delay` later.
  void expect_relaunch_after(const std::string& name, Millis delay) {
    const std::size_t before = runtime.launch_count(name);
    runtime.exit(name, exit_code(1));
    sim.run_posted();
    ASSERT_EQ(state(name), StageState::backoff);
    EXPECT_THAT(status(name).last_error, ::testing::HasSubstr("exited: exit code 1"));
    EXPECT_EQ(status(name).next_retry, sim.now() + delay);
    sim.advance(delay - Millis(1));
    EXPECT_EQ(runtime.launch_count(name), before) << "relaunched before " << delay.count() << "ms";
    sim.advance(Millis(1));
    EXPECT_EQ(runtime.launch_count(name), before + 1) << "not relaunched at " << delay.count();
  }
};

TEST_F(SupervisorRestart, ExitRestartsAfter100Then200Then400Milliseconds) {
  add("a");
  automatic();
  start();
  ASSERT_EQ(state("a"), StageState::ready);
  expect_relaunch_after("a", Millis(100));
  expect_relaunch_after("a", Millis(200));
  expect_relaunch_after("a", Millis(400));
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(status("a").restarts, 3);
  ASSERT_TRUE(status("a").last_exit);
  EXPECT_EQ(status("a").last_exit->code, 1);
  EXPECT_EQ(status("a").last_error, "");  // ready again: the exit stays in last_exit only
}

TEST_F(SupervisorRestart, JitterComesFromTheRandomSource) {
  add("a");
  automatic();
  random_value = 0.0;
  start();
  expect_relaunch_after("a", Millis(90));
  random_value = 0.75;
  expect_relaunch_after("a", Millis(210));
}

TEST_F(SupervisorRestart, DelayResetsAfterSixtySecondsReady) {
  add("a");
  automatic();
  start();
  expect_relaunch_after("a", Millis(100));
  expect_relaunch_after("a", Millis(200));
  sim.advance(Millis(59'999));
  expect_relaunch_after("a", Millis(400));  // not quite 60s ready
  sim.advance(seconds(60));
  expect_relaunch_after("a", Millis(100));
  expect_relaunch_after("a", Millis(200));
}

TEST_F(SupervisorRestart, KeepsRetryingAtTheCapForever) {
  add("a");
  start();
  Millis expected(100);
  for (int failure = 1; failure <= 25; ++failure) {
    runtime.fail_launch("a", "daemon not found");
    sim.run_posted();
    ASSERT_EQ(state("a"), StageState::backoff);
    ASSERT_EQ(status("a").next_retry, sim.now() + expected) << "failure " << failure;
    sim.advance(expected);
    ASSERT_EQ(runtime.launch_count("a"), static_cast<std::size_t>(failure + 1));
    expected = std::min(expected * 2, Millis(30'000));
  }
  EXPECT_TRUE(logs.has("warning", "failure 2 in a row, next attempt in 200ms"));
  EXPECT_TRUE(logs.has("error",
                       "a: starting → backoff after 0ms because launch failed: daemon "
                       "not found; failure 25 in a row, next attempt in 30s"));
}

TEST_F(SupervisorRestart, DependentsStopLeafFirstAndStartAgainWhenTheDependencyIsReady) {
  add("a");
  add("b", {{"a"}});
  add("c", {{"b"}});
  add("d", {{"a", false}});
  automatic();
  runtime.set_auto_stop(false);
  start();
  ASSERT_TRUE(sup->all_ready());

  runtime.exit("a", exit_code(2));
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), ElementsAre("c"));  // b waits for c
  EXPECT_EQ(state("b"), StageState::ready);
  EXPECT_EQ(state("c"), StageState::stopping);
  runtime.complete_stop("c");
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), ElementsAre("c", "b"));
  EXPECT_EQ(state("c"), StageState::stopped);
  runtime.complete_stop("b");
  sim.run_posted();
  EXPECT_EQ(state("b"), StageState::stopped);
  EXPECT_EQ(state("d"), StageState::ready);  // restart_with=false: untouched

  sim.advance(Millis(100));  // a's delay; then b and c follow at once, without delay
  EXPECT_TRUE(sup->all_ready());
  EXPECT_EQ(runtime.launch_count("b"), 2u);
  EXPECT_EQ(runtime.launch_count("c"), 2u);
  EXPECT_EQ(runtime.launch_count("d"), 1u);
  EXPECT_EQ(status("b").restarts, 1);
  EXPECT_TRUE(status("b").last_error.empty());
  EXPECT_TRUE(logs.has("info",
                       "c: ready → stopping after 0ms because dependency 'a' went down: "
                       "'pid 1000' exited: exit code 2"));
}

TEST_F(SupervisorRestart, DependencyRelaunchWaitsUntilItsDependentsHaveStopped) {
  add("a");
  add("b", {{"a"}});
  automatic();
  runtime.set_auto_stop(false);
  start();
  runtime.exit("a", exit_code(1));
  sim.advance(seconds(3));  // b ignores SIGTERM for a while
  EXPECT_EQ(state("a"), StageState::waiting);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  runtime.complete_stop("b", ExitStatus::Cause::killed);
  sim.run_posted();
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_TRUE(sup->all_ready());
}

TEST_F(SupervisorRestart, DependentsInBackoffAreStoppedAndStartWithTheirDependency) {
  add("a");
  add("b", {{"a"}});
  automatic();
  start();
  runtime.exit("b", exit_code(1));
  sim.run_posted();
  ASSERT_EQ(state("b"), StageState::backoff);
  runtime.exit("a", exit_code(1));
  sim.run_posted();
  EXPECT_EQ(state("b"), StageState::stopped);
  EXPECT_FALSE(status("b").next_retry);
  sim.advance(Millis(100));
  EXPECT_TRUE(sup->all_ready());
  EXPECT_EQ(runtime.launch_count("b"), 2u);
}

TEST_F(SupervisorRestart, RestartWithFalseDependencyGatesOnlyTheFirstStart) {
  add("a");
  add("d", {{"a", false}});
  automatic();
  start();
  ASSERT_EQ(state("d"), StageState::ready);
  runtime.set_auto_launch(false);
  runtime.exit("a", exit_code(1));
  sim.run_posted();
  runtime.exit("d", exit_code(1));
  sim.advance(Millis(100));
  EXPECT_EQ(runtime.launch_count("d"), 2u);  // a is not ready, d restarts anyway
  EXPECT_NE(state("a"), StageState::ready);
}

TEST_F(SupervisorRestart, RestartStopsDependentsFirstThenStartsAgainAtOnce) {
  add("a");
  add("b", {{"a"}});
  automatic();
  runtime.set_auto_stop(false);
  start();
  sim.advance(seconds(10));
  sup->restart("a", "subnet changed");
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), ElementsAre("b"));
  runtime.complete_stop("b");
  sim.run_posted();
  EXPECT_THAT(runtime.stop_order(), ElementsAre("b", "a"));
  EXPECT_EQ(runtime.launch_count("a"), 1u);
  runtime.complete_stop("a");
  sim.run_posted();  // no time passes: no backoff
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_TRUE(sup->all_ready());
  EXPECT_FALSE(status("a").next_retry);
  EXPECT_TRUE(logs.has("info",
                       "a: stopped → starting after 0ms because restart requested: "
                       "subnet changed"));
  EXPECT_TRUE(logs.has("info", "b: ready → stopping after 10s because 'a' is restarting"));
}

TEST_F(SupervisorRestart, RestartDuringBackoffLaunchesNow) {
  add("a");
  automatic();
  start();
  runtime.exit("a", exit_code(1));
  sim.run_posted();
  ASSERT_EQ(state("a"), StageState::backoff);
  sup->restart("a", "operator");
  sim.run_posted();
  EXPECT_EQ(runtime.launch_count("a"), 2u);
  EXPECT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(sim.pending_timers(), 1u);  // only the next re-probe: the backoff timer is gone
}

TEST_F(SupervisorRestart, RestartOfAnUnknownOrWaitingStageIsIgnored) {
  add("a");
  add("b", {{"a"}});
  start();
  sup->restart("ghost", "why not");
  sup->restart("b", "why not");
  sim.run_posted();
  EXPECT_TRUE(logs.has("warning", "restart of unknown stage 'ghost' ignored"));
  EXPECT_TRUE(logs.has("info", "b: restart ignored: not running"));
  EXPECT_EQ(state("b"), StageState::waiting);
  EXPECT_EQ(runtime.launch_count("a"), 1u);
}

}  // namespace
}  // namespace kna::test
