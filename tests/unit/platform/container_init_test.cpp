// PID-1 duties in a container: cgroups set up as wrapdocker (v1) and moby's dind (v2) did, against
// a fake /proc and cgroup tree with recorded mounts; and for real, in a mount namespace of its
// own, where this machine lets the test mount.

#include "platform/container_init.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>

namespace kna {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct RecordingMounts final : MountOps {
  Status mount(const std::string& source, const std::string& target, const std::string& type,
               unsigned long flags, const std::string& data) override {
    calls.push_back(type + " " + source + " " + target + (data.empty() ? "" : " " + data) +
                    (flags != 0 ? " flags" : ""));
    if (!refuse.empty()) return Error{refuse};
    points.insert(target);
    return kOk;
  }
  bool is_mount_point(const std::string& path) override { return points.count(path) > 0; }
  std::vector<std::string> calls;
  std::set<std::string> points;
  std::string refuse;
};

class ContainerInitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-init-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    tree.proc = dir_ + "/proc";
    tree.cgroup_root = dir_ + "/sys/fs/cgroup";
    fs::create_directories(tree.proc + "/1");
    fs::create_directories(tree.proc + "/self");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string read(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::string dir_;
  CgroupTree tree;
  RecordingMounts mounts;
};

// balenaOS: cgroup v1, as /proc/1/cgroup of a privileged container lists it.
constexpr const char* kBalenaV1 =
    "11:name=systemd:/docker/abc\n"
    "10:cpu,cpuacct:/docker/abc\n"
    "9:memory:/docker/abc\n"
    "8:devices:/docker/abc\n"
    "7:pids:/docker/abc\n"
    "0::/docker/abc\n";

TEST_F(ContainerInitTest, CgroupV1MountsATmpfsAndEveryHierarchyAsWrapdockerDid) {
  write(tree.proc + "/1/cgroup", kBalenaV1);
  auto steps = setup_cgroups(tree, mounts);
  ASSERT_TRUE(steps) << steps.error().message;
  const std::string root = tree.cgroup_root;
  EXPECT_THAT(mounts.calls, ElementsAre("tmpfs cgroup " + root + " uid=0,gid=0,mode=0755",
                                        "cgroup cgroup " + root + "/systemd none,name=systemd",
                                        "cgroup cgroup " + root + "/cpu,cpuacct cpu,cpuacct",
                                        "cgroup cgroup " + root + "/memory memory",
                                        "cgroup cgroup " + root + "/devices devices",
                                        "cgroup cgroup " + root + "/pids pids"));
  EXPECT_EQ(fs::read_symlink(root + "/cpu"), "cpu,cpuacct");
  EXPECT_EQ(fs::read_symlink(root + "/cpuacct"), "cpu,cpuacct");
  EXPECT_EQ(steps.value().size(), 8u) << "tmpfs, five hierarchies, two links";
}

TEST_F(ContainerInitTest, CgroupV1IsIdempotent) {
  write(tree.proc + "/1/cgroup", kBalenaV1);
  ASSERT_TRUE(setup_cgroups(tree, mounts));
  mounts.calls.clear();
  auto again = setup_cgroups(tree, mounts);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_THAT(mounts.calls, ElementsAre());
  EXPECT_THAT(again.value(), ElementsAre());
}

TEST_F(ContainerInitTest, WithoutThePrivilegeToMountTheErrorSaysPrivileged) {
  write(tree.proc + "/1/cgroup", kBalenaV1);
  mounts.refuse = "cgroups cannot be mounted: run the container with --privileged (mount: EPERM)";
  auto steps = setup_cgroups(tree, mounts);
  ASSERT_FALSE(steps);
  EXPECT_THAT(steps.error().message, HasSubstr("--privileged"));
}

TEST_F(ContainerInitTest, CgroupV2MovesEveryProcessIntoInitAndEnablesTheControllers) {
  write(tree.cgroup_root + "/cgroup.controllers", "cpuset cpu io memory pids\n");
  write(tree.cgroup_root + "/cgroup.procs", "1\n17\n23\n");
  write(tree.cgroup_root + "/cgroup.subtree_control", "");
  write(tree.cgroup_root + "/init/cgroup.procs", "");
  write(tree.proc + "/self/cgroup", "0::/\n");
  auto steps = setup_cgroups(tree, mounts);
  ASSERT_TRUE(steps) << steps.error().message;
  EXPECT_THAT(mounts.calls, ElementsAre()) << "already mounted";
  EXPECT_EQ(read(tree.cgroup_root + "/init/cgroup.procs"), "11723") << "one write per pid";
  EXPECT_EQ(read(tree.cgroup_root + "/cgroup.subtree_control"), "+cpuset +cpu +io +memory +pids");
  EXPECT_THAT(steps.value(), ElementsAre(HasSubstr("moved 3 processes into"),
                                         HasSubstr("enabled +cpuset +cpu +io +memory +pids")));
}

TEST_F(ContainerInitTest, CgroupV2WorksInTheAgentsOwnGroupOutsideACgroupNamespace) {
  const std::string own = tree.cgroup_root + "/system.slice/agent";
  write(tree.cgroup_root + "/cgroup.controllers", "cpu memory pids\n");
  write(own + "/cgroup.controllers", "memory pids\n");
  write(own + "/cgroup.procs", "42\n");
  write(own + "/cgroup.subtree_control", "");
  write(own + "/init/cgroup.procs", "");
  write(tree.proc + "/self/cgroup", "0::/system.slice/agent\n");
  auto steps = setup_cgroups(tree, mounts);
  ASSERT_TRUE(steps) << steps.error().message;
  EXPECT_EQ(read(own + "/init/cgroup.procs"), "42");
  EXPECT_EQ(read(own + "/cgroup.subtree_control"), "+memory +pids");
  EXPECT_EQ(read(tree.cgroup_root + "/cgroup.procs"), "") << "the host's root group untouched";
}

TEST_F(ContainerInitTest, NothingMountedAndOnlyTheV2LineMountsCgroup2) {
  write(tree.proc + "/1/cgroup", "0::/\n");
  write(tree.proc + "/self/cgroup", "0::/\n");
  write(tree.cgroup_root + "/cgroup.procs", "");
  auto steps = setup_cgroups(tree, mounts);
  // The fake mount leaves no cgroup.controllers behind: the set-up reports what is missing.
  ASSERT_FALSE(steps);
  EXPECT_THAT(mounts.calls, ElementsAre("cgroup2 cgroup2 " + tree.cgroup_root));
  EXPECT_THAT(steps.error().message, HasSubstr("cgroup.controllers"));
}

TEST_F(ContainerInitTest, AMissingProcFileIsNamed) {
  auto steps = setup_cgroups(tree, mounts);
  ASSERT_FALSE(steps);
  EXPECT_THAT(steps.error().message, HasSubstr(tree.proc + "/1/cgroup"));
}

// For real: a child in a mount namespace of its own mounts the hierarchies this machine lists
// under a temporary folder (cgroup v1 and hybrid machines), or reports why it cannot.
TEST_F(ContainerInitTest, ForRealInAMountNamespaceOfItsOwn) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers"))
    GTEST_SKIP() << "cgroup v2 only: moving this machine's processes is not done in a test";
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    auto say = [&](const std::string& text) {
      (void)!::write(pipefd[1], text.data(), text.size());
      ::_exit(0);
    };
    if (::unshare(CLONE_NEWNS) != 0)
      say("skip: unshare(CLONE_NEWNS): " + std::string(strerror(errno)));
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      say("skip: cannot make / private: " + std::string(strerror(errno)));
    CgroupTree real{"/proc", dir_ + "/cgroup"};
    auto steps = setup_cgroups(real, system_mounts());
    if (!steps) {
      say(steps.error().message.find("--privileged") != std::string::npos
              ? "skip: " + steps.error().message
              : "error: " + steps.error().message);
    }
    auto again = setup_cgroups(real, system_mounts());
    std::string out = "ok " + std::to_string(steps.value().size()) + " " +
                      std::to_string(again ? again.value().size() : 999);
    out += fs::exists(dir_ + "/cgroup/memory/memory.limit_in_bytes") ? " memory" : " no-memory";
    out += fs::exists(dir_ + "/cgroup/pids/cgroup.procs") ? " pids" : " no-pids";
    say(out);
  }
  ::close(pipefd[1]);
  std::string result;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof(buf))) > 0;)
    result.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (result.rfind("skip: ", 0) == 0) GTEST_SKIP() << result.substr(6);
  ASSERT_EQ(result.rfind("ok ", 0), 0u) << result;
  EXPECT_THAT(result, HasSubstr(" 0 memory pids")) << "the second run does nothing: " << result;
  EXPECT_FALSE(fs::exists(dir_ + "/cgroup/memory/memory.limit_in_bytes"))
      << "the mounts stayed in the child's namespace";
}

}  // namespace
}  // namespace kna
