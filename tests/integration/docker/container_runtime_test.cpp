// ContainerRuntime against a real, private dockerd, on a real event loop run by the test thread.
#include "runtime/container_runtime.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>

#include "clients/docker_client.hpp"
#include "docker_daemon.hpp"
#include "kna/catalogue.hpp"
#include "runtime/asio_dispatcher.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using Cause = ExitStatus::Cause;
using test::kBusyboxImage;
using test::LogCapture;
namespace fs = std::filesystem;

// One launch's outcome, as the supervisor would see it.
struct Launch {
  std::unique_ptr<Workload> workload;
  std::optional<Error> error;
  std::optional<ExitStatus> exit;
  int exits{0};
  bool done() const { return workload || error; }
};

class ContainerRuntimeIT : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::PrivateDockerd::skip_reason()) GTEST_SKIP() << *why;
    daemon_ = std::make_unique<test::PrivateDockerd>();
    ASSERT_TRUE(daemon_->start()) << daemon_->log_tail();
    std::string out;
    ASSERT_TRUE(daemon_->import_busybox(kBusyboxImage, &out)) << out;
    image_dir_ = daemon_->dir() + "/images";
    fs::create_directories(image_dir_);
    client_ = std::make_unique<DockerClient>(DockerClientOptions{daemon_->socket()});
    runtime_ = make_runtime();
  }
  void TearDown() override {
    runtime_.reset();
    client_.reset();
    daemon_.reset();
  }

  std::unique_ptr<ContainerRuntime> make_runtime() {
    ContainerRuntimeOptions options;
    options.image_dir = image_dir_;
    options.events_reconnect_cap = 200ms;
    return std::make_unique<ContainerRuntime>(dispatcher_, options);
  }

  StageSpec stage(std::vector<std::string> cmd, const std::string& image = kBusyboxImage) {
    ContainerSpec c;
    c.docker_socket = daemon_->socket();
    c.name = "kna_it_etcd";
    c.image = image;
    c.cmd = std::move(cmd);
    c.network_mode = "host";
    c.labels[kLabelNode] = "node-1";
    StageSpec s;
    s.name = "etcd";
    s.launch = c;
    return s;
  }

  std::shared_ptr<Launch> launch(ContainerRuntime& rt, const StageSpec& spec) {
    auto l = std::make_shared<Launch>();
    rt.launch(
        spec,
        [l](Result<std::unique_ptr<Workload>> r) {
          if (r) {
            l->workload = std::move(r.value());
          } else {
            l->error = r.error();
          }
        },
        [l](const ExitStatus& s) {
          l->exit = s;
          ++l->exits;
        });
    return l;
  }

  // Launches and waits for the outcome.
  std::shared_ptr<Launch> launched(ContainerRuntime& rt, const StageSpec& spec) {
    auto l = launch(rt, spec);
    EXPECT_TRUE(test::run_until(io_, [&] { return l->done(); })) << "launch never finished";
    return l;
  }

  std::string full_id(const Workload& w) {
    const std::string short_id = w.id().substr(std::string("container ").size());
    auto info = client_->inspect_container(short_id);
    return info ? info->id : std::string();
  }

  std::vector<ContainerSummary> ours() {
    return client_->list_containers({{kLabelAgent, "true"}, {kLabelStage, "etcd"}});
  }

  // Declared first, destroyed last: the runtime posts to the loop until it is gone.
  boost::asio::io_context io_;
  AsioDispatcher dispatcher_{io_};
  std::unique_ptr<test::PrivateDockerd> daemon_;
  std::string image_dir_;
  std::unique_ptr<DockerClient> client_;
  std::unique_ptr<ContainerRuntime> runtime_;
};

TEST_F(ContainerRuntimeIT, LaunchRunsTheContainerAndDockerKillReportsItsExit) {
  auto l = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(l->workload) << l->error->message;
  EXPECT_EQ(l->workload->id().rfind("container ", 0), 0u);
  EXPECT_EQ(l->workload->id().size(), std::string("container ").size() + 12);
  ASSERT_TRUE(l->workload->pid());
  EXPECT_TRUE(fs::exists("/proc/" + std::to_string(*l->workload->pid())));

  auto info = client_->inspect_container("kna_it_etcd");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->state.running);
  EXPECT_EQ(info->labels.at(kLabelAgent), "true");
  EXPECT_EQ(info->labels.at(kLabelStage), "etcd");
  EXPECT_EQ(info->labels.at(kLabelNode), "node-1");
  EXPECT_FALSE(info->labels.at(kLabelSpecHash).empty());
  EXPECT_EQ(runtime_->tracked(), 1u);

  client_->kill_container(info->id);
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_EQ(l->exit->cause, Cause::exited);
  EXPECT_TRUE(l->exit->signaled);
  EXPECT_EQ(l->exit->code, SIGKILL);
  EXPECT_EQ(runtime_->tracked(), 0u);
  test::run_until(
      io_, [] { return false; }, 300ms);  // a late duplicate would show here
  EXPECT_EQ(l->exits, 1);
}

TEST_F(ContainerRuntimeIT, AContainerThatExitsAtOnceIsReported) {
  auto l = launched(*runtime_, stage({"sh", "-c", "exit 3"}));
  ASSERT_TRUE(l->workload) << l->error->message;
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_EQ(l->exit->cause, Cause::exited);
  EXPECT_FALSE(l->exit->signaled);
  EXPECT_EQ(l->exit->code, 3);
  EXPECT_EQ(l->exits, 1);
}

TEST_F(ContainerRuntimeIT, AdoptsARunningContainerWithTheSameSpecHash) {
  auto first = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(first->workload) << first->error->message;
  const std::string id = full_id(*first->workload);

  // The agent restarts: the container keeps running and the new runtime finds it.
  runtime_.reset();
  LogCapture log;
  runtime_ = make_runtime();
  auto second = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(second->workload) << second->error->message;
  EXPECT_EQ(second->workload->id(), first->workload->id());
  EXPECT_EQ(second->workload->pid(), first->workload->pid());
  EXPECT_TRUE(log.contains("etcd: adopted container " + id.substr(0, 12))) << log.text();
  auto found = ours();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, id);

  // The adopted container's death still reaches the new owner.
  client_->kill_container(id);
  ASSERT_TRUE(test::run_until(io_, [&] { return second->exit.has_value(); }));
  EXPECT_EQ(second->exit->code, SIGKILL);
}

TEST_F(ContainerRuntimeIT, ReplacesAContainerMadeFromAnotherSpec) {
  auto old = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(old->workload) << old->error->message;
  const std::string old_id = full_id(*old->workload);

  runtime_.reset();
  runtime_ = make_runtime();
  auto changed = stage({"sleep", "2000"});
  std::get<ContainerSpec>(changed.launch).name = "kna_it_etcd_v2";
  changed.stop_timeout = 1s;
  auto fresh = launched(*runtime_, changed);
  ASSERT_TRUE(fresh->workload) << fresh->error->message;
  EXPECT_NE(full_id(*fresh->workload), old_id);
  EXPECT_EQ(client_->inspect_container(old_id), std::nullopt);
  auto found = ours();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].names, std::vector<std::string>{"kna_it_etcd_v2"});
  EXPECT_EQ(found[0].state, "running");
}

TEST_F(ContainerRuntimeIT, RemovesOurStaleContainerHoldingTheNameButNotAForeignOne) {
  // A foreign container with our name: never touched, the launch fails clearly.
  ContainerSpec foreign;
  foreign.name = "kna_it_etcd";
  foreign.image = kBusyboxImage;
  foreign.cmd = {"sleep", "1000"};
  const auto foreign_id = client_->create_container(foreign);
  auto l = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(l->error);
  EXPECT_NE(l->error->message.find("the container name kna_it_etcd is taken by container " +
                                   foreign_id.substr(0, 12) + ", which the agent does not own"),
            std::string::npos)
      << l->error->message;
  EXPECT_TRUE(client_->inspect_container(foreign_id));
  client_->remove_container(foreign_id);

  // Ours (another stage's labels, same name): removed and replaced.
  ContainerSpec stale = foreign;
  stale.labels = {{kLabelAgent, "true"}, {kLabelStage, "old-stage"}};
  const auto stale_id = client_->create_container(stale);
  auto ok = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(ok->workload) << ok->error->message;
  EXPECT_EQ(client_->inspect_container(stale_id), std::nullopt);
}

TEST_F(ContainerRuntimeIT, LoadsAMissingImageFromTheImageFolder) {
  ASSERT_EQ(daemon_->docker({"tag", kBusyboxImage, "kna-test/airgap:1"}), 0);
  ASSERT_EQ(daemon_->docker({"save", "-o", image_dir_ + "/airgap.tar", "kna-test/airgap:1"}), 0);
  ASSERT_EQ(daemon_->docker({"rmi", "kna-test/airgap:1"}), 0);
  ASSERT_FALSE(client_->inspect_image("kna-test/airgap:1"));

  LogCapture log;
  auto l = launched(*runtime_, stage({"sleep", "1000"}, "kna-test/airgap:1"));
  ASSERT_TRUE(l->workload) << l->error->message;
  EXPECT_TRUE(client_->inspect_image("kna-test/airgap:1"));
  EXPECT_TRUE(log.contains("etcd: loaded kna-test/airgap:1 from \"" + image_dir_ + "/airgap.tar\""))
      << log.text();
}

TEST_F(ContainerRuntimeIT, AnImageFoundNowhereIsAClearError) {
  const std::string image = "127.0.0.1:1/kna-test/nothing:1";
  auto l = launched(*runtime_, stage({"true"}, image));
  ASSERT_TRUE(l->error);
  const std::string expected = "image " + image + " is not present, not in " + image_dir_ +
                               "/*.tar and could not be pulled: ";
  EXPECT_EQ(l->error->message.rfind(expected, 0), 0u) << l->error->message;
  EXPECT_NE(l->error->message.find("connection refused"), std::string::npos) << l->error->message;
  EXPECT_TRUE(ours().empty());
}

// A registry that accepts connections and never answers: a pull from it hangs in dockerd.
class HungRegistry {
 public:
  HungRegistry() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;  // shutdown() below
        held_.push_back(c);
        ++connections_;
      }
    });
  }
  ~HungRegistry() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    for (int c : held_) ::close(c);
  }
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  int fd_{-1};
  int port_{0};
  std::thread thread_;
  std::vector<int> held_;  // accept thread only, until joined
  std::atomic<int> connections_{0};
};

// SIGTERM during a pull: the supervisor cancels the launch, which must end at once, not when
// dockerd gives up on the registry.
TEST_F(ContainerRuntimeIT, CancelEndsALaunchWhosePullHangs) {
  HungRegistry registry;
  ASSERT_GT(registry.port(), 0);
  const std::string image = "127.0.0.1:" + std::to_string(registry.port()) + "/kna-test/hung:1";
  auto l = launch(*runtime_, stage({"true"}, image));
  // The registry's accept thread posts nothing to the loop: look at it every 50 ms.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (registry.connections() == 0 && !l->done() && std::chrono::steady_clock::now() < deadline) {
    io_.restart();
    io_.run_for(50ms);
  }
  ASSERT_GT(registry.connections(), 0) << "dockerd never reached the registry";
  ASSERT_FALSE(l->done()) << (l->error ? l->error->message : "launched");
  const auto cancelled_at = std::chrono::steady_clock::now();
  runtime_->cancel("etcd");
  ASSERT_TRUE(test::run_until(
      io_, [&] { return l->done(); }, 5s))
      << "the launch did not end within 5 s of its cancel";
  const auto took = std::chrono::steady_clock::now() - cancelled_at;
  ASSERT_TRUE(l->error);
  EXPECT_EQ(l->error->message.rfind("launch cancelled", 0), 0u) << l->error->message;
  EXPECT_TRUE(ours().empty());
  std::printf("[ figures  ] launch ended %.3f s after its cancel (pull hung in dockerd)\n",
              std::chrono::duration<double>(took).count());
}

TEST_F(ContainerRuntimeIT, StopTerminatesAContainerThatHandlesSigterm) {
  auto l = launched(*runtime_,
                    stage({"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"}));
  ASSERT_TRUE(l->workload) << l->error->message;
  l->workload->stop(10s);
  l->workload->stop(10s);  // idempotent
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_EQ(l->exit->cause, Cause::terminated);
  EXPECT_FALSE(l->exit->signaled);
  EXPECT_EQ(l->exit->code, 0);
  test::run_until(
      io_, [] { return false; }, 300ms);
  EXPECT_EQ(l->exits, 1);
}

TEST_F(ContainerRuntimeIT, StopKillsAContainerThatIgnoresSigtermAfterTheBudget) {
  auto l = launched(*runtime_, stage({"sleep", "1000"}));  // PID 1 ignores SIGTERM
  ASSERT_TRUE(l->workload) << l->error->message;
  const auto start = std::chrono::steady_clock::now();
  l->workload->stop(1s);
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(l->exit->cause, Cause::killed);
  EXPECT_TRUE(l->exit->signaled);
  EXPECT_EQ(l->exit->code, SIGKILL);
}

TEST_F(ContainerRuntimeIT, ADaemonThatDiesReportsItsContainersAsLost) {
  auto l = launched(*runtime_, stage({"sleep", "1000"}));
  ASSERT_TRUE(l->workload) << l->error->message;
  daemon_->stop(SIGKILL);  // no shutdown: no die events, the stream just breaks
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_EQ(l->exit->cause, Cause::lost);
  EXPECT_NE(l->exit->detail.find("docker daemon"), std::string::npos) << l->exit->detail;
}

TEST_F(ContainerRuntimeIT, ADaemonRestartReportsTheContainersItStopped) {
  auto l = launched(*runtime_,
                    stage({"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"}));
  ASSERT_TRUE(l->workload) << l->error->message;
  const std::string id = full_id(*l->workload);
  // dockerd stops its containers when it shuts down: a death we did not ask for.
  daemon_->stop();
  ASSERT_TRUE(daemon_->start()) << daemon_->log_tail();
  ASSERT_TRUE(test::run_until(io_, [&] { return l->exit.has_value(); }));
  EXPECT_NE(l->exit->cause, Cause::terminated);
  auto info = client_->inspect_container(id);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->state.running);
  test::run_until(
      io_, [] { return false; }, 500ms);  // the reconnection's resync comes too
  EXPECT_EQ(l->exits, 1);
}

}  // namespace
}  // namespace kna
