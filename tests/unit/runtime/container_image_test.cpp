// The pull-progress arithmetic and its log throttle, used by the container runtime.
#include <gtest/gtest.h>

#include "runtime/image_pull_progress.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna {
namespace {

PullProgress line(const std::string& id, const std::string& status, std::int64_t current = 0,
                  std::int64_t total = 0) {
  return PullProgress{id, status, current, total};
}

TEST(ContainerImagePull, PercentIsWeightedByLayerSize) {
  PullProgressTracker t;
  EXPECT_EQ(t.update(line("", "Pulling from google_containers/etcd")), std::nullopt);
  EXPECT_EQ(t.update(line("l1", "Pulling fs layer")), std::nullopt);  // sizes unknown yet
  EXPECT_EQ(t.percent(), -1);
  EXPECT_EQ(t.update(line("l1", "Downloading", 10, 100)), 10);
  EXPECT_EQ(t.update(line("l2", "Downloading", 0, 300)), 2);  // 10 of 400
  EXPECT_EQ(t.update(line("l2", "Downloading", 150, 300)), 40);
  EXPECT_EQ(t.update(line("l1", "Download complete")), 62);  // 250 of 400
  // Extracting counts from zero again: it must not move the figure back.
  EXPECT_EQ(t.update(line("l1", "Extracting", 5, 100)), std::nullopt);
  EXPECT_EQ(t.update(line("l2", "Pull complete")), 100);
  EXPECT_EQ(t.update(line("l2", "Pull complete")), std::nullopt);  // unchanged
}

TEST(ContainerImagePull, PercentOfLayersPastFourGiB) {
  constexpr std::int64_t kGiB = std::int64_t{1} << 30;
  PullProgressTracker t;
  EXPECT_EQ(t.update(line("l1", "Downloading", 3 * kGiB, 6 * kGiB)), 50);
  EXPECT_EQ(t.update(line("l2", "Downloading", 0, 6 * kGiB)), 25);  // 3 of 12 GiB
  EXPECT_EQ(t.update(line("l2", "Downloading", 5 * kGiB, 6 * kGiB)), 66);
}

TEST(ContainerImagePull, ThrottleAllowsOneLogLinePerInterval) {
  test::SimDispatcher clock;
  ProgressThrottle throttle(Millis{2'000});
  EXPECT_TRUE(throttle.allow(clock.now()));
  clock.advance(Millis{1'999});
  EXPECT_FALSE(throttle.allow(clock.now()));
  clock.advance(Millis{1});
  EXPECT_TRUE(throttle.allow(clock.now()));
  clock.advance(Millis{500});
  EXPECT_FALSE(throttle.allow(clock.now()));
}

}  // namespace
}  // namespace kna

namespace kna {
namespace {

TEST(PullProgressBar, FillsInProportionAndClamps) {
  EXPECT_EQ(progress_bar_line("etcd", "img", 50, 10), "etcd: pulling img [#####     ] 50%");
  EXPECT_EQ(progress_bar_line("etcd", "img", 0, 4), "etcd: pulling img [    ] 0%");
  EXPECT_EQ(progress_bar_line("etcd", "img", 130, 4), "etcd: pulling img [####] 100%");
  EXPECT_EQ(progress_bar_line("etcd", "img", -1, 4), "etcd: pulling img [    ] 0%");
}

}  // namespace
}  // namespace kna
