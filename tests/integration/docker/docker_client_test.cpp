// DockerClient and DockerEvents against a real, private dockerd.
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "clients/docker_client.hpp"
#include "clients/docker_events.hpp"
#include "docker_daemon.hpp"
#include "kna/catalogue.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using test::kBusyboxImage;
namespace fs = std::filesystem;

class DockerClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::PrivateDockerd::skip_reason()) GTEST_SKIP() << *why;
    daemon_ = std::make_unique<test::PrivateDockerd>();
    ASSERT_TRUE(daemon_->start()) << daemon_->log_tail();
    std::string out;
    ASSERT_TRUE(daemon_->import_busybox(kBusyboxImage, &out)) << out;
    client_ = std::make_unique<DockerClient>(DockerClientOptions{daemon_->socket()});
  }
  void TearDown() override {
    client_.reset();
    daemon_.reset();
  }

  ContainerSpec spec(const std::string& name, std::vector<std::string> cmd,
                     std::map<std::string, std::string> labels = {}) {
    ContainerSpec c;
    c.docker_socket = daemon_->socket();
    c.name = name;
    c.image = kBusyboxImage;
    c.cmd = std::move(cmd);
    c.network_mode = "host";
    c.labels = std::move(labels);
    c.labels[kLabelAgent] = "true";
    return c;
  }

  std::unique_ptr<test::PrivateDockerd> daemon_;
  std::unique_ptr<DockerClient> client_;
};

TEST_F(DockerClientIT, NegotiatesTheDaemonsApiVersion) {
  EXPECT_EQ(client_->api_version(), "1.41");
  EXPECT_NO_THROW(client_->ping());
  auto v = client_->version();
  EXPECT_EQ(v.api_version, "1.41");
  EXPECT_FALSE(v.version.empty());
}

TEST_F(DockerClientIT, CreatesStartsInspectsStopsAndRemovesAContainer) {
  auto c = spec("kna_it_lifecycle", {"sleep", "1000"});
  c.env = {{"HELLO", "world"}};
  c.mounts = {Mount{daemon_->dir(), "/host", true, ""}};
  const std::string id = client_->create_container(c);
  ASSERT_EQ(id.size(), 64u);

  auto created = client_->inspect_container(id);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->name, "kna_it_lifecycle");
  EXPECT_EQ(created->state.status, "created");
  EXPECT_EQ(created->labels.at(kLabelAgent), "true");

  client_->start_container(id);
  client_->start_container(id);  // already running is fine
  auto running = client_->inspect_container("kna_it_lifecycle");
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->state.running);
  EXPECT_GT(running->state.pid, 0);
  EXPECT_TRUE(fs::exists("/proc/" + std::to_string(running->state.pid)));

  // sleep as PID 1 ignores SIGTERM: docker stop kills it when the timeout runs out.
  client_->stop_container(id, 1s);
  auto stopped = client_->inspect_container(id);
  ASSERT_TRUE(stopped);
  EXPECT_FALSE(stopped->state.running);
  EXPECT_EQ(stopped->state.exit_code, 137);
  EXPECT_NO_THROW(client_->stop_container(id, 1s));  // already stopped is fine

  client_->remove_container(id);
  EXPECT_EQ(client_->inspect_container(id), std::nullopt);
  EXPECT_NO_THROW(client_->remove_container(id));  // already gone is fine
}

TEST_F(DockerClientIT, TakenNameIsAConflictAndMissingImageIsNotFound) {
  client_->create_container(spec("kna_it_taken", {"true"}));
  try {
    client_->create_container(spec("kna_it_taken", {"true"}));
    FAIL() << "a second container with the same name was created";
  } catch (const DockerError& e) {
    EXPECT_EQ(e.kind(), DockerError::Kind::conflict) << e.what();
    EXPECT_NE(e.daemon_message().find("already in use"), std::string::npos) << e.what();
  }
  auto missing = spec("kna_it_noimage", {"true"});
  missing.image = "kna-test/absent:1";
  try {
    client_->create_container(missing);
    FAIL() << "created from a missing image";
  } catch (const DockerError& e) {
    EXPECT_EQ(e.kind(), DockerError::Kind::not_found) << e.what();
  }
}

TEST_F(DockerClientIT, ListsOnlyContainersCarryingTheLabels) {
  const auto a = client_->create_container(spec("kna_it_a", {"true"}, {{kLabelStage, "etcd"}}));
  const auto b = client_->create_container(spec("kna_it_b", {"true"}, {{kLabelStage, "flannel"}}));
  auto etcd = client_->list_containers({{kLabelAgent, "true"}, {kLabelStage, "etcd"}});
  ASSERT_EQ(etcd.size(), 1u);
  EXPECT_EQ(etcd[0].id, a);
  EXPECT_EQ(etcd[0].names, std::vector<std::string>{"kna_it_a"});
  EXPECT_EQ(etcd[0].state, "created");
  EXPECT_EQ(client_->list_containers({{kLabelAgent, "true"}}).size(), 2u);
  EXPECT_TRUE(client_->list_containers({{kLabelStage, "kubelet"}}).empty());
  (void)b;
}

TEST_F(DockerClientIT, LogsReturnTheLastLinesOfBothStreams) {
  const auto id = client_->create_container(spec(
      "kna_it_logs", {"sh", "-c", "echo one; echo two; echo oops >&2; sleep 0.2; echo three"}));
  client_->start_container(id);
  ASSERT_TRUE(test::poll_until([&] { return !client_->inspect_container(id)->state.running; }));
  EXPECT_EQ(client_->container_logs(id, 1), "three\n");
  const std::string all = client_->container_logs(id, 100);
  EXPECT_EQ(all.size(), std::string("one\ntwo\noops\nthree\n").size()) << all;
  // Each stream keeps its order; the daemon decides between the two.
  EXPECT_LT(all.find("one\n"), all.find("two\n")) << all;
  EXPECT_LT(all.find("two\n"), all.find("three\n")) << all;
  EXPECT_NE(all.find("oops\n"), std::string::npos) << all;
}

TEST_F(DockerClientIT, LoadsASavedImageAndFailsClearlyToPullFromNowhere) {
  ASSERT_EQ(daemon_->docker({"tag", kBusyboxImage, "kna-test/saved:1"}), 0);
  const std::string tar = daemon_->dir() + "/saved.tar";
  ASSERT_EQ(daemon_->docker({"save", "-o", tar, "kna-test/saved:1"}), 0);
  ASSERT_EQ(daemon_->docker({"rmi", "kna-test/saved:1"}), 0);
  EXPECT_EQ(client_->inspect_image("kna-test/saved:1"), std::nullopt);

  EXPECT_EQ(client_->load_image(tar), std::vector<std::string>{"kna-test/saved:1"});
  auto image = client_->inspect_image("kna-test/saved:1");
  ASSERT_TRUE(image);
  EXPECT_NE(std::find(image->repo_tags.begin(), image->repo_tags.end(), "kna-test/saved:1"),
            image->repo_tags.end());

  try {
    client_->pull_image("127.0.0.1:1/kna-test/nothing:1");
    FAIL() << "pulled from a closed port";
  } catch (const DockerError& e) {
    EXPECT_NE(e.daemon_message().find("connection refused"), std::string::npos) << e.what();
  }
}

// What a DockerEvents watcher reported, observed from the test thread.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DockerEvent> events;
  std::vector<bool> resyncs;
  int disconnects{0};

  DockerEvents::Callbacks callbacks() {
    return {[this](const DockerEvent& e) { note([&] { events.push_back(e); }); },
            [this](bool first) { note([&] { resyncs.push_back(first); }); },
            [this](const std::string&) { note([&] { ++disconnects; }); }};
  }
  template <typename F>
  void note(F&& f) {
    std::lock_guard lock(mu);
    f();
    cv.notify_all();
  }
  template <typename P>
  bool wait(P pred, std::chrono::seconds limit = 60s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, pred);
  }
  std::optional<DockerEvent> die_of(const std::string& id) {
    for (const auto& e : events) {
      if (e.action == "die" && e.id == id) return e;
    }
    return std::nullopt;
  }
};

TEST_F(DockerClientIT, EventsDeliverDieWithTheExitCodeForOurContainersOnly) {
  Seen seen;
  DockerEvents watcher(DockerEventsOptions{daemon_->socket()}, seen.callbacks());
  watcher.start();
  ASSERT_TRUE(seen.wait([&] { return !seen.resyncs.empty(); }));

  auto foreign = spec("kna_it_foreign", {"sh", "-c", "exit 5"});
  foreign.labels.clear();  // not ours: filtered out by the daemon
  const auto other = client_->create_container(foreign);
  client_->start_container(other);
  const auto id = client_->create_container(spec("kna_it_exit7", {"sh", "-c", "exit 7"}));
  client_->start_container(id);

  ASSERT_TRUE(seen.wait([&] { return seen.die_of(id).has_value(); }));
  auto die = *seen.die_of(id);
  EXPECT_EQ(die.exit_code(), 7);
  EXPECT_EQ(die.attributes.at("name"), "kna_it_exit7");
  EXPECT_EQ(die.attributes.at(kLabelAgent), "true");
  EXPECT_FALSE(seen.die_of(other));
  bool started = false;
  for (const auto& e : seen.events) started |= e.action == "start" && e.id == id;
  EXPECT_TRUE(started);
  watcher.stop();
}

TEST_F(DockerClientIT, EventsWatcherSurvivesADockerdRestartAndResyncs) {
  Seen seen;
  DockerEventsOptions options{daemon_->socket()};
  options.reconnect_cap = 200ms;
  DockerEvents watcher(options, seen.callbacks());
  watcher.start();
  ASSERT_TRUE(seen.wait([&] { return seen.resyncs.size() == 1; }));

  daemon_->stop();
  ASSERT_TRUE(seen.wait([&] { return seen.disconnects == 1; }));
  EXPECT_FALSE(watcher.connected());
  ASSERT_TRUE(daemon_->start()) << daemon_->log_tail();
  ASSERT_TRUE(seen.wait([&] { return seen.resyncs.size() == 2; }));
  EXPECT_EQ(seen.resyncs, (std::vector<bool>{true, false}));
  EXPECT_TRUE(watcher.connected());

  // Still delivering after the restart.
  DockerClient client(DockerClientOptions{daemon_->socket()});
  const auto id = client.create_container(spec("kna_it_after", {"sh", "-c", "exit 4"}));
  client.start_container(id);
  ASSERT_TRUE(seen.wait([&] { return seen.die_of(id).has_value(); }));
  EXPECT_EQ(seen.die_of(id)->exit_code(), 4);
  watcher.stop();
}

}  // namespace
}  // namespace kna
