#include "api/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "api/client.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::api {
namespace {

namespace fs = std::filesystem;

// Connects to the unix socket at `path`; -1 on failure.
int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes or `limit` passes (or `until` appears, when given).
std::string read_answer(int fd, std::chrono::milliseconds limit, const std::string& until = "") {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

// Sends `request` as it is on a new connection and returns everything answered.
std::string round_trip(const std::string& socket, const std::string& request,
                       std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  const int fd = connect_unix(socket);
  if (fd < 0) return "connect failed";
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = read_answer(fd, limit);
  ::close(fd);
  return out;
}

int status_of(const std::string& answer) {
  int status = 0;
  return std::sscanf(answer.c_str(), "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

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

TEST_F(ApiServerTest, AnswersBadRequestsAndStaysUp) {
  StatusBoard board;
  ApiOptions options;
  options.socket_path = socket_;
  options.read_timeout = Millis(300);
  ApiServer server(options, board, ApiHandlers{});
  ASSERT_TRUE(server.start().ok());
  struct Case {
    std::string request;
    int status;
    const char* says;
  };
  for (const Case& c : {
           Case{"GET /nope HTTP/1.1\r\n\r\n", 404, "no such path: /nope"},
           Case{"DELETE /v1/status HTTP/1.1\r\n\r\n", 405, "Allow: GET"},
           Case{"GET /v1/stages/kubelet/restart HTTP/1.1\r\n\r\n", 405, "Allow: POST"},
           Case{"POST /v1/stages/kubelet/logs HTTP/1.1\r\n\r\n", 405, "Allow: GET"},
           Case{"BREW /pot HTCPCP/1.0\r\n\r\n", 400, "only HTTP/1.0 and HTTP/1.1"},
           Case{"\x01\x02\x03\r\n\r\n", 400, "request line"},
           Case{"GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n", 431, "longer than"},
           Case{"POST /v1/stages/x/restart HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413,
                "body is longer"},
           Case{"GET /v1/status HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 408, "in time"},
           Case{"GET /v1/st", 408, "did not arrive in time"},
       }) {
    const std::string answer = round_trip(socket_, c.request);
    EXPECT_EQ(status_of(answer), c.status) << c.request.substr(0, 60) << " → " << answer;
    EXPECT_NE(answer.find(c.says), std::string::npos) << answer;
  }
  EXPECT_TRUE(get_from_agent(socket_, "/healthz", Millis(2000)).ok()) << "still serving";
}

TEST_F(ApiServerTest, ASlowClientDoesNotHoldUpTheOthers) {
  StatusBoard board;
  board.publish(report(StageState::ready));
  ApiOptions options;
  options.socket_path = socket_;
  options.read_timeout = Millis(1500);
  ApiServer server(options, board, ApiHandlers{});
  ASSERT_TRUE(server.start().ok());
  const int slow = connect_unix(socket_);  // connects and sends half a request, then nothing
  ASSERT_GE(slow, 0);
  ASSERT_GT(::send(slow, "GET /v1/st", 10, MSG_NOSIGNAL), 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto status = fetch_status(socket_, Millis(1000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status.value().ready);
  EXPECT_EQ(status_of(read_answer(slow, std::chrono::milliseconds(5000))), 408);
  ::close(slow);
}

TEST_F(ApiServerTest, OneConnectionTooManyIsTurnedAwayAtOnce) {
  StatusBoard board;
  ApiOptions options;
  options.socket_path = socket_;
  options.max_connections = 2;
  ApiServer server(options, board, ApiHandlers{});
  ASSERT_TRUE(server.start().ok());
  const int a = connect_unix(socket_);
  const int b = connect_unix(socket_);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both accepted
  const std::string third = round_trip(socket_, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(third), 503) << third;
  ::close(a);
  ::close(b);
  std::string answer;
  for (int i = 0; i < 50 && status_of(answer) != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    answer = round_trip(socket_, "GET /healthz HTTP/1.1\r\n\r\n");
  }
  EXPECT_EQ(status_of(answer), 200) << "served again once the others left: " << answer;
}

TEST_F(ApiServerTest, SocketGetsItsModeAndGroupFromTheStart) {
  StatusBoard board;
  ApiOptions options;
  options.socket_path = socket_;
  options.socket_mode = 0600;
  options.socket_group = "4242";  // a number needs no /etc/group entry
  ApiServer server(options, board, ApiHandlers{});
  auto started = server.start();
  if (::geteuid() != 0) {
    // Only root may give a file to a group it is not in.
    ASSERT_FALSE(started.ok());
    EXPECT_NE(started.error().message.find("group 4242"), std::string::npos);
    GTEST_SKIP() << "not root: the socket's group cannot be set";
  }
  ASSERT_TRUE(started.ok()) << started.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_gid, 4242u);
}

TEST_F(ApiServerTest, AnUnknownGroupIsAClearError) {
  StatusBoard board;
  ApiOptions options;
  options.socket_path = socket_;
  options.socket_group = "no-such-group-kna";
  ApiServer server(options, board, ApiHandlers{});
  auto started = server.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("there is no group no-such-group-kna"), std::string::npos)
      << started.error().message;
  EXPECT_FALSE(fs::exists(socket_)) << "no socket is left behind";
}

TEST_F(ApiServerTest, RestartGoesToTheHandlerWithThePeer) {
  StatusBoard board;
  std::string asked;
  ApiHandlers handlers;
  handlers.restart = [&](const std::string& stage, const Peer& peer) {
    asked = stage + " by uid " + std::to_string(peer.uid) + " pid " + std::to_string(peer.pid);
    return text_response(202, "restarting " + stage);
  };
  ApiServer server(ApiOptions{socket_, 0660, "", "", 32, Millis(5000), Millis(5000)}, board,
                   handlers);
  ASSERT_TRUE(server.start().ok());
  auto said = post_to_agent(socket_, "/v1/stages/kubelet/restart", Millis(2000));
  ASSERT_TRUE(said.ok()) << said.error().message;
  EXPECT_EQ(said.value(), "restarting kubelet\n");
  EXPECT_EQ(asked,
            "kubelet by uid " + std::to_string(::geteuid()) + " pid " + std::to_string(::getpid()));
}

// As root: a client running as nobody on a socket open to everyone (0666) reads the status but
// is refused the node's verbs with 403 and the reason.
TEST_F(ApiServerTest, NobodyMayReadTheStatusButNotRestartOrReadLogs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another user";
  StatusBoard board;
  board.publish(report(StageState::ready));
  bool restarted = false;
  ApiHandlers handlers;
  handlers.restart = [&](const std::string&, const Peer&) {
    restarted = true;
    return text_response(202, "restarting");
  };
  handlers.log_source = [&](const std::string&) -> Result<LogSource> {
    return LogSource{LogFile{dir_ + "/x.log"}};
  };
  ApiServer server(ApiOptions{socket_, 0666, "", "", 32, Millis(5000), Millis(5000)}, board,
                   handlers);
  ASSERT_TRUE(server.start().ok());
  ::chmod(dir_.c_str(), 0755);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(2);
    std::string out;
    for (const char* request :
         {"GET /v1/status HTTP/1.1\r\n\r\n", "POST /v1/stages/kubelet/restart HTTP/1.1\r\n\r\n",
          "GET /v1/stages/kubelet/logs HTTP/1.1\r\n\r\n"})
      out += std::to_string(status_of(round_trip(socket_, request))) + " ";
    out += round_trip(socket_, "POST /v1/stages/kubelet/restart HTTP/1.1\r\n\r\n");
    (void)!::write(pipefd[1], out.data(), out.size());
    _exit(0);
  }
  ::close(pipefd[1]);
  std::string out = read_answer(pipefd[0], std::chrono::milliseconds(10000));
  ::close(pipefd[0]);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << out;
  EXPECT_TRUE(out.starts_with("200 403 403 ")) << out;
  EXPECT_NE(out.find("uid 65534 is not root"), std::string::npos) << out;
  EXPECT_FALSE(restarted);
}

TEST_F(ApiServerTest, LogsShowTheTailThenFollowUntilStop) {
  const std::string log = dir_ + "/kubelet.log";
  { std::ofstream(log) << "one\ntwo\nthree\n"; }
  StatusBoard board;
  ApiHandlers handlers;
  handlers.log_source = [&](const std::string& stage) -> Result<LogSource> {
    if (stage != "kubelet") return Error{"this agent runs no stage \"" + stage + "\""};
    return LogSource{LogFile{log}};
  };
  auto server = std::make_unique<ApiServer>(
      ApiOptions{socket_, 0660, "", "", 32, Millis(5000), Millis(5000)}, board, handlers);
  ASSERT_TRUE(server->start().ok());

  std::string tail;
  ASSERT_TRUE(stream_from_agent(socket_, "/v1/stages/kubelet/logs?tail=2", Millis(2000),
                                [&](std::string_view d) {
                                  tail += d;
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(tail, "two\nthree\n");

  auto missing = stream_from_agent(socket_, "/v1/stages/etcd/logs", Millis(2000),
                                   [](std::string_view) { return true; });
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("no stage \"etcd\""), std::string::npos);
  EXPECT_EQ(status_of(round_trip(socket_, "GET /v1/stages/kubelet/logs?tail=x HTTP/1.1\r\n\r\n")),
            400);

  const int fd = connect_unix(socket_);
  const std::string request = "GET /v1/stages/kubelet/logs?tail=1&follow=1 HTTP/1.1\r\n\r\n";
  ASSERT_GT(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), 0);
  std::string followed = read_answer(fd, std::chrono::milliseconds(3000), "three\n");
  EXPECT_EQ(status_of(followed), 200) << followed;
  EXPECT_TRUE(followed.ends_with("\r\n\r\nthree\n")) << followed;
  { std::ofstream(log, std::ios::app) << "four\n"; }
  followed = read_answer(fd, std::chrono::milliseconds(3000), "four\n");
  EXPECT_EQ(followed, "four\n");
  { std::ofstream(log, std::ios::trunc) << "five\n"; }  // rotated: truncated, written again
  followed = read_answer(fd, std::chrono::milliseconds(3000), "five\n");
  EXPECT_EQ(followed, "five\n");

  const auto t0 = std::chrono::steady_clock::now();
  server.reset();  // stopping ends the followed log
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(read_answer(fd, std::chrono::milliseconds(2000)), "") << "closed";
  ::close(fd);
}

TEST_F(ApiServerTest, MetricsOverTcpServeMetricsOnly) {
  // A free port, found by binding port 0 and letting it go.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(probe);

  StatusBoard board;
  ApiOptions options;
  options.socket_path = socket_;
  options.metrics_address = "127.0.0.1:" + std::to_string(port);
  ApiServer server(options, board, ApiHandlers{[] { return std::string("kna_up 1\n"); }, {}, {}});
  auto started = server.start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto get = [&](const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::string();
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out = read_answer(fd, std::chrono::milliseconds(3000));
    ::close(fd);
    return out;
  };
  const std::string metrics = get("/metrics");
  EXPECT_EQ(status_of(metrics), 200) << metrics;
  EXPECT_TRUE(metrics.ends_with("kna_up 1\n")) << metrics;
  const std::string status = get("/v1/status");
  EXPECT_EQ(status_of(status), 404) << status;
  EXPECT_NE(status.find("control API is on the unix socket"), std::string::npos);
  EXPECT_EQ(status_of(get("/v1/stages/kubelet/logs")), 404);

  ApiOptions taken = options;
  taken.socket_path = dir_ + "/other.sock";
  ApiServer second(taken, board, ApiHandlers{});
  auto refused = second.start();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("metrics.address"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(fs::exists(taken.socket_path)) << "nothing is left behind";
}

}  // namespace
}  // namespace kna::api
