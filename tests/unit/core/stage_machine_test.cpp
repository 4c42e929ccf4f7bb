#include <array>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "kna/supervisor.hpp"

namespace kna {
namespace {

constexpr std::array kStates{StageState::waiting,  StageState::starting, StageState::running,
                             StageState::ready,    StageState::unready,  StageState::backoff,
                             StageState::stopping, StageState::stopped};
constexpr std::array kEvents{StageEvent::deps_ready,    StageEvent::launched,
                             StageEvent::launch_failed, StageEvent::probe_ok,
                             StageEvent::probe_failed,  StageEvent::deadline,
                             StageEvent::exited,        StageEvent::backoff_expired,
                             StageEvent::stop,          StageEvent::stopped};

// The table of src/core/stage_machine.cpp, one row per event, one column per state (in the order
// of kStates). "-" is illegal.
// clang-format off
constexpr const char* kTable[kEvents.size()][kStates.size()] = {
    //                  waiting    starting    running     ready       unready     backoff    stopping    stopped
    /* deps_ready */   {"starting", "-",        "-",        "-",        "-",        "-",       "-",        "starting"},
    /* launched */     {"-",        "running",  "-",        "-",        "-",        "-",       "stopping", "-"},
    /* launch_failed */{"-",        "backoff",  "-",        "-",        "-",        "-",       "stopped",  "-"},
    /* probe_ok */     {"-",        "-",        "ready",    "ready",    "ready",    "-",       "-",        "-"},
    /* probe_failed */ {"-",        "-",        "running",  "unready",  "unready",  "-",       "-",        "-"},
    /* deadline */     {"-",        "-",        "backoff",  "-",        "backoff",  "-",       "-",        "-"},
    /* exited */       {"-",        "-",        "backoff",  "backoff",  "backoff",  "-",       "-",        "-"},
    /* backoff_exp. */ {"-",        "-",        "-",        "-",        "-",        "waiting", "-",        "-"},
    /* stop */         {"stopped",  "stopping", "stopping", "stopping", "stopping", "stopped", "stopping", "stopped"},
    /* stopped */      {"-",        "-",        "-",        "-",        "-",        "-",       "stopped",  "-"},
};
// clang-format on

TEST(StageMachine, EveryStateAndEventLeadsWhereTheTableSays) {
  for (std::size_t e = 0; e < kEvents.size(); ++e) {
    for (std::size_t s = 0; s < kStates.size(); ++s) {
      const auto next = next_state(kStates[s], kEvents[e]);
      const std::string got = next ? to_string(*next) : "-";
      EXPECT_EQ(got, kTable[e][s]) << to_string(kStates[s]) << " × " << to_string(kEvents[e]);
    }
  }
}

TEST(StageMachine, StopIsLegalInEveryState) {
  for (auto s : kStates) EXPECT_TRUE(next_state(s, StageEvent::stop).has_value()) << to_string(s);
}

TEST(StageMachine, OnlyStopsAndEndedLaunchesLeadToStopped) {
  for (auto s : kStates) {
    for (auto e : kEvents) {
      if (s == StageState::stopped || next_state(s, e) != StageState::stopped) continue;
      EXPECT_TRUE(e == StageEvent::stop || e == StageEvent::stopped ||
                  e == StageEvent::launch_failed)
          << to_string(s) << " × " << to_string(e);
    }
  }
}

TEST(StageMachine, NamesAreDistinctAndLowercase) {
  for (std::size_t a = 0; a < kStates.size(); ++a)
    for (std::size_t b = a + 1; b < kStates.size(); ++b)
      EXPECT_STRNE(to_string(kStates[a]), to_string(kStates[b]));
  for (std::size_t a = 0; a < kEvents.size(); ++a)
    for (std::size_t b = a + 1; b < kEvents.size(); ++b)
      EXPECT_STRNE(to_string(kEvents[a]), to_string(kEvents[b]));
  EXPECT_STREQ(to_string(StageState::unready), "unready");
  EXPECT_STREQ(to_string(StageEvent::backoff_expired), "backoff_expired");
}

}  // namespace
}  // namespace kna
