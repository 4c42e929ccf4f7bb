#include "api/report.hpp"

#include <gtest/gtest.h>

#include "support/sim_dispatcher.hpp"

namespace kna::api {
namespace {

AgentReport sample_report() {
  test::SimDispatcher clock;
  AgentIdentity who{"node-1", "worker", "0.1.0", 4242, clock.wall_now(), 2};
  StageStatus a;
  a.name = "bootstrap-docker";
  a.state = StageState::ready;
  a.since = clock.now();
  a.ready_since = clock.now();
  a.workload = "pid 77";
  a.pid = 77;
  StageStatus b;
  b.name = "flannel";
  b.state = StageState::backoff;
  b.since = clock.now();
  b.restarts = 3;
  b.last_exit = ExitStatus{ExitStatus::Cause::exited, false, 1, ""};
  b.last_error = "exited with code 1";
  b.next_retry = clock.now() + Millis(800);
  b.deps = {"bootstrap-docker"};
  return make_report(who, {a, b}, false, clock);
}

TEST(Report, NotReadyWhileAnyStageIsNotReady) {
  EXPECT_FALSE(sample_report().ready);
}

TEST(Report, JsonRoundTripKeepsEveryField) {
  const AgentReport r = sample_report();
  auto back = report_from_json(to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  const AgentReport& b = back.value();
  EXPECT_EQ(b.node, "node-1");
  EXPECT_EQ(b.pid, 4242);
  EXPECT_EQ(b.agent_restarts, 2);
  ASSERT_EQ(b.stages.size(), 2u);
  EXPECT_EQ(b.stages[0].pid, 77);
  EXPECT_EQ(b.stages[1].state, "backoff");
  EXPECT_EQ(b.stages[1].restarts, 3);
  EXPECT_EQ(b.stages[1].deps, std::vector<std::string>{"bootstrap-docker"});
  ASSERT_TRUE(b.stages[1].next_retry.has_value());
  EXPECT_EQ(*b.stages[1].next_retry - b.stages[1].since, Millis(800));
  EXPECT_EQ(b.stages[1].last_error, "exited with code 1");
}

TEST(Report, MalformedJsonNamesTheProblem) {
  auto j = to_json(sample_report());
  j["stages"][0].erase("state");
  auto back = report_from_json(j);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("state"), std::string::npos) << back.error().message;

  j = to_json(sample_report());
  j["stages"][1]["next_retry"] = "yesterday";
  back = report_from_json(j);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("next_retry"), std::string::npos) << back.error().message;
}

TEST(Report, TimesRoundTripWithMilliseconds) {
  const WallTime t = WallTime{} + std::chrono::seconds(1'700'000'000) + Millis(123);
  EXPECT_EQ(format_time(t), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(parse_time(format_time(t)), t);
  EXPECT_FALSE(parse_time("2023-11-14 22:13:20").has_value());
  EXPECT_FALSE(parse_time("2023-11-14T22:13:20.123+01:00").has_value());
}

TEST(Report, DurationsAreShort) {
  EXPECT_EQ(format_duration(Millis(250)), "250ms");
  EXPECT_EQ(format_duration(Millis(12'500)), "12.5s");
  EXPECT_EQ(format_duration(std::chrono::seconds(185)), "3m5s");
  EXPECT_EQ(format_duration(std::chrono::seconds(3 * 3600 + 240)), "3h4m");
}

TEST(Report, TableHasARowPerStageWithErrorAndRetry) {
  const AgentReport r = sample_report();
  const std::string table = render_status_table(r, r.started + std::chrono::seconds(10));
  EXPECT_NE(table.find("bootstrap-docker  ready"), std::string::npos) << table;
  EXPECT_NE(table.find("pid 77"), std::string::npos) << table;
  EXPECT_NE(table.find("exited with code 1 (retry in"), std::string::npos) << table;
  EXPECT_NE(table.find("not ready"), std::string::npos) << table;
  EXPECT_NE(table.find("agent restarts 2"), std::string::npos) << table;
}

}  // namespace
}  // namespace kna::api
