// Robustness: illegal events from a runtime that breaks its contract are logged and ignored, and
// callbacks that arrive after the supervisor is gone do nothing.

#include <gmock/gmock.h>

#include "supervisor_fixture.hpp"

namespace kna::test {
namespace {

// Wraps FakeRuntime to deliver an exit before the launch result, or the launch result twice.
class BrokenRuntime : public Runtime {
 public:
  enum class Fault { exit_before_launch, launch_twice };
  BrokenRuntime(Dispatcher& d, Fault fault) : dispatcher_(d), fault_(fault), inner_(d) {}

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override {
    const std::size_t first = inner_.launches().size();
    if (fault_ == Fault::exit_before_launch) {
      dispatcher_.post([on_exit] { on_exit(exit_code(1)); });
      inner_.launch(spec, std::move(done), [](const ExitStatus&) {});
      inner_.complete_launch_at(first);
    } else {
      inner_.launch(spec, done, on_exit);
      inner_.launch(spec, done, on_exit);
      inner_.complete_launch_at(first);
      inner_.complete_launch_at(first + 1);
    }
  }

  FakeRuntime& inner() { return inner_; }

 private:
  Dispatcher& dispatcher_;
  Fault fault_;
  FakeRuntime inner_;
};

class SupervisorStale : public SupervisorTest {
 protected:
  std::unique_ptr<Supervisor> make_on(Runtime& rt) {
    add("a").ready.kind = ProbeKind::none;
    return std::make_unique<Supervisor>(sim, rt, prober, specs, nullptr, [] { return 0.5; });
  }
};

TEST_F(SupervisorStale, ExitReportedBeforeTheLaunchIsLoggedAndIgnored) {
  BrokenRuntime rt(sim, BrokenRuntime::Fault::exit_before_launch);
  auto s = make_on(rt);
  s->start();
  sim.run_posted();
  EXPECT_TRUE(logs.has("warning", "a: ignored event exited in state starting"));
  EXPECT_EQ(s->status()[0].state, StageState::ready);
}

TEST_F(SupervisorStale, ASecondLaunchResultIsIgnoredAndItsWorkloadStopped) {
  BrokenRuntime rt(sim, BrokenRuntime::Fault::launch_twice);
  auto s = make_on(rt);
  s->start();
  sim.run_posted();
  EXPECT_EQ(s->status()[0].state, StageState::ready);
  EXPECT_EQ(s->status()[0].workload, "pid 1000");
  EXPECT_TRUE(logs.has("warning", "a: ignored event launched in state ready"));
  EXPECT_EQ(rt.inner().launch_record(1).stop_requests, 1);
  EXPECT_EQ(rt.inner().launch_record(0).stop_requests, 0);
}

TEST_F(SupervisorStale, CallbacksAfterTheSupervisorIsGoneDoNothing) {
  add("a");
  add("b");
  start();
  prober.hold(probe_url("a"));
  runtime.complete_launch("a");
  sim.run_posted();
  sup.reset();
  runtime.complete_launch("b");
  runtime.exit("a", exit_code(1));
  prober.answer(probe_url("a"), {true, ""});
  EXPECT_EQ(sim.run_posted(), 3);
  EXPECT_EQ(sim.pending_timers(), 0u);
}

TEST_F(SupervisorStale, AStaleExitOfAnEarlierRunDoesNotTouchTheCurrentOne) {
  add("a");
  automatic();
  runtime.set_auto_stop(false);
  start();
  sup->restart("a", "test");
  sim.run_posted();
  runtime.complete_stop_at(0);  // run 1 ends as asked; run 2 starts
  sim.run_posted();
  ASSERT_EQ(runtime.launch_count("a"), 2u);
  ASSERT_EQ(state("a"), StageState::ready);
  EXPECT_EQ(status("a").workload, "pid 1001");
}

}  // namespace
}  // namespace kna::test
