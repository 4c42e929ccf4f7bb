#include "core/exit_status.hpp"

#include <gtest/gtest.h>

#include "core/format.hpp"

namespace kna::core {
namespace {

ExitStatus status(ExitStatus::Cause cause, bool signaled, int code, std::string detail = "") {
  ExitStatus s;
  s.cause = cause;
  s.signaled = signaled;
  s.code = code;
  s.detail = std::move(detail);
  return s;
}

TEST(ExitStatus, DescribesAnExitCode) {
  EXPECT_EQ(status(ExitStatus::Cause::exited, false, 1).describe(), "exit code 1");
  EXPECT_EQ(status(ExitStatus::Cause::exited, false, 0).describe(), "exit code 0");
}

TEST(ExitStatus, DescribesASignalByNumberAndName) {
  EXPECT_EQ(status(ExitStatus::Cause::exited, true, 9).describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(status(ExitStatus::Cause::exited, true, 11).describe(),
            "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(status(ExitStatus::Cause::exited, true, 40).describe(), "killed by signal 40 (SIG40)");
}

TEST(ExitStatus, SaysItEndedAfterSigterm) {
  EXPECT_EQ(status(ExitStatus::Cause::terminated, false, 0).describe(),
            "exit code 0 after SIGTERM");
  EXPECT_EQ(status(ExitStatus::Cause::terminated, true, 15).describe(),
            "killed by signal 15 (SIGTERM) after SIGTERM");
}

TEST(ExitStatus, SaysTheStopBudgetRanOutWhenKilled) {
  const auto s = status(ExitStatus::Cause::killed, true, 9);
  EXPECT_EQ(s.describe(),
            "killed by signal 9 (SIGKILL) after SIGKILL at the end of the stop budget");
  EXPECT_EQ(describe_exit(s, Millis(10'000)),
            "killed by signal 9 (SIGKILL) after SIGKILL at the end of the 10s stop budget");
}

TEST(ExitStatus, DescribesALostWorkloadAndAppendsTheDetail) {
  EXPECT_EQ(status(ExitStatus::Cause::lost, false, 0, "docker daemon gone").describe(),
            "lost track of it; its state is unknown: docker daemon gone");
  EXPECT_EQ(status(ExitStatus::Cause::exited, false, 2, "OOM").describe(), "exit code 2: OOM");
}

TEST(FormatElapsed, UsesMillisecondsSecondsMinutesAndHours) {
  EXPECT_EQ(format_elapsed(Millis(0)), "0ms");
  EXPECT_EQ(format_elapsed(Millis(350)), "350ms");
  EXPECT_EQ(format_elapsed(Millis(1200)), "1.2s");
  EXPECT_EQ(format_elapsed(Millis(20'000)), "20s");
  EXPECT_EQ(format_elapsed(Millis(59'950)), "60.0s");
  EXPECT_EQ(format_elapsed(std::chrono::seconds(185)), "3m5s");
  EXPECT_EQ(format_elapsed(std::chrono::seconds(3 * 3600 + 240)), "3h4m");
  EXPECT_EQ(format_elapsed(Millis(-5)), "0ms");
}

}  // namespace
}  // namespace kna::core
