#include "core/backoff.hpp"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace kna::core {
namespace {

using std::chrono::seconds;

std::vector<long long> delays(Backoff& b, int n) {
  std::vector<long long> out;
  for (int i = 0; i < n; ++i) out.push_back(b.next_delay().count());
  return out;
}

TEST(Backoff, DoublesFromInitialWithoutJitterAtTheMiddleOfTheRange) {
  Backoff b(BackoffPolicy{}, [] { return 0.5; });
  EXPECT_EQ(delays(b, 6), (std::vector<long long>{100, 200, 400, 800, 1600, 3200}));
  EXPECT_EQ(b.failures(), 6);
}

TEST(Backoff, StopsGrowingAtTheCapAndStaysThereForever) {
  Backoff b(BackoffPolicy{}, [] { return 0.5; });
  const auto d = delays(b, 1000);
  EXPECT_EQ(d[8], 25'600);
  EXPECT_EQ(d[9], 30'000);
  EXPECT_TRUE(b.at_cap());
  for (std::size_t i = 9; i < d.size(); ++i) ASSERT_EQ(d[i], 30'000) << i;
}

TEST(Backoff, JitterSpansPlusMinusTenPercent) {
  Backoff low(BackoffPolicy{}, [] { return 0.0; });
  EXPECT_EQ(delays(low, 3), (std::vector<long long>{90, 180, 360}));
  Backoff high(BackoffPolicy{}, [] { return 0.999999; });
  EXPECT_EQ(delays(high, 3), (std::vector<long long>{110, 220, 440}));
}

TEST(Backoff, JitterAppliesAroundTheCap) {
  Backoff b(BackoffPolicy{}, [] { return 0.0; });
  const auto d = delays(b, 20);
  EXPECT_EQ(d.back(), 27'000);
  Backoff c(BackoffPolicy{}, [] { return 0.75; });
  EXPECT_EQ(delays(c, 20).back(), 31'500);
}

TEST(Backoff, UsesOneRandomNumberPerDelay) {
  int calls = 0;
  std::vector<double> values{0.0, 1.0, 0.5};
  Backoff b(BackoffPolicy{}, [&] { return values[calls++ % 3]; });
  EXPECT_EQ(delays(b, 3), (std::vector<long long>{90, 220, 400}));
  EXPECT_EQ(calls, 3);
}

TEST(Backoff, ResetsAfterBeingReadyForResetAfter) {
  Backoff b(BackoffPolicy{}, [] { return 0.5; });
  delays(b, 4);
  b.note_ready_for(seconds(59));
  EXPECT_EQ(b.next_delay().count(), 1600);
  b.note_ready_for(seconds(60));
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.next_delay().count(), 100);
}

TEST(Backoff, FollowsAConfiguredPolicy) {
  BackoffPolicy p;
  p.initial = Millis(1000);
  p.multiplier = 3.0;
  p.cap = Millis(5000);
  p.jitter = 0.0;
  Backoff b(p, [] { return 0.0; });
  EXPECT_EQ(delays(b, 4), (std::vector<long long>{1000, 3000, 5000, 5000}));
}

TEST(Backoff, WithoutRandomSourceHasNoJitter) {
  Backoff b(BackoffPolicy{}, nullptr);
  EXPECT_EQ(delays(b, 2), (std::vector<long long>{100, 200}));
}

}  // namespace
}  // namespace kna::core
