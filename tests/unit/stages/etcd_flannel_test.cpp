// etcd and flanneld: the bootstrap daemon's containers, and their host-process forms.

#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

using test::agent_labels;
using test::container_of;
using test::master_config;
using test::process_of;
using test::stage_of;
using test::without_identity;
using test::worker_config;
using Argv = std::vector<std::string>;

ContainerSpec expected_etcd(const std::string& image, Argv extra_flags = {}) {
  ContainerSpec c;
  c.docker_socket = "/var/run/docker-bootstrap.sock";
  c.image = image;
  c.cmd = {"/usr/local/bin/etcd",
           "--listen-client-urls=http://0.0.0.0:2379,http://0.0.0.0:4001",
           "--advertise-client-urls=http://192.168.1.50:2379",
           "--listen-peer-urls=http://0.0.0.0:2380",
           "--initial-advertise-peer-urls=http://192.168.1.50:2380",
           "--initial-cluster=default=http://192.168.1.50:2380",
           "--data-dir=/var/etcd/data"};
  c.cmd.insert(c.cmd.end(), extra_flags.begin(), extra_flags.end());
  c.network_mode = "host";
  c.mounts = {Mount{"/var/lib/kubelet/etcd", "/var/etcd/data", false, ""}};
  c.restart_policy = "unless-stopped";
  c.labels = agent_labels("etcd");
  return c;
}

TEST(Etcd, RunsInTheBootstrapDaemonWithHostDataForEachArch) {
  for (const char* arch : {"amd64", "arm", "arm64", "ppc64le"}) {
    const auto c = container_of(stage_of(master_config(arch), kStageEtcd));
    EXPECT_EQ(without_identity(c),
              expected_etcd("gcr.io/google_containers/etcd-" + std::string(arch) + ":2.2.5"))
        << arch;
    EXPECT_EQ(c.name, "kube_etcd_" + c.labels.at(kLabelSpecHash).substr(0, 5));
  }
}

TEST(Etcd, Etcd34ServesTheV2ApiOnlyWhenFlannelNeedsIt) {
  auto cfg = master_config();
  cfg.etcd_version = "3.4.23";
  EXPECT_EQ(without_identity(container_of(stage_of(cfg, kStageEtcd))),
            expected_etcd("gcr.io/google_containers/etcd-amd64:3.4.23", {"--enable-v2=true"}));
  cfg.flannel_etcd_api = EtcdApi::v3;
  EXPECT_EQ(without_identity(container_of(stage_of(cfg, kStageEtcd))),
            expected_etcd("gcr.io/google_containers/etcd-amd64:3.4.23"));
}

TEST(Etcd, OlderEtcdServesV2WithoutAFlag) {
  for (const char* version : {"2.2.5", "3.0.4", "3.3.25"}) {
    auto cfg = master_config();
    cfg.etcd_version = version;
    const auto c = container_of(stage_of(cfg, kStageEtcd));
    EXPECT_EQ(c.cmd.back(), "--data-dir=/var/etcd/data") << version;
  }
}

TEST(Etcd, ContainerTakesRestartPolicyExtraArgsAndEnv) {
  auto cfg = master_config();
  cfg.restart_policy = "always";
  cfg.stages[kStageEtcd].extra_args = {"--debug"};
  cfg.stages[kStageEtcd].env = {{"ETCD_QUOTA_BACKEND_BYTES", "8589934592"}};
  const auto c = container_of(stage_of(cfg, kStageEtcd));
  EXPECT_EQ(c.restart_policy, "always");
  EXPECT_EQ(c.cmd.back(), "--debug");
  EXPECT_EQ(c.env,
            (std::map<std::string, std::string>{{"ETCD_QUOTA_BACKEND_BYTES", "8589934592"}}));
}

TEST(Etcd, HostProcessKeepsItsDataInTheHostFolder) {
  auto cfg = master_config();
  cfg.stages[kStageEtcd].runtime = RuntimeKind::process;
  cfg.stages[kStageEtcd].binary = "/usr/bin/etcd";
  cfg.paths.etcd_data_dir = "/tmp/n1/etcd";
  EXPECT_EQ(process_of(stage_of(cfg, kStageEtcd)),
            (ProcessSpec{
                {"/usr/bin/etcd", "--listen-client-urls=http://0.0.0.0:2379,http://0.0.0.0:4001",
                 "--advertise-client-urls=http://192.168.1.50:2379",
                 "--listen-peer-urls=http://0.0.0.0:2380",
                 "--initial-advertise-peer-urls=http://192.168.1.50:2380",
                 "--initial-cluster=default=http://192.168.1.50:2380", "--data-dir=/tmp/n1/etcd"},
                {},
                ""}));
}

TEST(Etcd, IsReadyWhenHealthSaysTrue) {
  const auto ready = stage_of(master_config(), kStageEtcd).ready;
  EXPECT_EQ(ready.kind, ProbeKind::http);
  EXPECT_EQ(ready.url, "http://127.0.0.1:2379/health");
  EXPECT_EQ(ready.unix_socket, "");
  EXPECT_EQ(ready.body_contains, "true");
}

ContainerSpec expected_flannel(const std::string& image, Argv cmd) {
  ContainerSpec c;
  c.docker_socket = "/var/run/docker-bootstrap.sock";
  c.image = image;
  c.cmd = std::move(cmd);
  c.network_mode = "host";
  c.privileged = true;
  c.mounts = {Mount{"/dev/net", "/dev/net", false, ""},
              Mount{"/run/flannel", "/run/flannel", false, ""}};
  c.restart_policy = "unless-stopped";
  c.labels = agent_labels("flannel");
  return c;
}

TEST(Flannel, RunsPrivilegedInTheBootstrapDaemon) {
  const auto c = container_of(stage_of(worker_config(), kStageFlannel));
  EXPECT_EQ(without_identity(c),
            expected_flannel("quay.io/coreos/flannel:0.5.5-amd64",
                             {"/opt/bin/flanneld", "--etcd-endpoints=http://192.168.1.50:2379",
                              "--ip-masq=true", "--iface=eth0"}));
  EXPECT_EQ(c.name, "kube_flannel_" + c.labels.at(kLabelSpecHash).substr(0, 5));
}

TEST(Flannel, ImageAndFlagsFollowTheConfiguration) {
  auto cfg = master_config("arm64");
  cfg.flannel_version = "v0.6.1";
  cfg.flannel_ipmasq = false;
  cfg.net_interface = "wlan0";
  cfg.master_ip = "10.0.0.2";
  cfg.flannel_etcd_prefix = "/cluster-a/network";
  cfg.paths.flannel_run_dir = "/tmp/n1/flannel";
  const auto c = container_of(stage_of(cfg, kStageFlannel));
  auto expected =
      expected_flannel("quay.io/coreos/flannel:v0.6.1-arm64",
                       {"/opt/bin/flanneld", "--etcd-endpoints=http://10.0.0.2:2379",
                        "--ip-masq=false", "--iface=wlan0", "--etcd-prefix=/cluster-a/network"});
  expected.mounts[1] = Mount{"/tmp/n1/flannel", "/run/flannel", false, ""};
  EXPECT_EQ(without_identity(c), expected);
}

TEST(Flannel, HostProcessWritesSubnetEnvIntoTheRunDir) {
  auto cfg = worker_config();
  cfg.stages[kStageFlannel].runtime = RuntimeKind::process;
  cfg.stages[kStageFlannel].extra_args = {"--v=1"};
  cfg.stages[kStageFlannel].env = {{"FLANNELD_IFACE_REGEX", "eth.*"}};
  cfg.paths.flannel_run_dir = "/tmp/n2/flannel/";
  const auto p = process_of(stage_of(cfg, kStageFlannel));
  EXPECT_EQ(p.argv, (Argv{"flanneld", "--etcd-endpoints=http://192.168.1.50:2379", "--ip-masq=true",
                          "--iface=eth0", "--subnet-file=/tmp/n2/flannel/subnet.env", "--v=1"}));
  EXPECT_EQ(p.env, (std::map<std::string, std::string>{{"FLANNELD_IFACE_REGEX", "eth.*"}}));
}

TEST(Flannel, IsReadyWhenSubnetEnvParses) {
  auto cfg = worker_config();
  EXPECT_EQ(stage_of(cfg, kStageFlannel).ready.path, "/run/flannel/subnet.env");
  cfg.paths.flannel_run_dir = "/tmp/n2/flannel";
  const auto ready = stage_of(cfg, kStageFlannel).ready;
  EXPECT_EQ(ready.kind, ProbeKind::file);
  EXPECT_EQ(ready.path, "/tmp/n2/flannel/subnet.env");
  EXPECT_TRUE(ready.parse_subnet_env);
}

}  // namespace
}  // namespace kna
