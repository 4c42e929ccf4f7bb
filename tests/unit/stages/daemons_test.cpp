// bootstrap-docker, main-docker and cri-dockerd: the host processes.

#include <algorithm>

#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

using test::master_config;
using test::process_of;
using test::stage_of;
using test::worker_config;
using Argv = std::vector<std::string>;

TEST(BootstrapDocker, RunsAPrivateDaemonWithoutBridgeOrNat) {
  for (const auto& cfg : {master_config(), worker_config("arm")}) {
    const auto spec = stage_of(cfg, kStageBootstrapDocker);
    const auto p = process_of(spec);
    EXPECT_EQ(p.argv,
              (Argv{"dockerd", "-H", "unix:///var/run/docker-bootstrap.sock", "-p",
                    "/var/run/docker-bootstrap.pid", "--data-root=/var/lib/docker-bootstrap",
                    "--exec-root=/var/run/docker-bootstrap", "--shutdown-timeout=15",
                    "--iptables=false", "--ip-masq=false", "--bridge=none",
                    "--config-file=/run/kube-node-agent/bootstrap-docker.daemon.json"}));
    EXPECT_EQ(p.pidfile, "/var/run/docker-bootstrap.pid");
    EXPECT_EQ(p.helper_pidfiles, Argv{"/var/run/docker-bootstrap/containerd/containerd.pid"});
    EXPECT_TRUE(p.env.empty());
    EXPECT_EQ(p.env.count(kEnvStageMarker), 0u) << "the process runtime adds the marker";
  }
}

TEST(BootstrapDocker, IsReadyWhenPingAnswersOkOnItsSocket) {
  const auto ready = stage_of(master_config(), kStageBootstrapDocker).ready;
  EXPECT_EQ(ready.kind, ProbeKind::http);
  EXPECT_EQ(ready.url, "http://localhost/_ping");
  EXPECT_EQ(ready.unix_socket, "/var/run/docker-bootstrap.sock");
  EXPECT_EQ(ready.body_contains, "OK");
}

TEST(BootstrapDocker, UsesConfiguredPathsAndBinary) {
  auto cfg = worker_config();
  cfg.paths.bootstrap_docker_socket = "/tmp/n2/bootstrap.sock";
  cfg.paths.bootstrap_docker_pidfile = "/tmp/n2/bootstrap.pid";
  cfg.paths.bootstrap_docker_data_root = "/tmp/n2/lib";
  cfg.paths.bootstrap_docker_exec_root = "/tmp/n2/exec";
  cfg.stages[kStageBootstrapDocker].binary = "/usr/bin/dockerd";
  const auto spec = stage_of(cfg, kStageBootstrapDocker);
  EXPECT_EQ(process_of(spec).argv,
            (Argv{"/usr/bin/dockerd", "-H", "unix:///tmp/n2/bootstrap.sock", "-p",
                  "/tmp/n2/bootstrap.pid", "--data-root=/tmp/n2/lib", "--exec-root=/tmp/n2/exec",
                  "--shutdown-timeout=15", "--iptables=false", "--ip-masq=false", "--bridge=none",
                  "--config-file=/run/kube-node-agent/bootstrap-docker.daemon.json"}));
  EXPECT_EQ(process_of(spec).pidfile, "/tmp/n2/bootstrap.pid");
  EXPECT_EQ(process_of(spec).helper_pidfiles, Argv{"/tmp/n2/exec/containerd/containerd.pid"});
  EXPECT_EQ(spec.ready.unix_socket, "/tmp/n2/bootstrap.sock");
}

TEST(BootstrapDocker, AppendsExtraArgsAndAddsEnv) {
  auto cfg = worker_config();
  cfg.stages[kStageBootstrapDocker].extra_args = {"--debug", "--storage-driver=overlay2"};
  cfg.stages[kStageBootstrapDocker].env = {{"DOCKER_RAMDISK", "true"}};
  const auto p = process_of(stage_of(cfg, kStageBootstrapDocker));
  ASSERT_EQ(p.argv.size(), 14u);
  EXPECT_EQ(p.argv[10], "--bridge=none");
  EXPECT_EQ(p.argv[11], "--config-file=/run/kube-node-agent/bootstrap-docker.daemon.json");
  EXPECT_EQ(p.argv[12], "--debug");
  EXPECT_EQ(p.argv[13], "--storage-driver=overlay2");
  EXPECT_EQ(p.env, (std::map<std::string, std::string>{{"DOCKER_RAMDISK", "true"}}));
}

TEST(MainDocker, UsesFlannelsSubnetAndMtu) {
  const auto spec = stage_of(worker_config(), kStageMainDocker);
  const auto p = process_of(spec);
  EXPECT_EQ(p.argv,
            (Argv{"dockerd", "-H", "unix:///var/run/docker.sock", "-p", "/var/run/docker.pid",
                  "--data-root=/var/lib/docker", "--exec-root=/var/run/docker",
                  "--shutdown-timeout=15", "--bip=10.1.33.1/24", "--mtu=1472",
                  "--config-file=/run/kube-node-agent/main-docker.daemon.json"}));
  EXPECT_EQ(p.pidfile, "/var/run/docker.pid");
  EXPECT_EQ(p.helper_pidfiles, Argv{"/var/run/docker/containerd/containerd.pid"});
  EXPECT_EQ(spec.deps, (std::vector<Dependency>{{"flannel", false}}));
}

TEST(MainDocker, FollowsADifferentLease) {
  const PlanFacts facts{FlannelSubnet{"10.244.0.0/16", "10.244.7.1/24", 8951, false}};
  const auto p = process_of(stage_of(master_config(), kStageMainDocker, facts));
  ASSERT_EQ(p.argv.size(), 11u);
  EXPECT_EQ(p.argv[8], "--bip=10.244.7.1/24");
  EXPECT_EQ(p.argv[9], "--mtu=8951");
}

TEST(MainDocker, PlanShowsPlaceholdersUntilTheSubnetIsKnown) {
  const auto plan = build_plan(worker_config(), PlanFacts{});
  ASSERT_EQ(plan[2].name, kStageMainDocker);
  const auto p = process_of(plan[2]);
  EXPECT_EQ(p.argv,
            (Argv{"dockerd", "-H", "unix:///var/run/docker.sock", "-p", "/var/run/docker.pid",
                  "--data-root=/var/lib/docker", "--exec-root=/var/run/docker",
                  "--shutdown-timeout=15", "--bip=${FLANNEL_SUBNET}", "--mtu=${FLANNEL_MTU}",
                  "--config-file=/run/kube-node-agent/main-docker.daemon.json"}));
}

TEST(MainDocker, IsReadyOnceItAnswersAndTheKubeletsImagesAreLoadedTheRestBehindIt) {
  for (auto cfg : {worker_config(), master_config()}) {
    const auto then = [&] {
      return std::get<LoadAirgapImages>(stage_of(cfg, kStageMainDocker).ready.then);
    };
    EXPECT_EQ(then().docker_socket, "/var/run/docker.sock");
    EXPECT_EQ(then().image_dir, "/var/lib/kube-node-agent/images");
    cfg.paths.main_docker_socket = "/tmp/n1/docker.sock";
    cfg.paths.image_dir = "/tmp/n1/images";
    EXPECT_EQ(then().docker_socket, "/tmp/n1/docker.sock");
    EXPECT_EQ(then().image_dir, "/tmp/n1/images");
  }
  // First the kubelet's and kube-proxy's images (each once), then a master's control plane's.
  Config worker = worker_config();
  worker.stages[kStageKubelet].runtime = RuntimeKind::container;
  worker.stages[kStageKubeProxy].runtime = RuntimeKind::container;
  worker.stages[kStageKubelet].image = "example/kubelet:1";
  worker.stages[kStageKubeProxy].image = "example/proxy:1";
  EXPECT_EQ(std::get<LoadAirgapImages>(stage_of(worker, kStageMainDocker).ready.then).first,
            (std::vector<std::string>{"example/kubelet:1", "example/proxy:1"}));
  worker.stages[kStageKubeProxy].image = "example/kubelet:1";
  EXPECT_EQ(std::get<LoadAirgapImages>(stage_of(worker, kStageMainDocker).ready.then).first,
            (std::vector<std::string>{"example/kubelet:1"}));
  worker.stages[kStageKubeProxy].enabled = false;
  worker.stages[kStageKubelet].runtime = RuntimeKind::process;
  EXPECT_EQ(std::get<LoadAirgapImages>(stage_of(worker, kStageMainDocker).ready.then).first,
            std::vector<std::string>{});
  Config master = master_config();
  master.stages[kStageKubelet].runtime = RuntimeKind::container;
  master.stages[kStageKubeProxy].runtime = RuntimeKind::container;
  master.stages[kStageKubelet].image = "example/kubelet:1";
  master.stages[kStageKubeProxy].image = "example/kubelet:1";
  master.control_plane.apiserver_image = "example/apiserver:1";
  master.control_plane.controller_manager_image = "example/cm:1";
  master.control_plane.scheduler_image = "example/kubelet:1";
  EXPECT_EQ(std::get<LoadAirgapImages>(stage_of(master, kStageMainDocker).ready.then).first,
            (std::vector<std::string>{"example/kubelet:1", "example/apiserver:1", "example/cm:1"}));
  // Only the main daemon: the bootstrap daemon's images are etcd's and flannel's.
  EXPECT_EQ(stage_of(master_config(), kStageBootstrapDocker).ready.then, AfterProbe{});
}

TEST(MainDocker, LeavesTheBootstrapDaemonsImagesToIt) {
  const auto elsewhere = [](const Config& cfg) {
    return std::get<LoadAirgapImages>(stage_of(cfg, kStageMainDocker).ready.then).elsewhere;
  };
  Config worker = worker_config();
  worker.stages[kStageEtcd].runtime = RuntimeKind::container;
  worker.stages[kStageFlannel].runtime = RuntimeKind::container;
  worker.stages[kStageEtcd].image = "example/etcd:3";
  worker.stages[kStageFlannel].image = "example/flannel:1";
  // etcd's too on a worker, which runs no etcd: its airgap folder is often a copy of the master's.
  EXPECT_EQ(elsewhere(worker), (std::vector<std::string>{"example/etcd:3", "example/flannel:1"}));
  Config master = master_config();
  master.stages[kStageEtcd].runtime = RuntimeKind::container;
  master.stages[kStageFlannel].runtime = RuntimeKind::container;
  master.stages[kStageEtcd].image = "example/etcd:3";
  master.stages[kStageFlannel].image = "example/etcd:3";
  EXPECT_EQ(elsewhere(master), std::vector<std::string>{"example/etcd:3"});
  // Not an image the kubelet needs as well, nor one of a stage that runs on the host.
  worker.stages[kStageKubelet].runtime = RuntimeKind::container;
  worker.stages[kStageKubelet].image = "example/flannel:1";
  worker.stages[kStageEtcd].runtime = RuntimeKind::process;
  EXPECT_EQ(elsewhere(worker), std::vector<std::string>{});
}

TEST(MainDocker, IsReadyWhenPingAnswersOkOnItsSocket) {
  auto cfg = worker_config();
  cfg.paths.main_docker_socket = "/tmp/n2/docker.sock";
  const auto spec = stage_of(cfg, kStageMainDocker);
  EXPECT_EQ(spec.ready.kind, ProbeKind::http);
  EXPECT_EQ(spec.ready.url, "http://localhost/_ping");
  EXPECT_EQ(spec.ready.unix_socket, "/tmp/n2/docker.sock");
  EXPECT_EQ(spec.ready.body_contains, "OK");
  EXPECT_EQ(process_of(spec).argv[2], "unix:///tmp/n2/docker.sock");
}

TEST(MainDocker, StaysAHostProcessWhateverTheRuntimeSetting) {
  auto cfg = worker_config();
  cfg.stages[kStageMainDocker].runtime = RuntimeKind::container;
  EXPECT_TRUE(std::holds_alternative<ProcessSpec>(stage_of(cfg, kStageMainDocker).launch));
}

TEST(DockerDaemons, ClearTheirContainerdFromTheirOwnExecRoot) {
  auto cfg = master_config();
  cfg.paths.bootstrap_docker_exec_root = "/tmp/n2/bootstrap-exec/";  // a trailing slash too
  cfg.paths.main_docker_exec_root = "/tmp/n2/main-exec";
  EXPECT_EQ(process_of(stage_of(cfg, kStageBootstrapDocker)).helper_pidfiles,
            Argv{"/tmp/n2/bootstrap-exec/containerd/containerd.pid"});
  EXPECT_EQ(process_of(stage_of(cfg, kStageMainDocker)).helper_pidfiles,
            Argv{"/tmp/n2/main-exec/containerd/containerd.pid"});
}

// live-restore: on in the file written before each launch, off (by SIGHUP) before the agent stops
// the daemon; the host's /etc/docker/daemon.json is not read.
TEST(DockerDaemons, RestoreTheirContainersUnlessTheAgentStopsThem) {
  auto cfg = master_config();
  cfg.paths.run_dir = "/tmp/n2/run";
  for (const char* stage : {kStageBootstrapDocker, kStageMainDocker}) {
    const auto spec = stage_of(cfg, stage);
    const std::string file = std::string("/tmp/n2/run/") + stage + ".daemon.json";
    const auto& p = process_of(spec);
    EXPECT_EQ(std::count(p.argv.begin(), p.argv.end(), "--config-file=" + file), 1) << stage;
    const auto writes = steps_of<WriteFile>(spec.prepare);
    ASSERT_EQ(writes.size(), 1u) << stage;
    EXPECT_EQ(writes[0], (WriteFile{file, "{\"live-restore\": true}\n", 0644}));
    ASSERT_TRUE(p.reload_before_stop) << stage;
    EXPECT_EQ(p.reload_before_stop->path, file);
    EXPECT_EQ(p.reload_before_stop->content, "{\"live-restore\": false}\n");
    EXPECT_GT(p.reload_before_stop->settle, Millis{0});
    EXPECT_LT(p.reload_before_stop->settle, spec.stop_timeout);
  }
}

TEST(DockerDaemons, StopWithinTheirStopBudgetByDefault) {
  // Above dockerd's own 15 s shutdown timeout, which then fits with room to stop containerd.
  for (const char* stage : {kStageBootstrapDocker, kStageMainDocker}) {
    EXPECT_EQ(stage_of(worker_config(), stage).stop_timeout, Millis{20'000}) << stage;
  }
  EXPECT_EQ(stage_of(worker_config(), kStageFlannel).stop_timeout, Millis{10'000});
}

// stop_timeout_ms → dockerd's --shutdown-timeout: the budget less 5 s, in whole seconds, >= 1.
struct ShutdownRow {
  long long stop_timeout_ms;
  const char* flag;
};

void PrintTo(const ShutdownRow& row, std::ostream* os) {
  *os << row.stop_timeout_ms << "ms → " << row.flag;
}

class DockerShutdownTimeout : public ::testing::TestWithParam<ShutdownRow> {};

TEST_P(DockerShutdownTimeout, LeavesRoomBeforeTheSigkill) {
  const ShutdownRow row = GetParam();
  for (const char* stage : {kStageBootstrapDocker, kStageMainDocker}) {
    auto cfg = worker_config();
    cfg.stages[stage].stop_timeout = Millis{row.stop_timeout_ms};
    cfg.stages[stage].extra_args = {"--debug"};
    const auto argv = process_of(stage_of(cfg, stage)).argv;
    ASSERT_GT(argv.size(), 7u);
    EXPECT_EQ(argv[7], row.flag) << stage;
    EXPECT_EQ(argv.back(), "--debug") << "extra args still come last, and so win";
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, DockerShutdownTimeout,
                         ::testing::Values(ShutdownRow{20'000, "--shutdown-timeout=15"},
                                           ShutdownRow{60'000, "--shutdown-timeout=55"},
                                           ShutdownRow{20'999, "--shutdown-timeout=15"},
                                           ShutdownRow{10'000, "--shutdown-timeout=5"},
                                           ShutdownRow{6'999, "--shutdown-timeout=1"},
                                           ShutdownRow{5'000, "--shutdown-timeout=1"},
                                           ShutdownRow{1'000, "--shutdown-timeout=1"},
                                           ShutdownRow{0, "--shutdown-timeout=1"}));

TEST(CriDockerd, ServesTheCriSocketForTheMainDaemon) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.24.3";
  const auto spec = stage_of(cfg, kStageCriDockerd);
  EXPECT_EQ(process_of(spec).argv,
            (Argv{"cri-dockerd", "--container-runtime-endpoint=unix:///run/cri-dockerd.sock",
                  "--docker-endpoint=unix:///var/run/docker.sock"}));
  EXPECT_EQ(process_of(spec).pidfile, "");
  EXPECT_TRUE(process_of(spec).helper_pidfiles.empty());
  EXPECT_EQ(spec.ready.kind, ProbeKind::file);
  EXPECT_EQ(spec.ready.path, "/run/cri-dockerd.sock");
  EXPECT_FALSE(spec.ready.parse_subnet_env);
}

TEST(CriDockerd, UsesConfiguredSocketsAndExtraArgs) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.28.0";
  cfg.paths.cri_dockerd_socket = "/tmp/n2/cri.sock";
  cfg.paths.main_docker_socket = "/tmp/n2/docker.sock";
  cfg.stages[kStageCriDockerd].extra_args = {"--log-level=debug"};
  const auto spec = stage_of(cfg, kStageCriDockerd);
  EXPECT_EQ(process_of(spec).argv,
            (Argv{"cri-dockerd", "--container-runtime-endpoint=unix:///tmp/n2/cri.sock",
                  "--docker-endpoint=unix:///tmp/n2/docker.sock", "--log-level=debug"}));
  EXPECT_EQ(spec.ready.path, "/tmp/n2/cri.sock");
}

}  // namespace
}  // namespace kna
