// The pure half of `reset`: which mount points come off and in which order, what is removed with
// and without --data (never a system folder, never the airgap images), which links go, and how a
// dead agent's dockerd and its helpers are recognised by their command line.

#include "app/reset.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/reset_proc.hpp"

namespace kna::app {
namespace {

using testing::Contains;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::Not;

// Every path under /srv/n, as tests/integration/agent/lib.sh lays a node out.
Config node(Role role) {
  Config c = default_config();
  c.role = role;
  c.node_name = "n1";
  c.master_ip = "10.0.0.2";
  c.arch = "amd64";
  c.net_interface = "eth0";
  const std::string d = "/srv/n";
  Paths& p = c.paths;
  p.bootstrap_docker_socket = d + "/bootstrap/docker.sock";
  p.bootstrap_docker_data_root = d + "/bootstrap/data";
  p.bootstrap_docker_exec_root = d + "/bootstrap/exec";
  p.bootstrap_docker_pidfile = d + "/bootstrap/docker.pid";
  p.main_docker_socket = d + "/main/docker.sock";
  p.main_docker_data_root = d + "/main/data";
  p.main_docker_exec_root = d + "/main/exec";
  p.main_docker_pidfile = d + "/main/docker.pid";
  p.cri_dockerd_socket = d + "/cri-dockerd.sock";
  p.flannel_run_dir = d + "/flannel";
  p.etcd_data_dir = d + "/etcd";
  p.kubelet_dir = d + "/kubelet";
  p.kubelet_manifests_dir = d + "/manifests";
  p.container_logs_dir = d + "/containers";
  p.state_dir = d + "/state";
  p.run_dir = d + "/run";
  p.status_socket = d + "/run/agent.sock";
  p.image_dir = d + "/state/images";
  p.kubeconfig = d + "/state/kubeconfig";
  return c;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// --- mounts

// Field 5 is the mount point; a line per mount, in mount order.
std::string line(int id, const std::string& point) {
  return std::to_string(id) + " 1 0:1 / " + point + " rw shared:1 - tmpfs tmpfs rw\n";
}

TEST(ResetMounts, OnlyPointsBelowTheRootsDeepestFirst) {
  const std::string info = line(20, "/") + line(21, "/proc") + line(22, "/srv/n/kubelet") +
                           line(23, "/srv/n/kubelet/pods/p1/volumes/v") +
                           line(24, "/srv/n/main/data/overlay2/abc/merged") +
                           line(25, "/srv/n/main/exec/netns/ns1") +
                           line(26, "/srv/n/kubelet2/other") + line(27, "/srv/other");
  const auto points = mounts_to_unmount(
      info, {"/srv/n/kubelet", "/srv/n/main/data", "/srv/n/main/exec"}, {"/srv/n/kubelet"});
  EXPECT_THAT(points, ElementsAre("/srv/n/main/data/overlay2/abc/merged",
                                  "/srv/n/kubelet/pods/p1/volumes/v", "/srv/n/main/exec/netns/ns1",
                                  "/srv/n/kubelet"));
}

TEST(ResetMounts, ARootThatIsAMountOfItsOwnStaysUnlessTheAgentMadeIt) {
  // A disk at the data root is the operator's; the kubelet's shared bind mount is ours.
  const std::string info = line(30, "/srv/n/main/data") + line(31, "/srv/n/main/data/overlay2/x") +
                           line(32, "/srv/n/kubelet");
  EXPECT_THAT(mounts_to_unmount(info, {"/srv/n/main/data", "/srv/n/kubelet"}, {"/srv/n/kubelet"}),
              ElementsAre("/srv/n/main/data/overlay2/x", "/srv/n/kubelet"));
  EXPECT_THAT(mounts_to_unmount(info, {"/srv/n/main/data"}, {}),
              ElementsAre("/srv/n/main/data/overlay2/x"));
}

TEST(ResetMounts, APointMountedTwiceComesOffTwiceTopmostFirst) {
  const std::string info =
      line(40, "/srv/n/run/a") + line(41, "/srv/n/run/b") + line(42, "/srv/n/run/a");
  EXPECT_THAT(mounts_to_unmount(info, {"/srv/n/run"}, {}),
              ElementsAre("/srv/n/run/a", "/srv/n/run/b", "/srv/n/run/a"));
}

TEST(ResetMounts, EscapedPointsAreDecoded) {
  const std::string info = "50 1 0:1 / /srv/n/kubelet/pods/a\\040b rw - tmpfs tmpfs rw\n";
  EXPECT_THAT(mounts_to_unmount(info, {"/srv/n/kubelet"}, {}),
              ElementsAre("/srv/n/kubelet/pods/a b"));
}

TEST(ResetMounts, NothingMountedNothingToDo) {
  EXPECT_THAT(mounts_to_unmount(line(1, "/") + line(2, "/srv"), {"/srv/n/run"}, {}), IsEmpty());
  EXPECT_THAT(mounts_to_unmount("", {"/srv/n/run"}, {}), IsEmpty());
}

TEST(ResetPaths, UnderIsComponentWise) {
  EXPECT_TRUE(path_is_under("/a/b", "/a/b"));
  EXPECT_TRUE(path_is_under("/a/b/c", "/a/b"));
  EXPECT_TRUE(path_is_under("/a/b/c", "/a/b/"));
  EXPECT_TRUE(path_is_under("/a", "/"));
  EXPECT_FALSE(path_is_under("/a/bc", "/a/b"));
  EXPECT_FALSE(path_is_under("/a", "/a/b"));
}

// --- what is removed

TEST(ResetTargetsTest, WithoutDataOnlyWhatARunningNodeNeeds) {
  const auto t = reset_targets(node(Role::master), false);
  for (const char* p :
       {"/srv/n/run", "/srv/n/run/agent.sock", "/srv/n/bootstrap/docker.sock",
        "/srv/n/bootstrap/docker.pid", "/srv/n/bootstrap/exec", "/srv/n/main/docker.sock",
        "/srv/n/main/docker.pid", "/srv/n/main/exec", "/srv/n/state/checkpoint.json",
        "/srv/n/state/kubeconfig", "/srv/n/manifests/kube-apiserver.json"})
    EXPECT_THAT(t.remove, Contains(std::string(p)));
  for (const char* p : {"/srv/n/bootstrap/data", "/srv/n/main/data", "/srv/n/etcd",
                        "/srv/n/flannel/subnet.env", "/srv/n/kubelet", "/srv/n/state/logs",
                        "/srv/n/containers", "/srv/n/state", "/srv/n/state/images"})
    EXPECT_THAT(t.remove, Not(Contains(std::string(p))));
}

TEST(ResetTargetsTest, DataAddsDataRootsEtcdSubnetKubeletAndLogsButNeverTheImages) {
  const auto t = reset_targets(node(Role::master), true);
  for (const char* p :
       {"/srv/n/bootstrap/data", "/srv/n/main/data", "/srv/n/etcd", "/srv/n/flannel/subnet.env",
        "/srv/n/kubelet", "/srv/n/containers", "/srv/n/state/logs"})
    EXPECT_THAT(t.remove, Contains(std::string(p)));
  for (const auto& p : t.remove) EXPECT_FALSE(path_is_under("/srv/n/state/images", p)) << p;
  EXPECT_THAT(t.remove, Not(Contains(std::string("/srv/n/state"))));
}

TEST(ResetTargetsTest, AWorkerHasNoEtcdDataToRemove) {
  EXPECT_THAT(reset_targets(node(Role::worker), true).remove,
              Not(Contains(std::string("/srv/n/etcd"))));
}

TEST(ResetTargetsTest, EmptyFoldersArePrunedChildrenFirstNeverASystemFolder) {
  const auto t = reset_targets(node(Role::master), true);
  EXPECT_TRUE(has(t.prune, "/srv/n/bootstrap"));
  EXPECT_TRUE(has(t.prune, "/srv/n/state"));
  EXPECT_TRUE(has(t.prune, "/srv/n/flannel"));
  EXPECT_TRUE(has(t.prune, "/srv/n"));  // only when empty: here it holds the images
  for (std::size_t i = 1; i < t.prune.size(); ++i)
    EXPECT_FALSE(path_is_under(t.prune[i], t.prune[i - 1]))
        << t.prune[i] << " comes after " << t.prune[i - 1];
  for (const auto& p : t.prune) EXPECT_FALSE(is_system_folder(p)) << p;
}

TEST(ResetTargetsTest, ASystemFolderIsNeverRemovedWhateverTheConfigurationSays) {
  Config c = node(Role::worker);
  c.paths.run_dir = "/run";
  c.paths.main_docker_exec_root = "/var/run";
  c.paths.kubelet_dir = "/var/lib";
  const auto t = reset_targets(c, true);
  for (const char* p : {"/run", "/var/run", "/var/lib", "/", "/srv"})
    EXPECT_THAT(t.remove, Not(Contains(std::string(p))));
  EXPECT_TRUE(is_system_folder("/"));
  EXPECT_TRUE(is_system_folder("/etc"));
  EXPECT_TRUE(is_system_folder("/var/lib/"));
  EXPECT_FALSE(is_system_folder("/var/lib/docker"));
}

TEST(ResetTargetsTest, DefaultPathsKeepTheAgentsFoldersOnly) {
  Config c = node(Role::worker);
  c.paths = Paths{};
  const auto t = reset_targets(c, true);
  EXPECT_TRUE(has(t.remove, "/var/lib/docker"));
  EXPECT_TRUE(has(t.remove, "/run/kube-node-agent"));
  EXPECT_FALSE(has(t.remove, "/var/lib/kube-node-agent"));  // holds the airgap images
  EXPECT_FALSE(has(t.prune, "/var/lib"));
  EXPECT_FALSE(has(t.prune, "/var/run"));
}

TEST(ResetTargetsTest, DockerdsInStopOrderAndADisabledOneIsTheOperators) {
  Config c = node(Role::worker);
  auto t = reset_targets(c, false);
  ASSERT_EQ(t.dockerds.size(), 2u);
  EXPECT_EQ(t.dockerds[0].stage, kStageMainDocker);
  EXPECT_TRUE(t.dockerds[0].runs_pods);
  EXPECT_EQ(t.dockerds[0].daemon_json, "/srv/n/run/main-docker.daemon.json");
  EXPECT_EQ(t.dockerds[1].stage, kStageBootstrapDocker);
  EXPECT_EQ(t.dockerds[1].exec_root, "/srv/n/bootstrap/exec");

  c.stages[kStageMainDocker].enabled = false;
  t = reset_targets(c, true);
  ASSERT_EQ(t.dockerds.size(), 1u);
  EXPECT_EQ(t.dockerds[0].stage, kStageBootstrapDocker);
  EXPECT_FALSE(has(t.remove, "/srv/n/main/docker.sock"));
  EXPECT_FALSE(has(t.remove, "/srv/n/main/data"));
}

TEST(ResetTargetsTest, LinksAreTheMainBridgeAndFlannelsByBackend) {
  Config c = node(Role::worker);
  EXPECT_THAT(reset_targets(c, false).links, ElementsAre("docker0", "flannel0"));
  c.flannel_backend = "vxlan";
  EXPECT_THAT(reset_targets(c, false).links, ElementsAre("docker0", "flannel.1"));
  c.flannel_backend = "host-gw";
  EXPECT_THAT(reset_targets(c, false).links, ElementsAre("docker0"));
}

TEST(ResetTargetsTest, MountRootsAndTheKubeletsOwnBindMount) {
  const auto t = reset_targets(node(Role::master), false);
  for (const char* p : {"/srv/n/run", "/srv/n/state", "/srv/n/main/data", "/srv/n/main/exec",
                        "/srv/n/bootstrap/data", "/srv/n/bootstrap/exec", "/srv/n/kubelet"})
    EXPECT_TRUE(has(t.mount_roots, p)) << p;
  EXPECT_THAT(t.own_mounts, ElementsAre("/srv/n/kubelet"));
}

TEST(ResetTargetsTest, HostProcessStagesInReverseStartOrder) {
  Config c = node(Role::worker);
  c.stages[kStageKubelet].runtime = RuntimeKind::process;
  c.stages[kStageKubeProxy].runtime = RuntimeKind::process;
  EXPECT_THAT(reset_targets(c, false).process_stages, ElementsAre("kube-proxy", "kubelet"));
}

// --- recognising a dead agent's processes

TEST(ResetProcesses, ADockerdIsKnownByItsSocketExecRootOrDataRoot) {
  const std::string sock = "/srv/n/main/docker.sock", exec = "/srv/n/main/exec",
                    data = "/srv/n/main/data";
  EXPECT_TRUE(is_dockerd_of({"/usr/bin/dockerd", "-H", "unix://" + sock}, sock, exec, data));
  EXPECT_TRUE(is_dockerd_of({"dockerd", "--exec-root=" + exec}, sock, exec, data));
  EXPECT_TRUE(is_dockerd_of({"dockerd", "--data-root", data}, sock, exec, data));
  // A docker client names the socket too, and another node's daemon names other folders.
  EXPECT_FALSE(is_dockerd_of({"docker", "-H", "unix://" + sock, "ps"}, sock, exec, data));
  EXPECT_FALSE(is_dockerd_of({"dockerd", "--exec-root=/srv/n/main/exec2"}, sock, exec, data));
  EXPECT_FALSE(is_dockerd_of({}, sock, exec, data));
}

TEST(ResetProcesses, HelpersNameAPathUnderTheExecRoot) {
  const std::string exec = "/srv/n/main/exec";
  EXPECT_TRUE(
      names_path_under({"containerd", "--config", exec + "/containerd/containerd.toml"}, exec));
  EXPECT_TRUE(names_path_under({"containerd-shim-runc-v2", "-namespace", "moby", "-address",
                                exec + "/containerd/containerd.sock"},
                               exec));
  EXPECT_FALSE(names_path_under({"containerd", "--config", "/srv/n/main/exec2/c.toml"}, exec));
}

}  // namespace
}  // namespace kna::app
