// The agent's checkpoint: what it keeps, and that one from another boot, of another version or
// not readable is ignored rather than trusted.

#include "app/checkpoint.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "support/loop_util.hpp"

namespace kna::app {
namespace {

namespace fs = std::filesystem;

Checkpoint sample() {
  ExitStatus killed;
  killed.cause = ExitStatus::Cause::exited;
  killed.signaled = true;
  killed.code = 9;
  killed.detail = "oom";
  return Checkpoint{"boot-1",
                    2,
                    {{"bootstrap-docker", 3, killed, "'pid 7' exited: signal 9 (SIGKILL)"},
                     {"kubelet", 0, std::nullopt, ""}}};
}

class CheckpointFile : public ::testing::Test {
 protected:
  CheckpointFile()
      : path_(fs::path(::testing::TempDir()) / ("checkpoint." + std::to_string(::getpid()))) {}
  ~CheckpointFile() override { fs::remove(path_); }
  fs::path path_;
  test::LogCapture log_;
};

TEST(Checkpoint, RoundTripsEveryField) {
  const auto cp = sample();
  auto back = parse_checkpoint(to_json(cp));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value(), cp);
}

TEST(Checkpoint, BadTextIsAnErrorNamingWhatIsWrong) {
  EXPECT_EQ(parse_checkpoint("not json").error().message, "not a JSON object");
  EXPECT_EQ(parse_checkpoint(R"({"version":7,"boot_id":"b","agent_restarts":0,"stages":[]})")
                .error()
                .message,
            "format version 7 (this agent reads 1)");
  EXPECT_FALSE(parse_checkpoint(R"({"version":1,"boot_id":"b","agent_restarts":0})"));
  EXPECT_FALSE(parse_checkpoint(
      R"({"version":1,"boot_id":"b","agent_restarts":0,"stages":[{"stage":"a","restarts":-1,"last_error":""}]})"));
  EXPECT_FALSE(parse_checkpoint(
      R"({"version":1,"boot_id":"b","agent_restarts":0,"stages":[{"stage":"a","restarts":1,"last_error":"","last_exit":{"cause":"eaten","signaled":false,"code":0,"detail":""}}]})"));
}

TEST_F(CheckpointFile, SavedAndLoadedInTheSameBoot) {
  ASSERT_TRUE(save_checkpoint(path_, sample()));
  auto loaded = load_checkpoint(path_, "boot-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, sample());
}

TEST_F(CheckpointFile, OneFromAnotherBootIsIgnoredWithALogLine) {
  ASSERT_TRUE(save_checkpoint(path_, sample()));
  EXPECT_FALSE(load_checkpoint(path_, "boot-2"));
  EXPECT_TRUE(log_.contains("ignored: written in another boot (boot-1)"));
}

TEST_F(CheckpointFile, AnUnreadableOneIsIgnoredWithALogLine) {
  std::ofstream(path_) << R"({"version":99})";
  EXPECT_FALSE(load_checkpoint(path_, "boot-1"));
  EXPECT_TRUE(log_.contains("ignored: format version 99"));
}

TEST_F(CheckpointFile, NoneIsNoCheckpoint) {
  EXPECT_FALSE(load_checkpoint(path_, "boot-1"));
}

TEST(Checkpoint, HistoriesComeFromStatus) {
  StageStatus s;
  s.name = "etcd";
  s.restarts = 4;
  s.last_error = "x";
  const auto h = histories({s});
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0], (StageHistory{"etcd", 4, std::nullopt, "x"}));
}

// The writer runs on a thread: poll (bounded) for what it is to write.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST_F(CheckpointFile, TheWriterWritesTheNewestSubmittedOneOffTheCallersThread) {
  CheckpointWriter writer(path_.string());
  auto older = sample();
  older.agent_restarts = 1;
  writer.submit(older);
  writer.submit(sample());
  EXPECT_TRUE(eventually([&] {
    auto loaded = load_checkpoint(path_, "boot-1");
    return loaded && *loaded == sample();
  }));
}

TEST_F(CheckpointFile, WriteNowIsOnDiskWhenItReturns) {
  CheckpointWriter writer(path_.string());
  ASSERT_TRUE(writer.write_now(sample()));
  auto loaded = load_checkpoint(path_, "boot-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, sample());
}

TEST_F(CheckpointFile, RemoveDeletesItAndLaterSubmissionsAreIgnored) {
  CheckpointWriter writer(path_.string());
  ASSERT_TRUE(writer.write_now(sample()));
  writer.remove();
  EXPECT_FALSE(fs::exists(path_));
  writer.submit(sample());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(fs::exists(path_)) << "an ordered stop's removal must stay removed";
}

}  // namespace
}  // namespace kna::app
