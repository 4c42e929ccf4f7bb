#include "platform/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace kna {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("atomic-file." + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesTheContentWithTheMode) {
  const auto path = dir_ / "state.json";
  const auto r = write_file_atomically(path, "{\"a\": 1}\n", 0600);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read(path), "{\"a\": 1}\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A kubeconfig holding a token: a world-readable file left by someone else is replaced by a new
// file that was 0600 from its creation (written under a temporary name, then renamed), so the
// token is never readable by others, not even for a moment.
TEST_F(AtomicFileTest, ReplacesALooserFileWithOneThatNeverHadItsMode) {
  const auto path = dir_ / "kubeconfig";
  std::ofstream(path) << "old";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  const auto r = write_file_atomically(path, "token: abc\n", 0600);
  ASSERT_TRUE(r.ok()) << r.error().message;
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_NE(after.st_ino, before.st_ino) << "the old file's inode (and mode) was reused";
  EXPECT_EQ(read(path), "token: abc\n");
}

TEST_F(AtomicFileTest, ReplacesAnExistingFileAndLeavesNoTemporaryFile) {
  const auto path = dir_ / "subnet.env";
  ASSERT_TRUE(write_file_atomically(path, "old content that is longer\n").ok());
  ASSERT_TRUE(write_file_atomically(path, "new\n").ok());
  EXPECT_EQ(read(path), "new\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(AtomicFileTest, EmptyContentMakesAnEmptyFile) {
  const auto path = dir_ / "empty";
  ASSERT_TRUE(write_file_atomically(path, "").ok());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST_F(AtomicFileTest, MissingDirectoryIsAClearError) {
  const auto path = dir_ / "no-such-dir" / "file";
  const auto r = write_file_atomically(path, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot write \"" + path.string() +
                                   "\": create temporary file: No such file or directory");
}

TEST_F(AtomicFileTest, FailedRenameKeepsTheOldFileAndRemovesTheTemporaryOne) {
  const auto path = dir_ / "is-a-dir";
  fs::create_directories(path / "child");  // rename onto a non-empty directory fails
  const auto r = write_file_atomically(path, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(": rename: "), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_directory(path / "child"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace kna
