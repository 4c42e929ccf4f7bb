// tests/images/build against a private dockerd: both images build, a second build is a no-op,
// and the images run with --net=host: etcd serves, the flanneld stand-in leases from it.

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clients/flannel_config.hpp"
#include "harness.hpp"
#include "kna/catalogue.hpp"

namespace kna::test {
namespace {

constexpr const char* kBuildScript = KNA_IMAGES_BUILD;
constexpr auto kDockerTimeout = std::chrono::seconds(60);

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Ran {
  std::string status;  // "exit code 0", …
  std::string output;
};

Ran run(const std::vector<std::string>& argv) {
  ChildProcess child(argv);
  const auto status = child.wait_exit(kDockerTimeout);
  return Ran{exit_description(status), child.output()};
}

class TestImages : public ::testing::Test {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    if (::geteuid() != 0) GTEST_SKIP() << "a private dockerd needs root";
    dockerd_path_ = find_in_path("dockerd");
    docker_path_ = find_in_path("docker");
    if (dockerd_path_.empty() || docker_path_.empty())
      GTEST_SKIP() << "dockerd and the docker CLI are not installed (package docker.io)";
    socket_ = dir_ / "d.sock";
    dockerd_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        dockerd_path_, "-H", "unix://" + socket_, "--data-root=" + dir_ / "data",
        "--exec-root=" + dir_ / "exec", "--pidfile=" + dir_ / "d.pid", "--iptables=false",
        "--ip-masq=false", "--bridge=none"});
    ASSERT_TRUE(dockerd_->wait_for_output("API listen on " + socket_, kDockerTimeout))
        << dockerd_->output();
  }

  void TearDown() override {
    if (!dockerd_) return;
    for (const auto& name : containers_) run(docker({"rm", "-f", name}));
    dockerd_->signal(SIGTERM);
    if (!dockerd_->wait_exit(std::chrono::seconds(30))) dockerd_->signal(SIGKILL);
    dockerd_->wait_exit(std::chrono::seconds(10));
    unmount_everything_under(dir_.path().string());
  }

  // dockerd leaves its default network namespace bind-mounted under --exec-root; without this the
  // temporary folder could not be removed.
  static void unmount_everything_under(const std::string& root) {
    std::ifstream mounts("/proc/self/mounts");
    std::vector<std::string> points;
    for (std::string line; std::getline(mounts, line);) {
      std::stringstream fields(line);
      std::string device, point;
      fields >> device >> point;
      if (point.rfind(root + "/", 0) == 0) points.push_back(point);
    }
    std::sort(points.rbegin(), points.rend());  // deepest first
    for (const auto& point : points) ::umount2(point.c_str(), MNT_DETACH);
  }

  std::vector<std::string> docker(std::vector<std::string> args) {
    std::vector<std::string> argv{docker_path_, "-H", "unix://" + socket_};
    for (auto& arg : args) argv.push_back(std::move(arg));
    return argv;
  }

  // `docker run --name NAME --net=host ARGS…` in the foreground, its output followed live.
  std::unique_ptr<ChildProcess> run_container(const std::string& name,
                                              std::vector<std::string> args) {
    containers_.push_back(name);
    std::vector<std::string> all{"run", "--name", name, "--net=host"};
    for (auto& arg : args) all.push_back(std::move(arg));
    return std::make_unique<ChildProcess>(docker(std::move(all)));
  }

  TempDir dir_;
  std::string dockerd_path_;
  std::string docker_path_;
  std::string socket_;
  std::unique_ptr<ChildProcess> dockerd_;
  std::vector<std::string> containers_;
};

TEST_F(TestImages, BuildOnceSkipOnRerunAndRunWithHostNetworking) {
  const auto saved = dir_ / "images";
  const auto first = run({kBuildScript, socket_, "--flanneld", kFlanneld, "--save", saved});
  ASSERT_EQ(first.status, "exit code 0") << first.output;
  EXPECT_NE(first.output.find("kna-test/etcd:3.4 sha256:"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("kna-test/flannel:standin sha256:"), std::string::npos);
  EXPECT_TRUE(std::filesystem::file_size(saved + "/kna-test_etcd_3.4.tar") > 0);
  EXPECT_TRUE(std::filesystem::file_size(saved + "/kna-test_flannel_standin.tar") > 0);

  const auto again = run({kBuildScript, socket_, "--flanneld", kFlanneld, "--save", saved});
  ASSERT_EQ(again.status, "exit code 0") << again.output;
  EXPECT_EQ(again.output.find("(built)"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("(written)"), std::string::npos) << again.output;

  // etcd from the image, on free loopback ports of the host network.
  const int client_port = free_port();
  const int peer_port = free_port();
  const auto endpoint = "http://127.0.0.1:" + std::to_string(client_port);
  const auto peer = "http://127.0.0.1:" + std::to_string(peer_port);
  auto etcd = run_container(
      "kna-test-etcd",
      {"kna-test/etcd:3.4", "/usr/local/bin/etcd", "--name=t", "--data-dir=/var/etcd/data",
       "--enable-v2=true", "--listen-client-urls=" + endpoint,
       "--advertise-client-urls=" + endpoint, "--listen-peer-urls=" + peer,
       "--initial-advertise-peer-urls=" + peer, "--initial-cluster=t=" + peer});
  ASSERT_TRUE(etcd->wait_for_output("ready to serve client requests", kDockerTimeout))
      << etcd->output();
  EtcdClient client(EtcdOptions{{endpoint}, EtcdApi::v2, Millis(5000)});
  const auto config = ensure_network_config(client, "/coreos.com/network", "10.1.0.0/16", "udp");
  ASSERT_TRUE(config.ok()) << config.error().message;

  // The flanneld stand-in from the image, as the catalogue runs it.
  const auto run_dir = dir_ / "flannel";
  std::filesystem::create_directories(run_dir);
  auto flanneld = run_container(
      "kna-test-flannel",
      {"-v", run_dir + ":/run/flannel", "kna-test/flannel:standin", "/opt/bin/flanneld",
       "--etcd-endpoints=" + endpoint, "--ip-masq=true", "--iface=lo"});
  ASSERT_TRUE(flanneld->wait_for_output("Subnet lease acquired: ", kDockerTimeout))
      << flanneld->output();
  std::ifstream env_file(run_dir + "/subnet.env");
  std::stringstream env_text;
  env_text << env_file.rdbuf();
  const auto subnet = parse_subnet_env(env_text.str());
  ASSERT_TRUE(subnet.ok()) << subnet.error().message;
  EXPECT_EQ(subnet.value().network, "10.1.0.0/16");
  EXPECT_TRUE(subnet.value().ipmasq);

  // PID 1 in its container, the stand-in still ends cleanly on docker stop's SIGTERM.
  const auto stopped = run(docker({"stop", "kna-test-flannel"}));
  ASSERT_EQ(stopped.status, "exit code 0") << stopped.output;
  EXPECT_EQ(exit_description(flanneld->wait_exit(kDockerTimeout)), "exit code 0")
      << flanneld->output();
}

TEST_F(TestImages, ImageRunsItsBinaryByDefaultAndHasAShell) {
  const auto built = run({kBuildScript, socket_, "--flanneld", kFlanneld, "--only", "flannel"});
  ASSERT_EQ(built.status, "exit code 0") << built.output;
  EXPECT_EQ(built.output.find("kna-test/etcd"), std::string::npos);
  // No command: the image's own runs flanneld (configured through its environment), which gives
  // up on an etcd that is not there.
  const auto plain =
      run(docker({"run", "--rm", "--net=host", "-e", "FLANNELD_ETCD_ENDPOINTS=http://127.0.0.1:1",
                  "-e", "FLANNELD_CONFIG_ATTEMPTS=1", "kna-test/flannel:standin"}));
  EXPECT_EQ(plain.status, "exit code 1") << plain.output;
  EXPECT_NE(plain.output.find("Couldn't fetch network config: etcd unreachable at "
                              "http://127.0.0.1:1"),
            std::string::npos)
      << plain.output;
  const auto by_default = run(
      docker({"image", "inspect", "--format", "{{json .Config.Cmd}}", "kna-test/flannel:standin"}));
  EXPECT_NE(by_default.output.find(R"(["/opt/bin/flanneld"])"), std::string::npos)
      << by_default.output;
  const auto shell =
      run(docker({"run", "--rm", "kna-test/flannel:standin", "sh", "-c", "echo shell works"}));
  EXPECT_EQ(shell.status, "exit code 0") << shell.output;
  EXPECT_NE(shell.output.find("shell works"), std::string::npos);
}

}  // namespace
}  // namespace kna::test
