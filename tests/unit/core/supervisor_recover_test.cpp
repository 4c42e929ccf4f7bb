// Recovery: stages adopted from an earlier agent start at once through Runtime::adopt() without
// counting as restarts; a stage whose restart-with dependency starts anew is not adopted; the
// history of an earlier agent carries on in status; errors are cleared once ready and their
// changes reach the change observers.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

using ::testing::ElementsAre;

class SupervisorRecover : public SupervisorTest {
 protected:
  void start_adopting(const std::vector<std::string>& adopt) {
    make().start(adopt);
    sim.run_posted();
  }
};

TEST_F(SupervisorRecover, AdoptedStagesStartAtOnceWithoutWaitingForTheirDependencies) {
  add("a");
  add("b", {{"a"}});
  add("c", {{"b"}});
  start_adopting({"a", "b", "c"});
  // All three asked of the runtime in the same turn: nobody waited for a probe.
  ASSERT_THAT(runtime.launch_order(), ElementsAre("a", "b", "c"));
  for (const auto& l : runtime.launches()) EXPECT_TRUE(l.adopted) << l.spec.name;
  EXPECT_TRUE(logs.has("info",
                       "b: waiting → starting after 0ms because adopting what an earlier "
                       "agent left running"));
  for (const auto* n : {"a", "b", "c"}) runtime.complete_launch(n);
  sim.run_posted();
  EXPECT_EQ(state("c"), StageState::running);  // its probe decides
  for (const auto* n : {"a", "b", "c"}) prober.set_ok(probe_url(n));
  sim.advance(seconds(1));
  EXPECT_TRUE(sup->all_ready());
  for (const auto* n : {"a", "b", "c"}) EXPECT_EQ(status(n).restarts, 0) << n;
}

TEST_F(SupervisorRecover, AStageWhoseDependencyStartsAnewIsNotAdopted) {
  add("a");
  add("b", {{"a"}});
  add("d", {{"a", /*restart_with=*/false}});
  automatic();
  runtime.set_auto_launch(false);
  start_adopting({"b", "d"});  // a's workload was gone
  // d only waits for a's first start; its workload is adopted. b restarts with a: not adopted.
  ASSERT_THAT(runtime.launch_order(), ElementsAre("a", "d"));
  EXPECT_FALSE(runtime.launch_record(0).adopted);
  EXPECT_TRUE(runtime.launch_record(1).adopted);
  EXPECT_TRUE(logs.has("info",
                       "b: not adopting what an earlier agent left: its dependency 'a' "
                       "starts anew"));
  runtime.complete_launch("a");
  runtime.complete_launch("d");
  sim.run_posted();
  sim.advance(seconds(1));
  ASSERT_EQ(runtime.launch_count("b"), 1u);
  EXPECT_FALSE(runtime.launch_record(*runtime.latest("b")).adopted);
}

TEST_F(SupervisorRecover, HistoryCarriesOnAndAFreshLaunchAfterAnEarlierAgentIsARestart) {
  add("a");
  add("b");
  automatic();
  make().restore({{"a", 3, exit_code(1), "'pid 7' exited: exit code 1"},
                  {"b", 2, std::nullopt, ""},
                  {"gone", 9, std::nullopt, "ignored"}});
  EXPECT_EQ(status("a").restarts, 3);
  EXPECT_EQ(status("a").last_error, "'pid 7' exited: exit code 1");
  start_adopting({"a"});
  sim.advance(seconds(1));
  ASSERT_TRUE(sup->all_ready());
  EXPECT_EQ(status("a").restarts, 3);  // adopted: not a restart
  EXPECT_EQ(status("b").restarts, 3);  // its workload was gone: launched anew, a restart
  EXPECT_EQ(status("a").last_error, "");
  ASSERT_TRUE(status("a").last_exit);
  EXPECT_EQ(status("a").last_exit->code, 1);
}

TEST_F(SupervisorRecover, ErrorChangesWithoutATransitionReachTheChangeObservers) {
  add("a");
  runtime.set_auto_launch(true);
  int changes = 0;
  make().add_change_observer([&] { ++changes; });
  start();
  prober.set_result(probe_url("a"), {false, "API server is not reachable", /*outside=*/true});
  sim.advance(seconds(1));
  ASSERT_EQ(state("a"), StageState::running);
  EXPECT_EQ(status("a").last_error, "API server is not reachable");
  const int after_first = changes;
  EXPECT_GE(after_first, 1);
  prober.set_result(probe_url("a"), {false, "API server answered 500", /*outside=*/true});
  sim.advance(Millis(200));
  EXPECT_EQ(status("a").last_error, "API server answered 500");
  EXPECT_GT(changes, after_first);
}

}  // namespace
}  // namespace kna::test
