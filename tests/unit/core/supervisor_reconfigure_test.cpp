// reconfigure(): a new configuration (SIGHUP) restarts the stages whose specification changed,
// each once, with what restarts with them, and leaves the others alone.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

using ::testing::HasSubstr;

class SupervisorReconfigure : public SupervisorTest {
 protected:
  // a ← b ← c (restart with), a ← d (first start only), e alone; all ready.
  void SetUp() override {
    add("a");
    add("b", {{"a", true}});
    add("c", {{"b", true}});
    add("d", {{"a", false}});
    add("e");
    automatic();
    start();
    for (const auto& s : specs) ASSERT_EQ(state(s.name), StageState::ready) << s.name;
  }
  std::size_t launches(const std::string& stage) const { return runtime.launch_count(stage); }
  std::vector<StageSpec> changed_specs() const {
    auto next = specs;
    for (auto& s : next) s.stop_timeout = Millis(1234);
    return next;
  }
};

TEST_F(SupervisorReconfigure, RestartsAChangedStageAndWhatRestartsWithItOnly) {
  ASSERT_TRUE(sup->reconfigure(specs, {"b"}, "the configuration changed"));
  sim.run_posted();
  EXPECT_EQ(launches("a"), 1u);
  EXPECT_EQ(launches("b"), 2u);
  EXPECT_EQ(launches("c"), 2u) << "c restarts with b";
  EXPECT_EQ(launches("d"), 1u);
  EXPECT_EQ(launches("e"), 1u);
  for (const auto& s : specs) EXPECT_EQ(state(s.name), StageState::ready) << s.name;
  EXPECT_TRUE(logs.contains("restart requested: the configuration changed"));
}

TEST_F(SupervisorReconfigure, AChangedStageRestartedByAChangedDependencyRestartsOnce) {
  ASSERT_TRUE(sup->reconfigure(specs, {"a", "c"}, "the configuration changed"));
  sim.run_posted();
  EXPECT_EQ(launches("a"), 2u);
  EXPECT_EQ(launches("b"), 2u);
  EXPECT_EQ(launches("c"), 2u) << "once, not twice";
  EXPECT_EQ(launches("d"), 1u) << "d only waited for a's first start";
  EXPECT_EQ(launches("e"), 1u);
}

TEST_F(SupervisorReconfigure, NothingChangedRestartsNothing) {
  ASSERT_TRUE(sup->reconfigure(changed_specs(), {}, "the configuration changed"));
  sim.run_posted();
  for (const auto& s : specs) EXPECT_EQ(launches(s.name), 1u) << s.name;
}

TEST_F(SupervisorReconfigure, ANewBackoffPolicyAppliesToTheNextFailure) {
  auto next = specs;
  next[4].backoff.initial = Millis(700);
  ASSERT_TRUE(sup->reconfigure(next, {}, "the configuration changed"));
  runtime.exit("e", exit_code(1));
  sim.run_posted();
  ASSERT_EQ(state("e"), StageState::backoff);
  EXPECT_EQ(status("e").next_retry, sim.now() + Millis(700));
}

TEST_F(SupervisorReconfigure, AnotherSetOfStagesIsRefusedAndNothingChanges) {
  auto fewer = specs;
  fewer.pop_back();
  auto refused = sup->reconfigure(fewer, {"a"}, "the configuration changed");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("restart of the agent"));

  auto renamed = specs;
  renamed[4].name = "f";
  EXPECT_FALSE(sup->reconfigure(renamed, {"a"}, "the configuration changed"));

  auto rewired = specs;
  rewired[2].deps = {{"a", true}};
  auto dep_refused = sup->reconfigure(rewired, {"c"}, "the configuration changed");
  ASSERT_FALSE(dep_refused);
  EXPECT_THAT(dep_refused.error().message, HasSubstr("dependencies of 'c'"));

  EXPECT_FALSE(sup->reconfigure(specs, {"nope"}, "the configuration changed"));
  sim.run_posted();
  for (const auto& s : specs) EXPECT_EQ(launches(s.name), 1u) << s.name;
}

TEST_F(SupervisorReconfigure, RefusedWhileStopping) {
  sup->stop(count_done());
  auto refused = sup->reconfigure(specs, {"a"}, "the configuration changed");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("stopping"));
}

}  // namespace
}  // namespace kna::test
