#include "runtime/child_process.hpp"

#include <stdlib.h>

#include <algorithm>

#include <gtest/gtest.h>

namespace kna {
namespace {

bool has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}

bool has_name(const std::vector<std::string>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
}

TEST(ResolveExecutable, FullPathIsKept) {
  const auto r = resolve_executable(KNA_TEST_CHILD);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), KNA_TEST_CHILD);
}

TEST(ResolveExecutable, BareNameIsSearchedInPath) {
  const auto r = resolve_executable("sh");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().front(), '/');
  EXPECT_TRUE(r.value().ends_with("/sh"));
}

TEST(ResolveExecutable, ErrorsNameTheProgram) {
  EXPECT_EQ(resolve_executable("kna-missing").error().message,
            "executable \"kna-missing\" not found in PATH");
  EXPECT_EQ(resolve_executable("/nonexistent/x").error().message,
            "cannot execute \"/nonexistent/x\": No such file or directory");
  EXPECT_EQ(resolve_executable("/").error().message, "cannot execute \"/\": not a regular file");
  EXPECT_EQ(resolve_executable("").error().message, "no program to run: argv is empty");
}

TEST(ChildEnvironment, AddsAndReplacesVariables) {
  ::setenv("KNA_TEST_REPLACED", "old", 1);
  ::setenv("KNA_TEST_KEPT", "kept", 1);
  const auto env = child_environment({{"KNA_TEST_REPLACED", "new"}, {"KNA_TEST_ADDED", "x=y"}});
  EXPECT_TRUE(has(env, "KNA_TEST_REPLACED=new"));
  EXPECT_FALSE(has(env, "KNA_TEST_REPLACED=old"));
  EXPECT_TRUE(has(env, "KNA_TEST_KEPT=kept"));
  EXPECT_TRUE(has(env, "KNA_TEST_ADDED=x=y"));
  ::unsetenv("KNA_TEST_REPLACED");
  ::unsetenv("KNA_TEST_KEPT");
}

TEST(ChildEnvironment, LeavesOutSystemdNotifyVariables) {
  ::setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  ::setenv("WATCHDOG_USEC", "1000", 1);
  const auto env = child_environment({});
  EXPECT_FALSE(has_name(env, "NOTIFY_SOCKET"));
  EXPECT_FALSE(has_name(env, "WATCHDOG_USEC"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
}

TEST(DescribeExit, SaysCodeOrSignal) {
  EXPECT_EQ(describe_exit({false, 1, ""}), "exit code 1");
  EXPECT_EQ(describe_exit({true, 9, ""}), "signal 9 (SIGKILL)");
  EXPECT_EQ(describe_exit({false, 0, "No child processes"}),
            "exit status unknown (No child processes)");
}

}  // namespace
}  // namespace kna
