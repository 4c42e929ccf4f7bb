// The host steps' executors: files written atomically with their mode and left alone when
// unchanged (a kubelet watching its manifest folder must not see a rewrite), missing folders
// created, and the stale-bridge rule. Errors name what failed.

#include "app/host_steps.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clients/cluster_discovery.hpp"
#include "support/fake_cluster_info.hpp"

namespace kna::app {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

class HostSteps : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kna-steps-XXXXXX").string();
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
  WriteFile manifest(const std::string& content, unsigned mode) const {
    return WriteFile{(dir / "manifests" / "kube-apiserver.json").string(), content, mode};
  }

  fs::path dir;
};

TEST_F(HostSteps, WritesAMissingFileWithItsModeAndCreatesItsFolder) {
  ASSERT_TRUE(write_file("kubelet", manifest("{\"kind\":\"Pod\"}\n", 0600)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  EXPECT_EQ(read(file), "{\"kind\":\"Pod\"}\n");
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600u);
}

TEST_F(HostSteps, LeavesAnUnchangedFileAlone) {
  ASSERT_TRUE(write_file("kubelet", manifest("same\n", 0644)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  const auto before = stat_of(file);
  ASSERT_TRUE(write_file("kubelet", manifest("same\n", 0644)));
  EXPECT_EQ(stat_of(file).st_ino, before.st_ino);  // a rewrite renames a new inode in
}

TEST_F(HostSteps, ReplacesAChangedFileOrMode) {
  ASSERT_TRUE(write_file("kubelet", manifest("old\n", 0644)));
  const fs::path file = dir / "manifests" / "kube-apiserver.json";
  const auto before = stat_of(file);
  ASSERT_TRUE(write_file("kubelet", manifest("new\n", 0644)));
  EXPECT_EQ(read(file), "new\n");
  EXPECT_NE(stat_of(file).st_ino, before.st_ino);
  ASSERT_TRUE(write_file("kubelet", manifest("new\n", 0600)));
  EXPECT_EQ(stat_of(file).st_mode & 07777, 0600u);
}

TEST_F(HostSteps, AFolderThatCannotBeCreatedIsAnErrorNamingTheFile) {
  { std::ofstream(dir / "manifests") << "a file where the folder should be"; }
  const auto written = write_file("kubelet", manifest("x", 0644));
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error().message,
              HasSubstr((dir / "manifests" / "kube-apiserver.json").string()));
}

TEST_F(HostSteps, AFileThatCannotBeWrittenIsAnErrorNamingIt) {
  // A folder where the file should be: the rename cannot replace it.
  fs::create_directories(dir / "manifests" / "kube-apiserver.json" / "inside");
  const auto written = run_host_step("kubelet", HostStep{manifest("x", 0644)});
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error().message,
              HasSubstr("cannot write \"" + (dir / "manifests" / "kube-apiserver.json").string()));
}

TEST_F(HostSteps, CreatesTheMissingFoldersAndLeavesTheOthers) {
  fs::create_directories(dir / "there");
  { std::ofstream(dir / "there" / "keep") << "x"; }
  const MakeDirs step{{(dir / "there").string(), (dir / "a" / "b").string()}};
  ASSERT_TRUE(run_host_step("etcd", step));
  EXPECT_TRUE(fs::is_directory(dir / "a" / "b"));
  EXPECT_TRUE(fs::exists(dir / "there" / "keep"));
}

TEST_F(HostSteps, AFolderThatCannotBeMadeIsAnErrorNamingIt) {
  { std::ofstream(dir / "file") << "x"; }
  const std::string wanted = (dir / "file" / "data").string();
  const auto made = make_dirs("etcd", MakeDirs{{wanted}});
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().message, HasSubstr("cannot create " + wanted));
}

TEST(BridgeIsStale, OnlyAnExistingLinkWithoutTheWantedAddress) {
  EXPECT_FALSE(bridge_is_stale(false, std::nullopt, "10.1.33.1/24"));
  EXPECT_FALSE(bridge_is_stale(true, "10.1.33.1/24", "10.1.33.1/24"));
  EXPECT_TRUE(bridge_is_stale(true, "172.17.0.1/16", "10.1.33.1/24"));
  EXPECT_TRUE(bridge_is_stale(true, "10.1.33.1/16", "10.1.33.1/24"));  // same address, other net
  EXPECT_TRUE(bridge_is_stale(true, std::nullopt, "10.1.33.1/24"));    // no IPv4 address at all
}

TEST(DeleteStaleBridge, AMissingLinkIsLeftAlone) {
  // No root needed: a link that does not exist is never deleted.
  EXPECT_TRUE(delete_stale_bridge("main-docker", DeleteStaleBridge{"kna-none0", "10.1.33.1/24"}));
}

// Joining by token and pin: discovery writes the CA and the bootstrap kubeconfig (0600); a
// restart whose files match asks the API server nothing; another pin asks again.
TEST_F(HostSteps, DiscoveryWritesTheCaAndBootstrapKubeconfigOnceAndAsksAgainForAnotherPin) {
  if (!test::pki().skip_reason.empty()) GTEST_SKIP() << test::pki().skip_reason;
  ASSERT_TRUE(test::pki().made) << "openssl could not make the test certificates";
  auto server = std::make_unique<test::FakeApiServer>();
  server->serve_ca("ca.crt", {test::kToken});
  const DiscoverCluster step{server->url(), test::pki().pin("ca.crt"), test::kToken,
                             (dir / "state" / "cluster-ca.crt").string(),
                             (dir / "state" / "bootstrap-kubeconfig").string()};
  ASSERT_TRUE(discover_cluster("kubelet", step));
  const std::string ca = test::slurp(test::pki().path("ca.crt"));
  EXPECT_EQ(read(step.ca_file), ca);
  EXPECT_EQ(stat_of(step.ca_file).st_mode & 07777, 0600u);
  EXPECT_EQ(read(step.kubeconfig), bootstrap_kubeconfig(server->url(), ca, test::kToken));
  EXPECT_EQ(stat_of(step.kubeconfig).st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(step.ca_file + ".candidate"));

  const std::string url = server->url();
  server.reset();  // nobody answers now
  DiscoverCluster again = step;
  again.api_server = url;
  EXPECT_TRUE(discover_cluster("kubelet", again)) << "the files match: nothing is asked";

  again.ca_cert_hash = test::pki().pin("other-ca.crt");
  auto refused = discover_cluster("kubelet", again);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("is not reachable"));
  EXPECT_EQ(read(step.ca_file), ca) << "a failed discovery keeps what was accepted before";
}

}  // namespace
}  // namespace kna::app
