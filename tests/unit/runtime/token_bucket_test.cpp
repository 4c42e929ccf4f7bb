#include "runtime/token_bucket.hpp"

#include <gtest/gtest.h>

namespace kna {
namespace {

using namespace std::chrono_literals;

const TimePoint t0{std::chrono::hours(1)};

TEST(TokenBucket, StartsFullAndStopsAtTheBurst) {
  TokenBucket b(10, 3);
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket b(10, 1);
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 50ms));  // half a token
  EXPECT_TRUE(b.take(t0 + 100ms));
  EXPECT_FALSE(b.take(t0 + 100ms));
}

TEST(TokenBucket, RefillIsCappedAtTheBurst) {
  TokenBucket b(100, 2);
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  const TimePoint later = t0 + 1h;
  EXPECT_TRUE(b.take(later));
  EXPECT_TRUE(b.take(later));
  EXPECT_FALSE(b.take(later));
}

TEST(TokenBucket, TimeGoingBackwardsGivesNoTokens) {
  TokenBucket b(10, 1);
  EXPECT_TRUE(b.take(t0 + 1s));
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 1s));
}

TEST(LineLimiter, ReportsSuppressedLinesWhenOneIsLetThroughAgain) {
  LineLimiter l(1, 2);
  EXPECT_TRUE(l.admit(t0).pass);
  EXPECT_TRUE(l.admit(t0).pass);
  EXPECT_FALSE(l.admit(t0).pass);
  EXPECT_FALSE(l.admit(t0).pass);
  EXPECT_FALSE(l.admit(t0).pass);
  const auto v = l.admit(t0 + 1s);
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.suppressed_before, 3u);
  EXPECT_EQ(l.take_suppressed(), 0u);
}

TEST(LineLimiter, TakeSuppressedReportsAndResetsTheCount) {
  LineLimiter l(1, 1);
  EXPECT_TRUE(l.admit(t0).pass);
  EXPECT_FALSE(l.admit(t0).pass);
  EXPECT_FALSE(l.admit(t0).pass);
  EXPECT_EQ(l.take_suppressed(), 2u);
  EXPECT_EQ(l.admit(t0 + 1s).suppressed_before, 0u);
}

}  // namespace
}  // namespace kna
