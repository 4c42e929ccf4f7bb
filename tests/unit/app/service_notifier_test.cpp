// What systemd hears from the agent: the STATUS= line, READY=1 only once every stage is ready,
// EXTEND_TIMEOUT_USEC while a first launch is in progress, WATCHDOG=1 from the loop at half the
// watchdog interval (and none while the loop is blocked), RELOADING=1 and STOPPING=1.

#include "app/service_notifier.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

#include <gmock/gmock.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "runtime/asio_dispatcher.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

StageStatus stage(const std::string& name, StageState state, std::vector<std::string> deps = {}) {
  StageStatus s;
  s.name = name;
  s.state = state;
  s.deps = std::move(deps);
  return s;
}

// bootstrap-docker ← flannel ← main-docker ← kubelet
std::vector<StageStatus> node(StageState bootstrap, StageState flannel, StageState main_docker,
                              StageState kubelet) {
  return {stage("bootstrap-docker", bootstrap), stage("flannel", flannel, {"bootstrap-docker"}),
          stage("main-docker", main_docker, {"flannel"}),
          stage("kubelet", kubelet, {"main-docker"})};
}

constexpr auto R = StageState::ready;
constexpr auto W = StageState::waiting;

TEST(DescribeProgress, AllReady) {
  EXPECT_EQ(describe_progress(node(R, R, R, R), false, TimePoint{}), "4/4 stages ready");
}

TEST(DescribeProgress, NamesTheFirstStageThatHoldsTheNodeUpAndWhy) {
  auto stages = node(R, StageState::running, W, W);
  stages[1].probe_detail = "/run/flannel/subnet.env: No such file or directory";
  EXPECT_EQ(describe_progress(stages, false, TimePoint{}),
            "1/4 stages ready; waiting for flannel: /run/flannel/subnet.env: No such file or "
            "directory");
}

TEST(DescribeProgress, AnErrorOutsideTheStageWinsOverTheProbe) {
  auto stages = node(R, R, R, StageState::running);
  stages[3].probe_detail = "GET http://127.0.0.1:10248/healthz: connection refused";
  stages[3].last_error = "the API server has no node 'pi-1' yet";
  EXPECT_EQ(describe_progress(stages, false, TimePoint{}),
            "3/4 stages ready; waiting for kubelet: the API server has no node 'pi-1' yet");
}

TEST(DescribeProgress, AFailedStageSaysWhyAndWhenItRestarts) {
  auto stages = node(R, R, StageState::backoff, W);
  stages[2].last_error = "exited: exit code 1";
  stages[2].next_retry = TimePoint{} + milliseconds(3'200);
  EXPECT_EQ(describe_progress(stages, false, TimePoint{}),
            "2/4 stages ready; main-docker failed: exited: exit code 1; restart in 4s");
}

TEST(DescribeProgress, AStageWhoseDependencyIsDownIsNotTheOneNamed) {
  // kubelet unready after running, but main-docker (its dependency) is what is down.
  auto stages = node(R, R, StageState::starting, StageState::unready);
  EXPECT_EQ(describe_progress(stages, false, TimePoint{}),
            "2/4 stages ready; starting main-docker");
}

TEST(DescribeProgress, Stopping) {
  EXPECT_EQ(
      describe_progress(node(R, R, StageState::stopped, StageState::stopped), true, TimePoint{}),
      "stopping: 2 of 4 stages still running");
}

TEST(DescribeProgress, IsOneLine) {
  auto stages = node(StageState::running, W, W, W);
  stages[0].probe_detail = "line one\nline two";
  EXPECT_EQ(describe_progress(stages, false, TimePoint{}),
            "0/4 stages ready; waiting for bootstrap-docker: line one line two");
}

class ServiceNotifierTest : public ::testing::Test {
 protected:
  ServiceNotifier& make(ServiceNotifierOptions options = {}) {
    notifier = std::make_unique<ServiceNotifier>(
        sim,
        [this](const std::string& m) {
          sent.push_back(m);
          return true;
        },
        [this] {
          return ServiceNotifier::Snapshot{stages, stopping};
        },
        options);
    return *notifier;
  }
  std::vector<std::string> take() { return std::exchange(sent, {}); }
  std::vector<std::string> watchdog_free(const std::vector<std::string>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages)
      if (m != "WATCHDOG=1") out.push_back(m);
    return out;
  }

  test::SimDispatcher sim;
  std::vector<StageStatus> stages = node(W, W, W, W);
  bool stopping = false;
  std::vector<std::string> sent;
  std::unique_ptr<ServiceNotifier> notifier;  // last: destroyed first
};

TEST_F(ServiceNotifierTest, ReadyOnlyOnceEveryStageIsReadyAndOnlyOnce) {
  auto& n = make();
  n.start();
  EXPECT_THAT(take(), ElementsAre("STATUS=0/4 stages ready; bootstrap-docker waiting to start"));
  stages = node(R, StageState::running, W, W);
  stages[1].probe_detail = "/run/flannel/subnet.env: No such file or directory";
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=1/4 stages ready; waiting for flannel: "
                                  "/run/flannel/subnet.env: No such file or directory"));
  n.update();
  EXPECT_THAT(take(), ElementsAre()) << "an unchanged status is not sent again";
  stages = node(R, R, R, StageState::running);
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=3/4 stages ready; waiting for kubelet to answer its "
                                  "readiness probe"));
  EXPECT_FALSE(n.ready_sent());
  stages = node(R, R, R, R);
  n.update();
  EXPECT_THAT(take(), ElementsAre("READY=1\nSTATUS=4/4 stages ready"));
  EXPECT_TRUE(n.ready_sent());
  // Afterwards the status stays current, and READY=1 is not repeated.
  stages = node(R, R, R, StageState::backoff);
  stages[3].last_error = "exited: exit code 2";
  n.update();
  stages = node(R, R, R, R);
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=3/4 stages ready; kubelet failed: exited: exit code 2",
                                  "STATUS=4/4 stages ready"));
}

TEST_F(ServiceNotifierTest, TheStatusIsRefreshedWithoutATransition) {
  auto& n = make();
  stages = node(StageState::running, W, W, W);
  stages[0].probe_detail = "connection refused";
  n.start();
  take();
  stages[0].probe_detail = "503 Service Unavailable";
  sim.advance(seconds(1));
  EXPECT_THAT(take(), ElementsAre("STATUS=0/4 stages ready; waiting for bootstrap-docker: 503 "
                                  "Service Unavailable"));
}

TEST_F(ServiceNotifierTest, AZeroRefreshLooksOnlyAtTransitions) {
  ServiceNotifierOptions options;
  options.refresh = Duration::zero();
  auto& n = make(options);
  stages = node(StageState::running, W, W, W);
  stages[0].probe_detail = "connection refused";
  n.start();
  take();
  stages[0].probe_detail = "503 Service Unavailable";
  sim.advance(seconds(60));
  EXPECT_THAT(take(), ElementsAre()) << "no timer looked at the status";
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=0/4 stages ready; waiting for bootstrap-docker: 503 "
                                  "Service Unavailable"));
}

TEST_F(ServiceNotifierTest, ExtendsTheStartTimeoutWhileALaunchIsInProgressBeforeReady) {
  ServiceNotifierOptions options;
  options.extend_by = seconds(90);
  auto& n = make(options);
  stages = node(StageState::starting, W, W, W);
  n.start();
  EXPECT_THAT(take(), ElementsAre("STATUS=0/4 stages ready; starting bootstrap-docker\n"
                                  "EXTEND_TIMEOUT_USEC=90000000"));
  sim.advance(seconds(29));
  EXPECT_THAT(take(), ElementsAre());
  sim.advance(seconds(1));
  EXPECT_THAT(take(), ElementsAre("EXTEND_TIMEOUT_USEC=90000000")) << "again after a third";
  // A bring-up that launches nothing (a probe that never passes) gets no more time.
  stages = node(StageState::running, W, W, W);
  sim.advance(seconds(60));
  EXPECT_THAT(take(), ElementsAre("STATUS=0/4 stages ready; waiting for bootstrap-docker to "
                                  "answer its readiness probe"));
  stages = node(R, R, R, R);
  sim.advance(seconds(1));
  take();
  // After READY=1, a launch (a restart) extends nothing: the start is over.
  stages = node(R, R, R, StageState::starting);
  sim.advance(seconds(60));
  for (const auto& m : take()) EXPECT_THAT(m, Not(HasSubstr("EXTEND_TIMEOUT_USEC")));
}

TEST_F(ServiceNotifierTest, WatchdogPingsEveryHalfInterval) {
  ServiceNotifierOptions options;
  options.watchdog = seconds(10);
  auto& n = make(options);
  n.start();
  auto first = take();
  EXPECT_EQ(std::count(first.begin(), first.end(), "WATCHDOG=1"), 1) << "at once";
  sim.advance(milliseconds(4'999));
  auto before = take();
  EXPECT_EQ(std::count(before.begin(), before.end(), "WATCHDOG=1"), 0);
  sim.advance(milliseconds(1));
  auto at = take();
  EXPECT_EQ(std::count(at.begin(), at.end(), "WATCHDOG=1"), 1);
  sim.advance(seconds(50));
  auto later = take();
  EXPECT_EQ(std::count(later.begin(), later.end(), "WATCHDOG=1"), 10);
  n.stop();
  sim.advance(seconds(50));
  EXPECT_THAT(take(), ElementsAre()) << "stop() ends the pings";
}

TEST_F(ServiceNotifierTest, NoWatchdogWithoutWatchdogSec) {
  auto& n = make();
  n.start();
  sim.advance(seconds(60));
  for (const auto& m : take()) EXPECT_NE(m, "WATCHDOG=1");
}

TEST_F(ServiceNotifierTest, ReloadingThenReadyWithTheOutcome) {
  auto& n = make();
  stages = node(R, R, R, R);
  n.start();
  take();
  sim.advance(seconds(5));
  n.reloading("reloading the configuration");
  n.reloaded("reloaded: restarted kubelet");
  const auto messages = take();
  ASSERT_EQ(messages.size(), 2u);
  const auto usec =
      std::chrono::duration_cast<std::chrono::microseconds>(sim.now().time_since_epoch()).count();
  EXPECT_EQ(messages[0], "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) +
                             "\nSTATUS=reloading the configuration");
  EXPECT_EQ(messages[1], "READY=1\nSTATUS=4/4 stages ready; reloaded: restarted kubelet");
  // The outcome stays until the progress changes.
  stages[3].state = StageState::stopping;
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=3/4 stages ready; kubelet stopping"));
  stages[3].state = R;
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=4/4 stages ready"));
}

TEST_F(ServiceNotifierTest, AReloadBeforeTheNodeWasReadyDoesNotSayReady) {
  auto& n = make();
  n.start();
  take();
  n.reloading("reloading the configuration");
  n.reloaded("reload refused: the configuration is invalid (see the log)");
  const auto messages = take();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_THAT(messages[1], StartsWith("STATUS=0/4 stages ready; bootstrap-docker waiting to "
                                      "start; reload refused"));
  stages = node(R, R, R, R);
  n.update();
  EXPECT_THAT(take(), ElementsAre("READY=1\nSTATUS=4/4 stages ready"));
}

TEST_F(ServiceNotifierTest, StoppingSaysStoppingAndCountsDown) {
  auto& n = make();
  stages = node(R, R, R, R);
  n.start();
  take();
  n.stopping();
  EXPECT_THAT(take(), ElementsAre("STOPPING=1\nSTATUS=stopping: 4 of 4 stages still running"));
  stopping = true;
  stages = node(R, R, StageState::stopping, StageState::stopped);
  n.update();
  EXPECT_THAT(take(), ElementsAre("STATUS=stopping: 3 of 4 stages still running"));
}

// The pings come from the event loop itself: a loop blocked for longer than the watchdog
// interval sends none, so systemd ends the agent.
TEST(ServiceNotifierWatchdog, ABlockedLoopSendsNoPings) {
  boost::asio::io_context io;
  AsioDispatcher dispatcher(io);
  std::mutex mu;
  std::vector<SteadyClock::time_point> pings;
  ServiceNotifierOptions options;
  options.watchdog = milliseconds(100);
  ServiceNotifier notifier(
      dispatcher,
      [&](const std::string& m) {
        if (m == "WATCHDOG=1") {
          std::lock_guard lock(mu);
          pings.push_back(SteadyClock::now());
        }
        return true;
      },
      [] { return ServiceNotifier::Snapshot{}; }, options);
  SteadyClock::time_point block_start, block_end;
  dispatcher.call_after(milliseconds(300), [&] {
    block_start = SteadyClock::now();
    std::this_thread::sleep_for(milliseconds(500));  // the loop is stuck
    block_end = SteadyClock::now();
  });
  dispatcher.call_after(milliseconds(1'200), [&] {
    notifier.stop();
    io.stop();
  });
  notifier.start();
  io.run();
  int during = 0, before = 0, after = 0;
  for (auto t : pings) {
    if (t < block_start) ++before;
    if (t > block_start && t < block_end) ++during;
    if (t > block_end) ++after;
  }
  EXPECT_GE(before, 5) << "about one every 50 ms before";
  EXPECT_EQ(during, 0) << "none while the loop is blocked";
  EXPECT_GE(after, 5) << "they resume with the loop";
}

}  // namespace
}  // namespace kna::app
