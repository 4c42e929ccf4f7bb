#include "runtime/prober.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <boost/asio/io_context.hpp>

#include "kna/catalogue.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "support/loop_util.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using test::run_until;

// A cpp-httplib server on 127.0.0.1 (port 0) or on a unix socket, serving in its own thread.
class TestServer {
 public:
  explicit TestServer(const std::string& unix_socket = "") {
    server_.Get("/health", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      host_header_ = req.get_header_value("Host");
      res.set_content("{\"health\": \"true\"}", "application/json");
    });
    server_.Get("/broken", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("down", "text/plain");
    });
    server_.Get("/hang", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu_);
      released_cv_.wait(lock, [this] { return released_; });
      res.set_content("late", "text/plain");
    });
    if (unix_socket.empty()) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else {
      std::filesystem::remove(unix_socket);
      server_.set_address_family(AF_UNIX);
      bound_ = server_.bind_to_port(unix_socket, 80);
    }
    // Bound and listening already: connections queue until the accept loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop has started would be lost and the join would hang; httplib
    // has no ready callback, so watch its flag.
    while (bound() && !server_.is_running()) std::this_thread::yield();
  }
  ~TestServer() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  bool bound() const { return port_ > 0 || bound_; }
  std::string host_header() {
    std::lock_guard lock(mu_);
    return host_header_;
  }

 private:
  httplib::Server server_;
  int port_{0};
  bool bound_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_{false};
  std::string host_header_;
};

class ProberTest : public ::testing::Test {
 protected:
  ProbeResult probe(const ProbeSpec& spec) {
    std::optional<ProbeResult> result;
    prober_.check(spec, [&](ProbeResult r) { result = std::move(r); });
    EXPECT_FALSE(result.has_value()) << "done must not run inside check()";
    EXPECT_TRUE(run_until(io_, [&] { return result.has_value(); }));
    return result.value_or(ProbeResult{false, "no result"});
  }
  static ProbeSpec http(const std::string& url) {
    ProbeSpec s;
    s.kind = ProbeKind::http;
    s.url = url;
    s.policy.timeout = 2s;
    return s;
  }
  std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::path(::testing::TempDir()) / (name + "." + std::to_string(::getpid()));
  }

  boost::asio::io_context io_;
  AsioDispatcher dispatcher_{io_};
  RealProber prober_{io_, dispatcher_};
};

TEST_F(ProberTest, NoProbeIsReadyAtOnce) {
  EXPECT_TRUE(probe(ProbeSpec{}).ok);
}

TEST_F(ProberTest, HttpOverTcpIsReadyOn2xx) {
  TestServer server;
  ASSERT_TRUE(server.bound());
  const auto r = probe(http(server.url("/health")));
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(ProberTest, HttpFailsOnAnErrorStatus) {
  TestServer server;
  const auto r = probe(http(server.url("/broken")));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + server.url("/broken") + ": status 503");
}

TEST_F(ProberTest, HttpChecksTheBodyWhenAsked) {
  TestServer server;
  auto spec = http(server.url("/health"));
  spec.body_contains = "true";
  EXPECT_TRUE(probe(spec).ok);
  spec.body_contains = "false";
  const auto r = probe(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("does not contain \"false\""), std::string::npos) << r.detail;
}

TEST_F(ProberTest, HttpFailsWhenNothingListens) {
  std::string url;
  {
    TestServer gone;
    url = gone.url("/health");
  }
  const auto r = probe(http(url));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + url + ": cannot connect");
}

TEST_F(ProberTest, HttpGivesUpAfterTheTimeout) {
  TestServer server;
  auto spec = http(server.url("/hang"));
  spec.policy.timeout = 200ms;
  const auto r = probe(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + server.url("/hang") + ": no complete answer within 200ms");
}

TEST_F(ProberTest, HttpOverAUnixSocketSendsHostLocalhost) {
  const auto socket = temp_path("probe.sock");
  TestServer server(socket);
  ASSERT_TRUE(server.bound());
  auto spec = http("http://localhost/health");
  spec.unix_socket = socket;
  const auto r = probe(spec);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(server.host_header(), "localhost");
  std::filesystem::remove(socket);
}

TEST_F(ProberTest, HttpRejectsAnUnusableUrl) {
  const auto r = probe(http("ftp://127.0.0.1/x"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("scheme must be http or https"), std::string::npos) << r.detail;
}

TEST_F(ProberTest, FileProbeWantsTheFileToExist) {
  const auto path = temp_path("ready-file");
  std::filesystem::remove(path);
  ProbeSpec spec;
  spec.kind = ProbeKind::file;
  spec.path = path;
  const auto missing = probe(spec);
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.detail, path.string() + ": No such file or directory");
  std::ofstream(path) << "";
  EXPECT_TRUE(probe(spec).ok);
  std::filesystem::remove(path);
}

TEST_F(ProberTest, SubnetEnvProbeAcceptsAValidFile) {
  const auto path = temp_path("subnet.env");
  std::ofstream(path) << "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.33.1/24\n"
                         "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
  ProbeSpec spec;
  spec.kind = ProbeKind::file;
  spec.path = path;
  spec.parse_subnet_env = true;
  const auto r = probe(spec);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_NE(r.detail.find("10.1.33.1/24"), std::string::npos) << r.detail;
  std::filesystem::remove(path);
}

TEST_F(ProberTest, SubnetEnvProbeCarriesTheParseError) {
  const auto path = temp_path("bad-subnet.env");
  std::ofstream(path) << "FLANNEL_NETWORK=10.1.0.0/16\n";  // the other three keys are missing
  ProbeSpec spec;
  spec.kind = ProbeKind::file;
  spec.path = path;
  spec.parse_subnet_env = true;
  const auto r = probe(spec);
  EXPECT_FALSE(r.ok);
  const auto parse = parse_subnet_env("FLANNEL_NETWORK=10.1.0.0/16\n");
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(r.detail, path.string() + ": " + parse.error().message);
  std::filesystem::remove(path);
}

TEST_F(ProberTest, CommandProbePassesOnExitZero) {
  ProbeSpec spec;
  spec.kind = ProbeKind::command;
  spec.argv = {KNA_TEST_CHILD, "--exit-code", "0"};
  const auto r = probe(spec);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(ProberTest, CommandProbeFailsWithTheExitCodeAndLastOutput) {
  ProbeSpec spec;
  spec.kind = ProbeKind::command;
  spec.argv = {KNA_TEST_CHILD, "--print-stderr-lines", "1", "--exit-code", "3"};
  const auto r = probe(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("exit code 3: err 1"), std::string::npos) << r.detail;
}

TEST_F(ProberTest, CommandProbeIsKilledAtItsTimeout) {
  ProbeSpec spec;
  spec.kind = ProbeKind::command;
  spec.argv = {KNA_TEST_CHILD, "--ignore-sigterm"};
  spec.policy.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const auto r = probe(spec);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("did not finish within 200ms"), std::string::npos) << r.detail;
}

TEST_F(ProberTest, CommandProbeWithAMissingProgramFails) {
  ProbeSpec spec;
  spec.kind = ProbeKind::command;
  spec.argv = {"kna-no-such-program", "--version"};
  const auto r = probe(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("executable \"kna-no-such-program\" not found in PATH"),
            std::string::npos)
      << r.detail;
}

}  // namespace
}  // namespace kna
