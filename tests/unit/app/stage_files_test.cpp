// Files a stage needs before launch: written atomically with their mode, and left alone when
// unchanged (a kubelet watching its manifest folder must not see a rewrite).

#include "app/stage_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace kna::app {
namespace {

namespace fs = std::filesystem;

class StageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kna-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static struct stat stat_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st;
  }
  StageSpec spec_with(const std::string& content, unsigned mode) const {
    StageSpec spec;
    spec.name = "kubelet";
    spec.files.push_back(
        StageFile{(dir / "manifests" / "kube-apiserver.json").string(), content, mode});
    return spec;
  }

  fs::path dir;
};

TEST_F(StageFiles, WritesAMissingFileWithItsModeAndCreatesItsFolder) {
  ASSERT_TRUE(prepare_stage_host(spec_with("{\"kind\":\"Pod\"}\n", 0600)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  EXPECT_EQ(read(file), "{\"kind\":\"Pod\"}\n");
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600u);
}

TEST_F(StageFiles, LeavesAnUnchangedFileAlone) {
  ASSERT_TRUE(prepare_stage_host(spec_with("same\n", 0644)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  const auto before = stat_of(file);
  ASSERT_TRUE(prepare_stage_host(spec_with("same\n", 0644)));
  EXPECT_EQ(stat_of(file).st_ino, before.st_ino);  // a rewrite renames a new inode in
}

TEST_F(StageFiles, ReplacesAChangedFileOrMode) {
  ASSERT_TRUE(prepare_stage_host(spec_with("old\n", 0644)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  ASSERT_TRUE(prepare_stage_host(spec_with("new\n", 0644)));
  EXPECT_EQ(read(file), "new\n");
  ASSERT_TRUE(prepare_stage_host(spec_with("new\n", 0600)));
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600u);
}

TEST_F(StageFiles, AFolderThatCannotBeCreatedIsAnErrorNamingIt) {
  { std::ofstream(dir / "manifests") << "a file where the folder should be"; }
  const auto prepared = prepare_stage_host(spec_with("x", 0644));
  ASSERT_FALSE(prepared);
  EXPECT_NE(prepared.error().message.find((dir / "manifests" / "kube-apiserver.json").string()),
            std::string::npos)
      << prepared.error().message;
}

}  // namespace
}  // namespace kna::app
