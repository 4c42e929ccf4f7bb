#include "clients/docker_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "docker_fake_daemon.hpp"

namespace kna {
namespace {

using nlohmann::json;
using Kind = DockerError::Kind;

void answer_ping(httplib::Server& s, const std::string& api_version) {
  s.Get("/_ping", [api_version](const httplib::Request&, httplib::Response& res) {
    if (!api_version.empty()) res.set_header("API-Version", api_version);
    res.set_content("OK", "text/plain");
  });
}

void answer_inspect(httplib::Server& s) {
  s.Get(R"(/v[0-9.]+/containers/([^/]+)/json)",
        [](const httplib::Request& req, httplib::Response& res) {
          json j = {{"Id", req.matches[1].str()},
                    {"Name", "/c"},
                    {"State", {{"Running", true}, {"Pid", 4242}, {"Status", "running"}}}};
          res.set_content(j.dump(), "application/json");
        });
}

DockerClient client_for(const test::FakeDockerDaemon& d, Millis read_timeout = Millis{5'000}) {
  return DockerClient(DockerClientOptions{d.socket(), Millis{2'000}, read_timeout, "1.41"});
}

template <typename F>
DockerError error_of(F&& f) {
  try {
    f();
  } catch (const DockerError& e) {
    return e;
  }
  ADD_FAILURE() << "no DockerError thrown";
  return DockerError(Kind::bad_response, "none");
}

TEST(DockerClient, UsesTheDaemonsOlderApiVersionFromPing) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.40");
  answer_inspect(d.server());
  d.start();
  auto c = client_for(d);
  auto info = c.inspect_container("abc");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state.pid, 4242);
  EXPECT_EQ(c.api_version(), "1.40");
  EXPECT_EQ(d.paths(), (std::vector<std::string>{"/_ping", "/v1.40/containers/abc/json"}));
}

TEST(DockerClient, CapsANewerDaemonAtOurApiVersion) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.43");
  answer_inspect(d.server());
  d.start();
  auto c = client_for(d);
  ASSERT_TRUE(c.inspect_container("abc"));
  EXPECT_EQ(d.paths().back(), "/v1.41/containers/abc/json");
}

TEST(DockerClient, FallsBackToVersionWhenPingHasNoHeader) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "");
  d.server().Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"Version":"1.13.1","ApiVersion":"1.26","MinAPIVersion":"1.12"})",
                    "application/json");
  });
  answer_inspect(d.server());
  d.start();
  auto c = client_for(d);
  ASSERT_TRUE(c.inspect_container("abc"));
  EXPECT_EQ(d.paths(),
            (std::vector<std::string>{"/_ping", "/version", "/v1.26/containers/abc/json"}));
}

TEST(DockerClient, NegotiatesOnceAndSendsHostLocalhost) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  answer_inspect(d.server());
  d.start();
  auto c = client_for(d);
  c.inspect_container("a");
  c.inspect_container("b");
  EXPECT_EQ(d.paths(), (std::vector<std::string>{"/_ping", "/v1.41/containers/a/json",
                                                 "/v1.41/containers/b/json"}));
  for (const auto& s : d.seen()) EXPECT_EQ(s.host, "localhost");
}

TEST(DockerClient, DaemonErrorsBecomeTypedErrorsWithTheDaemonsMessage) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  d.server().Get(R"(/v1.41/containers/([^/]+)/json)",
                 [](const httplib::Request&, httplib::Response& res) {
                   res.status = 404;
                   res.set_content(R"({"message":"No such container: gone"})", "application/json");
                 });
  d.server().Post("/v1.41/containers/create", [](const httplib::Request&, httplib::Response& res) {
    res.status = 409;
    res.set_content(R"({"message":"Conflict. The container name \"/x\" is already in use"})",
                    "application/json");
  });
  d.server().Post(
      R"(/v1.41/containers/([^/]+)/start)", [](const httplib::Request&, httplib::Response& res) {
        res.status = 500;
        res.set_content(R"({"message":"OCI runtime create failed"})", "application/json");
      });
  d.server().Get("/v1.41/containers/json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("this is not json", "text/plain");
  });
  d.start();
  auto c = client_for(d);

  EXPECT_EQ(c.inspect_container("gone"), std::nullopt);

  ContainerSpec spec;
  spec.name = "x";
  spec.image = "busybox";
  auto conflict = error_of([&] { c.create_container(spec); });
  EXPECT_EQ(conflict.kind(), Kind::conflict);
  EXPECT_EQ(conflict.daemon_message(), "Conflict. The container name \"/x\" is already in use");
  EXPECT_EQ(conflict.http_status(), 409);

  auto failed = error_of([&] { c.start_container("abc"); });
  EXPECT_EQ(failed.kind(), Kind::daemon_error);
  EXPECT_STREQ(failed.what(), "start container abc: OCI runtime create failed");

  EXPECT_EQ(error_of([&] { c.list_containers({}); }).kind(), Kind::bad_response);
}

TEST(DockerClient, AnAbsentSocketIsUnavailable) {
  auto c = DockerClient(DockerClientOptions{"/tmp/kna-no-such-dir/d.sock"});
  auto e = error_of([&] { c.ping(); });
  EXPECT_EQ(e.kind(), Kind::unavailable);
  EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
}

// A unix socket bound to `path` (nobody accepts on it): the fd, or -1.
int bound_unix_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(DockerClient, ASocketWithoutAListenerIsUnavailable) {
  test::FakeDockerDaemon d;  // for its folder only
  const int fd = bound_unix_socket(d.socket());
  ASSERT_GE(fd, 0);
  ::close(fd);  // the socket file stays, nobody listens: connection refused
  auto c = client_for(d);
  auto e = error_of([&] { c.ping(); });
  EXPECT_EQ(e.kind(), Kind::unavailable);
  EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
}

TEST(DockerClient, AHungDaemonTimesOut) {
  test::FakeDockerDaemon d;  // for its folder only
  const int fd = bound_unix_socket(d.socket());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 4), 0);  // accepted by the kernel, never answered
  auto c = client_for(d, Millis{300});
  auto e = error_of([&] { c.ping(); });
  ::close(fd);
  EXPECT_EQ(e.kind(), Kind::timeout);
  EXPECT_NE(std::string(e.what()).find("did not answer within 300ms"), std::string::npos)
      << e.what();
}

TEST(DockerClient, ListSendsTheLabelFilterAndParsesSummaries) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  d.server().Get("/v1.41/containers/json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        R"([{"Id":"a1","Names":["/kube_etcd_1"],"Image":"etcd","State":"running","Status":"Up",)"
        R"("Labels":{"io.kube-node-agent.stage":"etcd"}}])",
        "application/json");
  });
  d.start();
  auto c = client_for(d);
  auto list = c.list_containers({{"io.kube-node-agent.stage", "etcd"}});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].names, std::vector<std::string>{"kube_etcd_1"});
  EXPECT_EQ(list[0].labels.at("io.kube-node-agent.stage"), "etcd");
  auto seen = d.seen().back();
  // httplib decodes the query: the daemon gets the JSON back intact.
  EXPECT_EQ(json::parse(seen.params.find("filters")->second),
            json::parse(R"({"label":["io.kube-node-agent.stage=etcd"]})"));
  EXPECT_EQ(seen.params.find("all")->second, "1");
}

TEST(DockerClient, CreateSendsTheNameAndTheSpecsBody) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  std::string body;
  d.server().Post(
      "/v1.41/containers/create", [&](const httplib::Request& req, httplib::Response& res) {
        body = req.body;
        res.status = 201;
        res.set_content(R"({"Id":"0123456789abcdef","Warnings":[]})", "application/json");
      });
  d.start();
  auto c = client_for(d);
  ContainerSpec spec;
  spec.name = "kube_etcd_3f2a1";
  spec.image = "etcd:3";
  spec.cmd = {"etcd"};
  EXPECT_EQ(c.create_container(spec), "0123456789abcdef");
  EXPECT_EQ(d.seen().back().params.find("name")->second, "kube_etcd_3f2a1");
  EXPECT_EQ(json::parse(body)["Cmd"], json::parse(R"(["etcd"])"));
}

TEST(DockerClient, StopPassesTheTimeoutInSeconds) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  d.server().Post(R"(/v1.41/containers/([^/]+)/stop)",
                  [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  d.start();
  auto c = client_for(d);
  c.stop_container("abc", std::chrono::seconds(7));
  auto seen = d.seen().back();
  EXPECT_EQ(seen.path, "/v1.41/containers/abc/stop");
  EXPECT_EQ(seen.params.find("t")->second, "7");
}

TEST(DockerClient, PullReportsProgressAndFailsOnAnErrorInsideTheStream) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  d.server().Post("/v1.41/images/create", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "{\"status\":\"Pulling from x\"}\n"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5,\"total\":10},\"id\":\"l1\"}"
        "\n"
        "{\"errorDetail\":{\"message\":\"unauthorized\"},\"error\":\"unauthorized\"}\n",
        "application/json");
  });
  d.start();
  auto c = client_for(d);
  std::vector<PullProgress> progress;
  auto e = error_of([&] {
    c.pull_image("gcr.io/x/etcd:2.2.5", [&](const PullProgress& p) { progress.push_back(p); });
  });
  EXPECT_EQ(e.kind(), Kind::daemon_error);
  EXPECT_EQ(e.daemon_message(), "unauthorized");
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1].current, 5);
  auto seen = d.seen().back();
  EXPECT_EQ(seen.params.find("fromImage")->second, "gcr.io/x/etcd");
  EXPECT_EQ(seen.params.find("tag")->second, "2.2.5");
}

TEST(DockerClient, StopFromAnotherThreadEndsAnIdleEventStream) {
  test::FakeDockerDaemon d;
  answer_ping(d.server(), "1.41");
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  d.server().Get("/v1.41/events", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink&) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return release; });
      return !release;  // idle: no event ever
    });
  });
  d.start();
  auto c = client_for(d);
  std::promise<void> opened;
  auto stream = std::async(std::launch::async, [&] {
    c.stream_events(
        "", [&] { opened.set_value(); }, [](std::string_view) { return true; });
  });
  ASSERT_EQ(opened.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  c.stop();
  ASSERT_EQ(stream.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto e = error_of([&] { stream.get(); });
  EXPECT_EQ(e.kind(), Kind::unavailable);
  EXPECT_EQ(error_of([&] { c.ping(); }).kind(), Kind::unavailable);  // stopped for good
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
}

}  // namespace
}  // namespace kna
