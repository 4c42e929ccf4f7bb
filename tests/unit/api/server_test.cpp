#include "api/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "api/client.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::api {
namespace {

namespace fs = std::filesystem;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-api-XXXXXX";
    dir_ = mkdtemp(tmpl);
    socket_ = dir_ + "/agent.sock";
  }
  void TearDown() override { fs::remove_all(dir_); }

  AgentReport report(StageState state) {
    AgentIdentity who{"n1", "worker", "0.1.0", 1, clock_.wall_now()};
    StageStatus s;
    s.name = "bootstrap-docker";
    s.state = state;
    s.since = clock_.now();
    return make_report(who, {s}, false, clock_);
  }

  // Binds a unix socket at `path` without ever accepting on it; returns the fd.
  static int bind_only(const std::string& path, bool listen_too) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (listen_too) {
      EXPECT_EQ(::listen(fd, 4), 0);
    }
    return fd;
  }

  test::SimDispatcher clock_;
  std::string dir_;
  std::string socket_;
};

TEST_F(ApiServerTest, ServesHealthReadinessStatusAndMetrics) {
  StatusBoard board;
  board.publish(report(StageState::running));
  ApiServer server(socket_, board, [] { return std::string("kna_up 1\n"); });
  auto started = server.start();
  ASSERT_TRUE(started.ok()) << started.error().message;

  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  auto health = get_from_agent(socket_, "/healthz", Millis(2000));
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health.value(), "ok\n");

  auto ready = get_from_agent(socket_, "/readyz", Millis(2000));
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message.find("503"), std::string::npos) << ready.error().message;
  EXPECT_NE(ready.error().message.find("bootstrap-docker (running)"), std::string::npos);

  board.publish(report(StageState::ready));
  EXPECT_TRUE(get_from_agent(socket_, "/readyz", Millis(2000)).ok());

  auto status = fetch_status(socket_, Millis(2000));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status.value().ready);
  EXPECT_EQ(status.value().stages.at(0).state, "ready");

  auto metrics = get_from_agent(socket_, "/metrics", Millis(2000));
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics.value(), "kna_up 1\n");

  server.stop();
  EXPECT_FALSE(fs::exists(socket_)) << "the socket is removed on stop";
}

TEST_F(ApiServerTest, ReplacesAStaleSocket) {
  ::close(bind_only(socket_, false));  // a socket file nobody listens on any more
  ASSERT_TRUE(fs::is_socket(socket_));
  StatusBoard board;
  ApiServer server(socket_, board, nullptr);
  auto started = server.start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_TRUE(get_from_agent(socket_, "/healthz", Millis(2000)).ok());
}

TEST_F(ApiServerTest, RefusesASocketAnotherAgentServes) {
  StatusBoard board;
  ApiServer first(socket_, board, nullptr);
  ASSERT_TRUE(first.start().ok());
  ApiServer second(socket_, board, nullptr);
  auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("another agent"), std::string::npos);
  EXPECT_TRUE(get_from_agent(socket_, "/healthz", Millis(2000)).ok()) << "the first keeps serving";
}

TEST_F(ApiServerTest, RefusesToReplaceSomethingThatIsNotASocket) {
  { std::ofstream(socket_) << "precious"; }
  StatusBoard board;
  ApiServer server(socket_, board, nullptr);
  auto started = server.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("not a socket"), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(socket_)) << "the file is left alone";
}

TEST_F(ApiServerTest, ClientSaysNoAgentWhenTheSocketIsMissing) {
  auto r = fetch_status(socket_, Millis(500));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no agent is running"), std::string::npos) << r.error().message;
}

TEST_F(ApiServerTest, ClientSaysStaleWhenNobodyListens) {
  const int fd = bind_only(socket_, false);
  auto r = fetch_status(socket_, Millis(500));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no agent answers"), std::string::npos) << r.error().message;
}

TEST_F(ApiServerTest, ClientTimesOutOnAHungAgent) {
  const int fd = bind_only(socket_, true);  // accepts connections (backlog) but never answers
  const auto t0 = std::chrono::steady_clock::now();
  auto r = fetch_status(socket_, Millis(300));
  const auto took = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("did not answer"), std::string::npos) << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(5)) << "bounded by the timeout, not hung";
}

TEST_F(ApiServerTest, TooLongSocketPathIsAClearError) {
  StatusBoard board;
  ApiServer server(dir_ + "/" + std::string(120, 'x'), board, nullptr);
  auto started = server.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace kna::api
