// ContainerRuntime against a scripted fake dockerd: the event-stream cases a real daemon cannot be
// made to produce on demand (a lost stream while the daemon lives, a late event of an earlier run).
#include "runtime/container_runtime.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "clients/docker_json.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "support/loop_util.hpp"
#include "unit/clients/docker_fake_daemon.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Cause = ExitStatus::Cause;

constexpr const char* kStartedAt = "2026-01-01T00:00:10Z";
const std::int64_t kStartedNano = *docker::parse_rfc3339_nanos(kStartedAt);

// Just enough of the Engine API for one container, plus an event stream the test feeds and cuts.
class FakeEngine {
 public:
  FakeEngine() {
    auto& s = daemon_.server();
    s.Get("/_ping", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("API-Version", "1.41");
      res.set_content("OK", "text/plain");
    });
    s.Get(R"(/v1.41/images/(.+)/json)", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"Id":"sha256:1","RepoTags":["busybox:1"]})", "application/json");
    });
    s.Get("/v1.41/containers/json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("[]", "application/json");
    });
    s.Post("/v1.41/containers/create", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      state_ = "created";
      res.status = 201;
      res.set_content(json{{"Id", id()}, {"Warnings", json::array()}}.dump(), "application/json");
    });
    s.Post(R"(/v1.41/containers/([0-9a-f]+)/start)",
           [this](const httplib::Request&, httplib::Response& res) {
             set_state("running", 0);
             res.status = 204;
           });
    s.Post(R"(/v1.41/containers/([0-9a-f]+)/stop)",
           [this](const httplib::Request&, httplib::Response& res) {
             set_state("exited", 143);
             res.status = 204;
           });
    s.Get(R"(/v1.41/containers/([0-9a-f]+)/json)",
          [this](const httplib::Request&, httplib::Response& res) {
            std::lock_guard lock(mu_);
            json j = {{"Id", id()},
                      {"Name", "/kna_unit"},
                      {"Config", {{"Image", "busybox:1"}, {"Labels", json::object()}}},
                      {"State",
                       {{"Status", state_},
                        {"Running", state_ == "running"},
                        {"Pid", state_ == "running" ? 4242 : 0},
                        {"ExitCode", exit_code_},
                        {"StartedAt", kStartedAt}}}};
            res.set_content(j.dump(), "application/json");
          });
    s.Get("/v1.41/events", [this](const httplib::Request&, httplib::Response& res) {
      int generation;
      {
        std::lock_guard lock(mu_);
        generation = ++streams_;
      }
      res.set_chunked_content_provider(
          "application/json", [this, generation](size_t, httplib::DataSink& sink) {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, 50ms, [&] { return !events_.empty() || cut_ >= generation; });
            if (cut_ >= generation || closing_) return false;
            while (!events_.empty()) {
              const std::string line = events_.front() + "\n";
              events_.pop_front();
              if (!sink.write(line.data(), line.size())) return false;
            }
            return sink.is_writable();
          });
    });
    daemon_.start();
  }
  ~FakeEngine() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
  }

  static std::string id() { return std::string(64, 'a'); }
  const std::string& socket() const { return daemon_.socket(); }

  void set_state(const std::string& state, int exit_code) {
    std::lock_guard lock(mu_);
    state_ = state;
    exit_code_ = exit_code;
  }
  void send_die(int exit_code, std::int64_t time_nano) {
    json j = {{"Type", "container"},
              {"Action", "die"},
              {"Actor", {{"ID", id()}, {"Attributes", {{"exitCode", std::to_string(exit_code)}}}}},
              {"timeNano", time_nano}};
    std::lock_guard lock(mu_);
    events_.push_back(j.dump());
    cv_.notify_all();
  }
  // Ends every event stream open now (the daemon lives on).
  void cut_streams() {
    std::lock_guard lock(mu_);
    cut_ = streams_;
    cv_.notify_all();
  }
  int streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string state_{"created"};
  int exit_code_{0};
  std::deque<std::string> events_;
  int streams_{0};
  int cut_{0};
  bool closing_{false};
  test::FakeDockerDaemon daemon_;  // last: its server stops before the state above goes
};

class ContainerRuntimeTest : public ::testing::Test {
 protected:
  StageSpec stage(const std::string& socket) {
    ContainerSpec c;
    c.docker_socket = socket;
    c.name = "kna_unit";
    c.image = "busybox:1";
    c.cmd = {"sleep", "1000"};
    StageSpec s;
    s.name = "etcd";
    s.launch = c;
    return s;
  }

  void launch(const std::string& socket) {
    runtime_->launch(
        stage(socket),
        [this](Result<std::unique_ptr<Workload>> r) {
          if (r) {
            workload_ = std::move(r.value());
          } else {
            error_ = r.error();
          }
        },
        [this](const ExitStatus& s) {
          exit_ = s;
          ++exits_;
        });
    ASSERT_TRUE(test::run_until(io_, [&] { return workload_ || error_; }));
  }

  // Lets everything already on its way arrive, so that a duplicate report would show.
  void settle() {
    test::run_until(
        io_, [] { return false; }, 300ms);
  }

  boost::asio::io_context io_;
  AsioDispatcher dispatcher_{io_};
  FakeEngine engine_;
  std::unique_ptr<ContainerRuntime> runtime_ = std::make_unique<ContainerRuntime>(
      dispatcher_, ContainerRuntimeOptions{"", 2, 2'000ms, 5'000ms, 10ms, 50ms});
  std::unique_ptr<Workload> workload_;
  std::optional<Error> error_;
  std::optional<ExitStatus> exit_;
  int exits_{0};

  void TearDown() override { runtime_.reset(); }
};

TEST_F(ContainerRuntimeTest, LaunchGivesAWorkloadNamedByTheShortId) {
  launch(engine_.socket());
  ASSERT_TRUE(workload_) << error_->message;
  EXPECT_EQ(workload_->id(), "container aaaaaaaaaaaa");
  EXPECT_EQ(workload_->pid(), 4242);
  EXPECT_EQ(runtime_->tracked(), 1u);
}

TEST_F(ContainerRuntimeTest, ADieEventReportsTheExitCode) {
  launch(engine_.socket());
  ASSERT_TRUE(workload_);
  ASSERT_TRUE(test::run_until(io_, [&] { return engine_.streams() >= 1; }));
  engine_.set_state("exited", 1);
  engine_.send_die(1, kStartedNano + 5'000'000'000);
  ASSERT_TRUE(test::run_until(io_, [&] { return exit_.has_value(); }));
  EXPECT_EQ(exit_->cause, Cause::exited);
  EXPECT_EQ(exit_->code, 1);
  settle();
  EXPECT_EQ(exits_, 1);
  EXPECT_EQ(runtime_->tracked(), 0u);
}

TEST_F(ContainerRuntimeTest, TheDieEventOfAnEarlierRunIsIgnored) {
  launch(engine_.socket());
  ASSERT_TRUE(workload_);
  ASSERT_TRUE(test::run_until(io_, [&] { return engine_.streams() >= 1; }));
  engine_.send_die(137, kStartedNano - 1);  // docker restarted it since: not this run's end
  settle();
  EXPECT_FALSE(exit_);
  engine_.set_state("exited", 2);
  engine_.send_die(2, kStartedNano + 1);
  ASSERT_TRUE(test::run_until(io_, [&] { return exit_.has_value(); }));
  EXPECT_EQ(exit_->code, 2);
}

TEST_F(ContainerRuntimeTest, ADeathNobodyToldUsAboutIsFoundWhenTheStreamIsLost) {
  launch(engine_.socket());
  ASSERT_TRUE(workload_);
  ASSERT_TRUE(test::run_until(io_, [&] { return engine_.streams() >= 1; }));
  settle();
  ASSERT_FALSE(exit_);
  // dockerd dropped the die event (a slow reader), then the stream broke; the daemon is fine.
  engine_.set_state("exited", 2);
  engine_.cut_streams();
  ASSERT_TRUE(test::run_until(io_, [&] { return exit_.has_value(); }));
  EXPECT_EQ(exit_->cause, Cause::exited);
  EXPECT_EQ(exit_->code, 2);
  ASSERT_TRUE(test::run_until(io_, [&] { return engine_.streams() >= 2; }));  // reconnected
  settle();
  EXPECT_EQ(exits_, 1);
}

TEST_F(ContainerRuntimeTest, StopReportsTerminatedOnceTheContainerStopped) {
  launch(engine_.socket());
  ASSERT_TRUE(workload_);
  workload_->stop(1500ms);
  workload_->stop(1500ms);
  ASSERT_TRUE(test::run_until(io_, [&] { return exit_.has_value(); }));
  EXPECT_EQ(exit_->cause, Cause::terminated);
  EXPECT_TRUE(exit_->signaled);
  EXPECT_EQ(exit_->code, 15);
  settle();
  EXPECT_EQ(exits_, 1);
}

TEST_F(ContainerRuntimeTest, LaunchWithoutADaemonSaysSo) {
  launch("/tmp/kna-no-such-daemon/d.sock");
  ASSERT_TRUE(error_);
  EXPECT_NE(error_->message.find("no docker daemon at /tmp/kna-no-such-daemon/d.sock: the socket "
                                 "does not exist"),
            std::string::npos)
      << error_->message;
  EXPECT_FALSE(exit_);
}

TEST_F(ContainerRuntimeTest, AProcessSpecIsRefused) {
  StageSpec s = stage(engine_.socket());
  s.launch = ProcessSpec{{"/bin/true"}, {}, ""};
  runtime_->launch(
      s, [this](Result<std::unique_ptr<Workload>> r) { error_ = r ? Error{} : r.error(); },
      [](const ExitStatus&) {});
  ASSERT_TRUE(test::run_until(io_, [&] { return error_.has_value(); }));
  EXPECT_EQ(error_->message, "the container runtime cannot run a host process spec");
}

}  // namespace
}  // namespace kna
