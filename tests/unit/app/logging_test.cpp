// Logging under journald: with JOURNAL_STREAM naming stderr, each line carries its syslog priority
// as "<N>" and no time stamp of ours; otherwise the time-stamped pattern; JSON when asked for.

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/logging.hpp"
#include "support/subprocess.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string dev_ino(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-logging-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/config.json") << "{}";
    std::ofstream(dir_ + "/other-file") << "";
    log_ = dir_ + "/stderr.log";  // the agent's stderr; Background truncates it, same inode
    std::ofstream(log_) << "";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `run` with every stage disabled, as in cli_test.cpp: it logs its start at info, serves the
  // status socket, and stops on SIGTERM. Returns what it wrote to stderr.
  std::string run_agent(const std::string& journal_stream, const std::string& format = "text") {
    std::map<std::string, std::string> env{{"PATH", "/usr/sbin:/usr/bin:/bin"}};
    if (!journal_stream.empty()) env["JOURNAL_STREAM"] = journal_stream;
    const std::string sock = dir_ + "/run/agent.sock";
    std::vector<std::string> args{
        KNA_AGENT_BINARY, "run",    "--config",        dir_ + "/config.json",
        "--role",         "worker", "--master-ip",     "10.9.8.7",
        "--arch",         "arm",    "--net-interface", "eth0",
        "--node-name",    "pi-1",   "--log-format",    format};
    for (const std::string& s :
         {"paths.run_dir=" + dir_ + "/run", "paths.state_dir=" + dir_ + "/state",
          "paths.status_socket=" + sock}) {
      args.insert(args.end(), {"--set", s});
    }
    for (const char* stage : {"bootstrap-docker", "etcd", "flannel", "main-docker", "cri-dockerd",
                              "kubelet", "kube-proxy"}) {
      args.insert(args.end(), {"--set", std::string("stages.") + stage + ".enabled=false"});
    }
    test::Background agent(args, env, log_);
    EXPECT_TRUE(test::eventually([&] { return fs::exists(sock); }, 10'000)) << "no socket";
    agent.signal(SIGTERM);
    auto done = agent.wait(20'000);
    EXPECT_EQ(done.exit_code, 0) << done.out;
    return done.out;
  }

  std::string dir_;
  std::string log_;
};

const std::regex kTimeOfDay(R"(\d\d:\d\d:\d\d)");

TEST_F(LoggingTest, JournalStreamNamingStderrGivesPriorityPrefixesAndNoTimeStamps) {
  const std::string out = run_agent(dev_ino(log_));
  const auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 2u) << out;
  EXPECT_TRUE(lines.front().starts_with("<6>kube-node-agent ")) << out;
  EXPECT_TRUE(lines.back().starts_with("<6>every stage stopped")) << out;
  for (const auto& line : lines) {
    EXPECT_TRUE(std::regex_search(line, std::regex("^<[2-7]>"))) << line;
    EXPECT_FALSE(std::regex_search(line, kTimeOfDay)) << "a time stamp of our own: " << line;
  }
}

TEST_F(LoggingTest, JournalStreamNamingAnotherFileKeepsTheTimeStampedPattern) {
  // What a child of a systemd service sees after its stderr was redirected to a file.
  const std::string out = run_agent(dev_ino(dir_ + "/other-file"));
  const auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 2u) << out;
  const std::regex stamped(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (trace|debug|info|warning|error|critical) )");
  for (const auto& line : lines) EXPECT_TRUE(std::regex_search(line, stamped)) << line;
  EXPECT_NE(lines.back().find(" info every stage stopped"), std::string::npos) << out;
}

TEST_F(LoggingTest, JsonFormatWinsOverTheJournal) {
  const std::string out = run_agent(dev_ino(log_), "json");
  const auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 2u) << out;
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("msg")) << line;
  }
  EXPECT_EQ(nlohmann::json::parse(lines.back())["level"], "info");
}

TEST(LoggingJournalStream, NamesOnlyTheExactDeviceAndInode) {
  EXPECT_TRUE(app::journal_stream_names("64769:1234", 64769, 1234));
  EXPECT_FALSE(app::journal_stream_names("64769:1235", 64769, 1234));
  EXPECT_FALSE(app::journal_stream_names("64768:1234", 64769, 1234));
  EXPECT_FALSE(app::journal_stream_names(nullptr, 64769, 1234));
  EXPECT_FALSE(app::journal_stream_names("", 0, 0));
  EXPECT_FALSE(app::journal_stream_names("64769", 64769, 0));
  EXPECT_FALSE(app::journal_stream_names("64769:1234x", 64769, 1234));
  EXPECT_FALSE(app::journal_stream_names(":1234", 0, 1234));
}

TEST(LoggingJournalStream, PriorityPrefixesFollowSdDaemon) {
  using spdlog::level::level_enum;
  EXPECT_EQ(app::journal_priority_prefix(level_enum::critical), "<2>");
  EXPECT_EQ(app::journal_priority_prefix(level_enum::err), "<3>");
  EXPECT_EQ(app::journal_priority_prefix(level_enum::warn), "<4>");
  EXPECT_EQ(app::journal_priority_prefix(level_enum::info), "<6>");
  EXPECT_EQ(app::journal_priority_prefix(level_enum::debug), "<7>");
  EXPECT_EQ(app::journal_priority_prefix(level_enum::trace), "<7>");
}

}  // namespace
}  // namespace kna
