#include "runtime/log_follower.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/sim_dispatcher.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

constexpr std::size_t kMaxLine = 16 * 1024;

class LogFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-follow-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/stage.log";
  }
  void TearDown() override {
    follower_.reset();
    if (writer_ != -1) ::close(writer_);
    fs::remove_all(dir_);
  }

  LogFollower& follow(LogFollower::Options options = {}) {
    options.poll = kPoll;
    follower_ = std::make_unique<LogFollower>(
        sim_, path_, options, [this](std::string_view line) { lines_.emplace_back(line); });
    return *follower_;
  }

  // Appends through one O_APPEND descriptor kept open, as a stage process does.
  void write(const std::string& text) {
    if (writer_ == -1) writer_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0640);
    ASSERT_NE(writer_, -1);
    ASSERT_EQ(::write(writer_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The callback's lines so far, forgotten once returned.
  Lines take() { return std::exchange(lines_, {}); }

  static constexpr Millis kPoll{250};
  test::SimDispatcher sim_;
  std::string dir_;
  std::string path_;
  int writer_{-1};
  Lines lines_;
  std::unique_ptr<LogFollower> follower_;
};

TEST_F(LogFollowerTest, EmitsAppendedLinesOnTheNextTickNotBefore) {
  follow().start(/*from_end=*/false);
  write("one\ntwo\r\n");
  sim_.advance(kPoll - 1ms);
  EXPECT_TRUE(lines_.empty());
  sim_.advance(1ms);
  EXPECT_EQ(take(), (Lines{"one", "two"})) << "split on newlines, a carriage return stripped";
  write("three\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"three"}));
}

TEST_F(LogFollowerTest, AQuietFileIsLookedAtLessOftenUntilItSpeaksAgain) {
  LogFollower::Options options;
  options.idle_poll = 4 * kPoll;
  follow(options).start(/*from_end=*/false);
  write("first\n");
  sim_.advance(kPoll);  // t = 1: read, the wait stays kPoll
  EXPECT_EQ(take(), (Lines{"first"}));
  sim_.advance(kPoll);      // t = 2: quiet, next look 2 polls later (t = 4)
  sim_.advance(2 * kPoll);  // t = 4: quiet, next look 4 polls later (t = 8): the most
  write("late\n");
  sim_.advance(4 * kPoll - 1ms);
  EXPECT_TRUE(lines_.empty()) << "looked at before the longer wait was over";
  sim_.advance(1ms);  // t = 8
  EXPECT_EQ(take(), (Lines{"late"}));
  // Something was read: back to one poll.
  write("next\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"next"}));
  // The wait never grows past idle_poll: looks at t = 10, 12, 16, 20, 24, 28 (uncapped, the
  // fourth would be at 24 and the fifth at 40).
  sim_.advance(19 * kPoll);
  write("capped\n");
  sim_.advance(4 * kPoll);
  EXPECT_EQ(take(), (Lines{"capped"}));
}

TEST_F(LogFollowerTest, FromEndSkipsWhatTheFileHeldAtStart) {
  write("old 1\nold 2\n");
  follow().start(/*from_end=*/true);
  write("new\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"new"}));
}

// An adopted process's log past 4 GiB (rotation off): where off_t and size_t are 32 bits (armhf),
// its size and the offsets read from must not wrap.
TEST_F(LogFollowerTest, FollowsTheEndOfALogPastFiveGiB) {
  write("first\n");
  ASSERT_EQ(::ftruncate(writer_, off_t{5} << 30), 0);  // a hole: costs no disk
  LogFollower::Options options;
  options.rotate = false;
  follow(options).start(/*from_end=*/true);
  write("past five GiB\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"past five GiB"}));
  EXPECT_GT(fs::file_size(path_), std::uintmax_t{5} << 30);
}

TEST_F(LogFollowerTest, FromStartReadsWhatTheFileHeld) {
  write("old\n");
  follow().start(/*from_end=*/false);
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"old"}));
}

TEST_F(LogFollowerTest, WaitsForAFileThatIsNotThereYetAndReadsItFromItsStart) {
  follow().start(/*from_end=*/true);
  sim_.advance(kPoll);
  EXPECT_TRUE(lines_.empty());
  write("first\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"first"})) << "from_end skips only what was there at start";
}

TEST_F(LogFollowerTest, HoldsAPartialLineUntilItsNewline) {
  follow().start(false);
  write("par");
  sim_.advance(kPoll);
  EXPECT_TRUE(lines_.empty());
  write("tial\nnext");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"partial"}));
  sim_.advance(kPoll);
  EXPECT_TRUE(lines_.empty());
}

TEST_F(LogFollowerTest, FlushReadsToTheEndAndEmitsTheLastPartialLine) {
  follow().start(false);
  write("done\nlast words");
  follower_->flush();  // no tick needed: the writer has ended
  EXPECT_EQ(take(), (Lines{"done", "last words"}));
  follower_->flush();
  EXPECT_TRUE(lines_.empty()) << "emitted once";
}

TEST_F(LogFollowerTest, PollNowReadsWithoutWaitingForTheTimer) {
  follow().start(false);
  write("now\n");
  follower_->poll_now();
  EXPECT_EQ(take(), (Lines{"now"}));
}

TEST_F(LogFollowerTest, RestartsFromTheStartWhenTheFileIsTruncated) {
  follow().start(false);
  write("one\ntwo\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"one", "two"}));
  fs::resize_file(path_, 0);
  write("3\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"3"}));
}

TEST_F(LogFollowerTest, ReadsTheRestOfAReplacedFileThenTheNewOneFromItsStart) {
  follow().start(false);
  write("a\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"a"}));
  write("a2\nunfinished");  // to the old file, which is then replaced
  std::ofstream(path_ + ".tmp") << "b\n";
  fs::rename(path_ + ".tmp", path_);
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"a2", "unfinished", "b"}));
}

TEST_F(LogFollowerTest, RotatesByCopyTruncateAndTheWriterContinuesAtTheNewEnd) {
  LogFollower::Options o;
  o.max_bytes = 100;
  follow(o).start(false);
  std::string first;
  for (int i = 0; i < 10; ++i) first += "line " + std::to_string(i) + " 0123456789\n";  // 170 B
  write(first);
  sim_.advance(kPoll);
  EXPECT_EQ(take().size(), 10u);
  EXPECT_EQ(read_file(path_ + ".1"), first);
  EXPECT_EQ(fs::file_size(path_), 0u);
  EXPECT_FALSE(fs::exists(path_ + ".1.tmp"));

  write("after\n");
  EXPECT_EQ(read_file(path_), "after\n") << "O_APPEND: no hole where the old content was";
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{"after"}));

  const std::string second(120, 'y');
  write(second + "\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take(), (Lines{second}));
  EXPECT_EQ(read_file(path_ + ".1"), "after\n" + second + "\n") << "the older .1 is replaced";
  EXPECT_EQ(fs::file_size(path_), 0u);
}

TEST_F(LogFollowerTest, DoesNotRotateBelowTheLimitOrWhenRotationIsOff) {
  LogFollower::Options o;
  o.max_bytes = 100;
  o.rotate = false;
  follow(o).start(false);
  write(std::string(150, 'z') + "\n");
  sim_.advance(kPoll);
  EXPECT_EQ(take().size(), 1u);
  EXPECT_FALSE(fs::exists(path_ + ".1"));
  EXPECT_EQ(fs::file_size(path_), 151u);
}

TEST_F(LogFollowerTest, EmitsALongLineInPieces) {
  follow().start(false);
  const std::string exact(kMaxLine, 'e');
  write(std::string(2 * kMaxLine + 10, 'x') + "\n" + exact + "\n");
  sim_.advance(kPoll);
  const auto lines = take();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], std::string(kMaxLine, 'x'));
  EXPECT_EQ(lines[1], std::string(kMaxLine, 'x'));
  EXPECT_EQ(lines[2], std::string(10, 'x'));
  EXPECT_EQ(lines[3], exact) << "a line of exactly the limit is one line";
}

// 3 MiB of 64-byte lines: 16384 lines per MiB.
std::string three_mebibytes() {
  const std::string line(63, 'l');
  std::string mib;
  for (std::size_t i = 0; i < 1024 * 1024 / 64; ++i) mib += line + "\n";
  return mib + mib + mib;
}

TEST_F(LogFollowerTest, ReadsAtMostOneMebibyteAtATime) {
  follow().start(false);
  write(three_mebibytes());
  follower_->poll_now();
  EXPECT_EQ(take().size(), 16384u);
  follower_->poll_now();
  EXPECT_EQ(take().size(), 16384u);
}

TEST_F(LogFollowerTest, ABacklogIsReadWithinOneTickPeriodNotOneMebibytePerPeriod) {
  follow().start(false);
  write(three_mebibytes());
  sim_.advance(kPoll);
  EXPECT_EQ(take().size(), 3 * 16384u);
  EXPECT_EQ(sim_.next_timer_in(), Duration(kPoll)) << "caught up: back to the normal period";
}

TEST_F(LogFollowerTest, StopEndsCallbacksAndTimers) {
  follow().start(false);
  write("unseen\n");
  follower_->stop();
  follower_->stop();  // idempotent
  sim_.advance(10 * kPoll);
  follower_->poll_now();
  follower_->flush();
  EXPECT_TRUE(lines_.empty());
  EXPECT_EQ(sim_.pending_timers(), 0u);
}

TEST_F(LogFollowerTest, StopFromInsideTheCallbackEndsTheBatch) {
  follower_ = std::make_unique<LogFollower>(sim_, path_, LogFollower::Options{},
                                            [this](std::string_view line) {
                                              lines_.emplace_back(line);
                                              follower_->stop();
                                            });
  follower_->start(false);
  write("a\nb\n");
  sim_.advance(1s);
  EXPECT_EQ(take(), (Lines{"a"}));
  EXPECT_EQ(sim_.pending_timers(), 0u);
}

TEST_F(LogFollowerTest, MayBeDestroyedByItsOwnCallback) {
  follower_ = std::make_unique<LogFollower>(sim_, path_, LogFollower::Options{},
                                            [this](std::string_view line) {
                                              lines_.emplace_back(line);
                                              follower_.reset();
                                            });
  follower_->start(false);
  write("a\nb\n");
  sim_.advance(1s);
  EXPECT_EQ(take(), (Lines{"a"}));
  EXPECT_EQ(sim_.pending_timers(), 0u);
}

TEST_F(LogFollowerTest, DestroyedWithATimerPendingCancelsIt) {
  follow().start(false);
  EXPECT_EQ(sim_.pending_timers(), 1u);
  follower_.reset();
  EXPECT_EQ(sim_.pending_timers(), 0u);
  write("x\n");
  sim_.advance(kPoll);
  EXPECT_TRUE(lines_.empty());
}

}  // namespace
}  // namespace kna
