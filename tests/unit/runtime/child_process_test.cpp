#include "runtime/child_process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "runtime/asio_dispatcher.hpp"
#include "support/loop_util.hpp"

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
  ::setenv("CHILD_TEST_REPLACED", "old", 1);
  ::setenv("CHILD_TEST_KEPT", "kept", 1);
  const auto env = child_environment({{"CHILD_TEST_REPLACED", "new"}, {"CHILD_TEST_ADDED", "x=y"}});
  EXPECT_TRUE(has(env, "CHILD_TEST_REPLACED=new"));
  EXPECT_FALSE(has(env, "CHILD_TEST_REPLACED=old"));
  EXPECT_TRUE(has(env, "CHILD_TEST_KEPT=kept"));
  EXPECT_TRUE(has(env, "CHILD_TEST_ADDED=x=y"));
  ::unsetenv("CHILD_TEST_REPLACED");
  ::unsetenv("CHILD_TEST_KEPT");
}

// The agent's own settings and secrets stay with the agent unless the stage's env names them.
TEST(ChildEnvironment, LeavesOutTheAgentsSettingsAndSecretsUnlessTheStageSetsThem) {
  ::setenv("KNA_API_TOKEN", "agent-secret", 1);
  ::setenv("KNA_ROLE", "worker", 1);
  ::setenv("ETCD_PASSWORD", "pw", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "aws", 1);
  ::setenv("K3S_TOKEN", "k3s", 1);
  ::setenv("CHILD_TEST_TOKEN_FILE", "/etc/token", 1);  // where a secret is: not one
  ::setenv("MASTER_IP", "10.0.0.1", 1);
  const auto env = child_environment({{"ETCD_PASSWORD", "for-this-stage"}});
  for (const char* name : {"KNA_API_TOKEN", "KNA_ROLE", "AWS_SECRET_ACCESS_KEY", "K3S_TOKEN"})
    EXPECT_FALSE(has_name(env, name)) << name;
  EXPECT_TRUE(has(env, "ETCD_PASSWORD=for-this-stage"));
  EXPECT_FALSE(has(env, "ETCD_PASSWORD=pw"));
  EXPECT_TRUE(has(env, "CHILD_TEST_TOKEN_FILE=/etc/token"));
  EXPECT_TRUE(has(env, "MASTER_IP=10.0.0.1"));
  EXPECT_TRUE(has_name(env, "PATH"));
  for (const char* name : {"KNA_API_TOKEN", "KNA_ROLE", "ETCD_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                           "K3S_TOKEN", "CHILD_TEST_TOKEN_FILE", "MASTER_IP"})
    ::unsetenv(name);
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

// A child whose output goes to a file, on a real loop: these tests are about real processes.
class ChildProcessOutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-child-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/logs/stage/stage.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ChildOptions options(std::vector<std::string> args) {
    ChildOptions o;
    o.executable = KNA_TEST_CHILD;
    o.args = std::move(args);
    o.env = child_environment({});
    o.output_file = path_;
    return o;
  }

  std::string content() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  boost::asio::io_context io_;
  AsioDispatcher dispatcher_{io_};
  std::string dir_;
  std::string path_;
};

TEST_F(ChildProcessOutputFileTest, StdoutAndStderrGoToTheFileAndTheExitIsReported) {
  int lines = 0;
  std::optional<ChildExit> exit;
  auto child = ChildProcess::spawn(
      io_, dispatcher_,
      options({"--print-lines", "2", "--print-stderr-lines", "1", "--exit-code", "3"}),
      [&](std::string_view) { ++lines; }, [&](const ChildExit& e) { exit = e; });
  ASSERT_TRUE(child.ok()) << child.error().message;
  ASSERT_TRUE(test::run_until(
      io_, [&] { return exit.has_value(); }, std::chrono::seconds(10)));
  EXPECT_EQ(describe_exit(*exit), "exit code 3");
  EXPECT_EQ(lines, 0) << "the agent reads no pipe";
  EXPECT_EQ(content(), "line 1\nline 2\nerr 1\n") << "the missing folders are created";
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0640 & ~mask);
}

TEST_F(ChildProcessOutputFileTest, AppendsToWhatTheFileHeld) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << "earlier run\n";
  std::optional<ChildExit> exit;
  auto child =
      ChildProcess::spawn(io_, dispatcher_, options({"--print-lines", "1", "--exit-code", "0"}),
                          nullptr, [&](const ChildExit& e) { exit = e; });
  ASSERT_TRUE(child.ok()) << child.error().message;
  ASSERT_TRUE(test::run_until(
      io_, [&] { return exit.has_value(); }, std::chrono::seconds(10)));
  EXPECT_EQ(content(), "earlier run\nline 1\n");
}

TEST_F(ChildProcessOutputFileTest, TheExitIsReportedWithoutWaitingForAGrandchildThatHoldsTheFile) {
  auto o = options({"--fork-orphan", "--orphan-ms", "30000", "--exit-code", "0"});
  o.drain_grace = std::chrono::hours(1);  // were the output drained, the exit would wait for it
  std::optional<ChildExit> exit;
  auto child =
      ChildProcess::spawn(io_, dispatcher_, o, nullptr, [&](const ChildExit& e) { exit = e; });
  ASSERT_TRUE(child.ok()) << child.error().message;
  ASSERT_TRUE(test::run_until(
      io_, [&] { return exit.has_value(); }, std::chrono::seconds(10)));
  EXPECT_EQ(describe_exit(*exit), "exit code 0");
  const auto text = content();
  ASSERT_TRUE(text.starts_with("orphan ")) << text;
  ::kill(std::stoi(text.substr(7)), SIGKILL);
}

TEST_F(ChildProcessOutputFileTest, OpenErrorIsASpawnErrorNamingTheFile) {
  auto o = options({});
  o.output_file = dir_;  // a folder
  auto child = ChildProcess::spawn(io_, dispatcher_, o, nullptr, nullptr);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().message, "cannot open output file " + dir_ + ": Is a directory");
}

// Forgets the child the way a killed agent does: its loop and every handler it held are gone.
// Returns the child's wait status once it ends.
int abandon_and_wait(std::unique_ptr<boost::asio::io_context> io,
                     std::unique_ptr<AsioDispatcher> dispatcher, int pid) {
  dispatcher.reset();
  io.reset();
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST_F(ChildProcessOutputFileTest, AChildThatOutlivesTheAgentKeepsWritingToTheFile) {
  auto io = std::make_unique<boost::asio::io_context>();
  auto dispatcher = std::make_unique<AsioDispatcher>(*io);
  auto child = ChildProcess::spawn(
      *io, *dispatcher, options({"--tick-ms", "50", "--exit-after-ms", "300"}), nullptr, nullptr);
  ASSERT_TRUE(child.ok()) << child.error().message;
  const int pid = child.value().pid();
  child = Error{"dropped"};
  const int status = abandon_and_wait(std::move(io), std::move(dispatcher), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(content().find("tick 6\n") != std::string::npos) << content();
}

// Why the file: the same child on a pipe dies of its first write after the agent is gone.
TEST_F(ChildProcessOutputFileTest, OnAPipeTheSameChildDiesOfSigpipe) {
  auto io = std::make_unique<boost::asio::io_context>();
  auto dispatcher = std::make_unique<AsioDispatcher>(*io);
  auto o = options({"--tick-ms", "50", "--exit-after-ms", "300"});
  o.output_file.clear();
  auto child = ChildProcess::spawn(*io, *dispatcher, o, nullptr, nullptr);
  ASSERT_TRUE(child.ok()) << child.error().message;
  const int pid = child.value().pid();
  child = Error{"dropped"};
  const int status = abandon_and_wait(std::move(io), std::move(dispatcher), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGPIPE);
}

}  // namespace
}  // namespace kna
