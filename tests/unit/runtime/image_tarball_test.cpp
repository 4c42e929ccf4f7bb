// Reading a `docker save` tarball's image names from its tar headers and manifest.json, without
// reading its layers; and docker's name forms.
#include "runtime/image_tarball.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "unit/runtime/tar_writer.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;
using Tags = std::vector<std::string>;

class ImageTarballTest : public ::testing::Test {
 protected:
  ImageTarballTest() {
    char tmpl[] = "/tmp/kna-tarball-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~ImageTarballTest() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  static Tags tags_of(const std::string& file) {
    auto r = read_tarball_tags(file);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r ? r.value().repo_tags : Tags{};
  }
  static std::string error_of(const std::string& file) {
    auto r = read_tarball_tags(file);
    EXPECT_FALSE(r.ok());
    return r ? std::string() : r.error().message;
  }

  std::string dir_;
};

TEST_F(ImageTarballTest, ReadsEveryRepoTagOfTheManifest) {
  {
    test::TarWriter tar(path("two.tar"));
    tar.file("layer/layer.tar", "bytes");
    tar.file(
        "manifest.json",
        test::manifest_json({{"kna-test/etcd:3.4", "kna-test/etcd:latest"}, {}, {"busybox:1"}}));
  }
  auto r = read_tarball_tags(path("two.tar"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().repo_tags, (Tags{"kna-test/etcd:3.4", "kna-test/etcd:latest", "busybox:1"}));
  EXPECT_EQ(r.value().source, "manifest.json");
}

TEST_F(ImageTarballTest, SeeksOverABigLayerInsteadOfReadingIt) {
  constexpr std::uint64_t kLayer = std::uint64_t{1} << 30;  // a hole: costs no disk
  {
    test::TarWriter tar(path("big.tar"));
    tar.file("config.json", "{}");
    tar.hole("aaaa/layer.tar", kLayer);
    tar.file("manifest.json", test::manifest_json({{"kna-test/hyperkube:standin"}}));
  }
  ASSERT_GT(fs::file_size(path("big.tar")), kLayer);
  auto r = read_tarball_tags(path("big.tar"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().repo_tags, Tags{"kna-test/hyperkube:standin"});
  EXPECT_LT(r.value().bytes_read, 4096u);  // three headers and the manifest
}

// Where off_t, size_t and long are 32 bits (armhf), a file past 2 GiB fails fstat with EOVERFLOW
// and offsets past 4 GiB wrap unless the build uses 64-bit file offsets: the manifest here starts
// past 5 GiB.
TEST_F(ImageTarballTest, FindsAManifestPastFiveGiB) {
  constexpr std::uint64_t kLayer = std::uint64_t{5} << 30;  // a hole: costs no disk
  {
    test::TarWriter tar(path("huge.tar"));
    tar.hole("bbbb/layer.tar", kLayer);
    tar.file("manifest.json", test::manifest_json({{"kna-test/flannel:standin"}}));
  }
  ASSERT_GT(fs::file_size(path("huge.tar")), kLayer);
  auto r = read_tarball_tags(path("huge.tar"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().repo_tags, Tags{"kna-test/flannel:standin"});
  EXPECT_LT(r.value().bytes_read, 4096u);
  // The cached index reads the same file by size and modification time: 64-bit there too.
  const auto entry = TarballIndex{}.lookup(path("huge.tar"));
  ASSERT_TRUE(entry.repo_tags.has_value());
  EXPECT_EQ(*entry.repo_tags, Tags{"kna-test/flannel:standin"});
  EXPECT_NE(entry.identity.find(":" + std::to_string(fs::file_size(path("huge.tar"))) + ":"),
            std::string::npos)
      << entry.identity;
}

TEST_F(ImageTarballTest, ReadsTheRepositoriesFileOfAnOlderTarball) {
  {
    test::TarWriter tar(path("old.tar"));
    tar.file("aaaa/layer.tar", "bytes");
    tar.file("repositories", R"({"kna-test/flannel":{"standin":"aaaa","0.5.5":"aaaa"}})");
  }
  auto r = read_tarball_tags(path("old.tar"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().repo_tags, (Tags{"kna-test/flannel:0.5.5", "kna-test/flannel:standin"}));
  EXPECT_EQ(r.value().source, "repositories");
}

TEST_F(ImageTarballTest, PrefersTheManifestOverAnEarlierRepositoriesFile) {
  {
    test::TarWriter tar(path("both.tar"));
    tar.file("repositories", R"({"old/name":{"1":"aaaa"}})");
    tar.file("manifest.json", test::manifest_json({{"new/name:1"}}));
  }
  EXPECT_EQ(tags_of(path("both.tar")), Tags{"new/name:1"});
}

TEST_F(ImageTarballTest, AFileThatIsNotATarIsAnError) {
  std::ofstream(path("text.tar")) << std::string(2048, 'x');
  EXPECT_EQ(error_of(path("text.tar")), "not a tar archive");
  std::ofstream(path("short.tar")) << "hello";
  EXPECT_EQ(error_of(path("short.tar")), "not a tar archive (shorter than one header)");
  std::ofstream(path("empty.tar")).close();
  EXPECT_EQ(error_of(path("empty.tar")), "not a tar archive (shorter than one header)");
  EXPECT_EQ(error_of(path("absent.tar")).rfind("cannot open it: ", 0), 0u);
}

TEST_F(ImageTarballTest, ATarWithoutManifestIsAnError) {
  {
    test::TarWriter tar(path("plain.tar"));
    tar.file("etc/hostname", "node\n");
    tar.file("manifest.json.bak", "[]");
  }
  EXPECT_EQ(error_of(path("plain.tar")), "it holds neither manifest.json nor repositories");
}

TEST_F(ImageTarballTest, AManifestInASubfolderIsNotDockers) {
  {
    test::TarWriter tar(path("nested.tar"));
    tar.file("manifest.json", test::manifest_json({{"a:1"}}), "image");  // ustar prefix: image/
  }
  EXPECT_EQ(error_of(path("nested.tar")), "it holds neither manifest.json nor repositories");
}

TEST_F(ImageTarballTest, ATruncatedTarIsAnError) {
  test::TarWriter(path("cut.tar")).truncated_entry("aaaa/layer.tar", 10'000);
  EXPECT_EQ(error_of(path("cut.tar")),
            "not a complete tar archive (the entry at 0 ends past the end)");
}

TEST_F(ImageTarballTest, ABadManifestIsAnError) {
  {
    test::TarWriter tar(path("bad.tar"));
    tar.file("manifest.json", "{not json");
  }
  EXPECT_EQ(error_of(path("bad.tar")).rfind("its manifest.json cannot be read: ", 0), 0u);
  {
    test::TarWriter tar(path("object.tar"));
    tar.file("manifest.json", R"({"RepoTags":["a:1"]})");
  }
  EXPECT_EQ(error_of(path("object.tar")),
            "its manifest.json cannot be read: manifest.json is not a JSON array");
}

TEST_F(ImageTarballTest, AGnuLongNameNamesOnlyTheNextEntry) {
  const std::string long_dir(150, 'd');
  {
    test::TarWriter tar(path("gnu.tar"));
    tar.gnu_long_name(long_dir + "/manifest.json");
    tar.file("manifest.json", test::manifest_json({{"wrong:1"}}));  // really deep inside
    tar.gnu_long_name(long_dir + "/layer.tar");
    tar.hole(long_dir.substr(0, 100), 5000);
    tar.file("manifest.json", test::manifest_json({{"right:1"}}));
  }
  EXPECT_EQ(tags_of(path("gnu.tar")), Tags{"right:1"});
}

TEST_F(ImageTarballTest, APaxPathNamesTheNextEntry) {
  {
    test::TarWriter tar(path("pax.tar"));
    tar.pax_path("manifest.json");
    tar.file("PaxHeaders/manifest.json", test::manifest_json({{"pax:1"}}));
  }
  EXPECT_EQ(tags_of(path("pax.tar")), Tags{"pax:1"});
}

TEST_F(ImageTarballTest, ReadsWhatTheTarToolWrites) {
  // GNU tar's own format: "./" names and a long-name entry for the deep layer folder.
  const std::string src = path("src");
  const std::string deep = src + "/" + std::string(120, 'e');
  fs::create_directories(deep);
  std::ofstream(deep + "/layer.tar") << std::string(100'000, 'l');
  std::ofstream(src + "/manifest.json") << test::manifest_json({{"kna-test/etcd:3.4"}});
  const std::string cmd = "tar -C " + src + " -cf " + path("gnu-tool.tar") + " .";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(tags_of(path("gnu-tool.tar")), Tags{"kna-test/etcd:3.4"});
}

TEST(ImageRefs, DockerNameFormsCompareEqual) {
  EXPECT_EQ(normalize_image_ref("busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image_ref("busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_image_ref("library/busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_image_ref("docker.io/library/busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_image_ref("index.docker.io/library/busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image_ref("docker.io/busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image_ref("kna-test/etcd:3.4"), "kna-test/etcd:3.4");
  EXPECT_EQ(normalize_image_ref("docker.io/kna-test/etcd:3.4"), "kna-test/etcd:3.4");
  EXPECT_EQ(normalize_image_ref("gcr.io/google_containers/etcd-arm:2.2.5"),
            "gcr.io/google_containers/etcd-arm:2.2.5");
  EXPECT_EQ(normalize_image_ref("localhost:5000/library/x"), "localhost:5000/library/x:latest");
  EXPECT_EQ(normalize_image_ref("quay.io/library/x:1"), "quay.io/library/x:1");
  EXPECT_EQ(normalize_image_ref("docker.io/library/a/b:1"), "library/a/b:1");
  EXPECT_EQ(normalize_image_ref("busybox@sha256:abcd"), "busybox@sha256:abcd");
}

TEST_F(ImageTarballTest, TheIndexReadsATarballOnceUntilItIsReplaced) {
  const std::string file = path("img.tar");
  test::write_image_tarball(file, {"a:1"});
  const auto mtime = fs::last_write_time(file);
  TarballIndex index;
  const auto first = index.lookup(file);
  ASSERT_TRUE(first.repo_tags);
  EXPECT_EQ(*first.repo_tags, Tags{"a:1"});

  // Same size and time: taken for the same file, not read again.
  test::write_image_tarball(file, {"b:1"});
  fs::last_write_time(file, mtime);
  EXPECT_EQ(index.lookup(file).identity, first.identity);
  EXPECT_EQ(*index.lookup(file).repo_tags, Tags{"a:1"});

  // Replaced (another time): read anew.
  fs::last_write_time(file, mtime + std::chrono::seconds(5));
  const auto again = index.lookup(file);
  EXPECT_NE(again.identity, first.identity);
  ASSERT_TRUE(again.repo_tags);
  EXPECT_EQ(*again.repo_tags, Tags{"b:1"});
}

TEST_F(ImageTarballTest, TheIndexHasNoTagsForAnUnreadableOrUntaggedTarball) {
  std::ofstream(path("junk.tar")) << std::string(600, 'j');
  {
    test::TarWriter tar(path("by-id.tar"));
    tar.file("manifest.json", test::manifest_json({{}}));  // saved by id: RepoTags null
  }
  TarballIndex index;
  EXPECT_FALSE(index.lookup(path("junk.tar")).repo_tags);
  EXPECT_FALSE(index.lookup(path("by-id.tar")).repo_tags);
}

}  // namespace
}  // namespace kna
