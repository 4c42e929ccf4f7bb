#include "runtime/file_watch.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace kna {
namespace {

namespace fs = std::filesystem;

class FileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-watch-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the loop until `changes` reaches `want` or 5 s pass.
  void run_until(int want) {
    for (int i = 0; i < 500 && changes_ < want; ++i) {
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
    }
  }

  boost::asio::io_context io_;
  std::string dir_;
  int changes_{0};
};

TEST_F(FileWatchTest, SeesWritesRenamesAndRemovalsOfItsFileOnly) {
  FileWatcher watcher(io_, dir_ + "/flannel", "subnet.env", [this] { ++changes_; });
  ASSERT_TRUE(watcher.start().ok());
  ASSERT_TRUE(fs::is_directory(dir_ + "/flannel")) << "the folder is created";

  std::ofstream(dir_ + "/flannel/other.txt") << "x";
  io_.run_for(std::chrono::milliseconds(50));
  io_.restart();
  EXPECT_EQ(changes_, 0) << "another file in the folder is not a change";

  std::ofstream(dir_ + "/flannel/subnet.env.tmp") << "FLANNEL_SUBNET=10.1.2.1/24\n";
  std::rename((dir_ + "/flannel/subnet.env.tmp").c_str(), (dir_ + "/flannel/subnet.env").c_str());
  run_until(1);
  EXPECT_GE(changes_, 1) << "rename into place";

  const int before = changes_;
  std::ofstream(dir_ + "/flannel/subnet.env", std::ios::app) << "X=1\n";
  run_until(before + 1);
  EXPECT_GT(changes_, before) << "write in place";

  const int before_rm = changes_;
  fs::remove(dir_ + "/flannel/subnet.env");
  run_until(before_rm + 1);
  EXPECT_GT(changes_, before_rm) << "removal";
}

TEST_F(FileWatchTest, StopEndsNotifications) {
  FileWatcher watcher(io_, dir_, "f", [this] { ++changes_; });
  ASSERT_TRUE(watcher.start().ok());
  watcher.stop();
  std::ofstream(dir_ + "/f") << "x";
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(changes_, 0);
}

}  // namespace
}  // namespace kna
