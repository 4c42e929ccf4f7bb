#include "runtime/asio_dispatcher.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "support/loop_util.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using test::run_until;

TEST(AsioDispatcher, TimersFireInDeadlineOrderAfterTheirDelay) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  std::vector<int> fired;
  const TimePoint start = d.now();
  TimePoint second_at{};
  d.call_after(60ms, [&] {
    fired.push_back(2);
    second_at = d.now();
  });
  d.call_after(20ms, [&] { fired.push_back(1); });
  ASSERT_TRUE(run_until(io, [&] { return fired.size() == 2; }));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_GE(second_at - start, 60ms);
}

TEST(AsioDispatcher, CancelledTimerNeverFires) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  bool cancelled_fired = false;
  bool later_fired = false;
  const auto id = d.call_after(10ms, [&] { cancelled_fired = true; });
  d.call_after(40ms, [&] { later_fired = true; });
  d.cancel(id);
  d.cancel(id);       // twice: no-op
  d.cancel(0);        // never a timer id
  d.cancel(id + 99);  // unknown
  ASSERT_TRUE(run_until(io, [&] { return later_fired; }));
  EXPECT_FALSE(cancelled_fired);
}

TEST(AsioDispatcher, TimerCancelledFromAnotherTimerDueAtTheSameTimeDoesNotFire) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  bool second_fired = false;
  bool done = false;
  Dispatcher::TimerId second = 0;
  d.call_after(10ms, [&] { d.cancel(second); });
  second = d.call_after(10ms, [&] { second_fired = true; });
  d.call_after(50ms, [&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_FALSE(second_fired);
}

TEST(AsioDispatcher, TimerIdsAreNonZeroAndDistinct) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  const auto a = d.call_after(1h, [] {});
  const auto b = d.call_after(1h, [] {});
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
}

TEST(AsioDispatcher, PostFromAnotherThreadRunsOnTheLoopInOrder) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  std::vector<int> ran;
  std::vector<std::thread::id> threads;
  std::thread poster([&] {
    for (int i = 0; i < 3; ++i) {
      d.post([&, i] {
        ran.push_back(i);
        threads.push_back(std::this_thread::get_id());
      });
    }
  });
  poster.join();
  ASSERT_TRUE(run_until(io, [&] { return ran.size() == 3; }));
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  for (auto id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(AsioDispatcher, ClocksMoveForwardAndAgree) {
  boost::asio::io_context io;
  AsioDispatcher d(io);
  const TimePoint a = d.now();
  const TimePoint b = d.now();
  EXPECT_LE(a, b);
  const auto wall = to_wall(d, d.now());
  EXPECT_LT(std::chrono::abs(wall - WallClock::now()), std::chrono::seconds(1));
}

TEST(AsioDispatcher, PendingTimersAreHarmlessAfterTheDispatcherIsGone) {
  boost::asio::io_context io;
  bool fired = false;
  {
    AsioDispatcher d(io);
    d.call_after(1ms, [&] { fired = true; });
  }
  io.run_for(20ms);
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace kna
