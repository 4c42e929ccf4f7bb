// `kube-node-agent check` and run's preflight: each check driven through a fake /proc, /sys and
// /lib/modules tree and fake commands, the socket checks through real sockets on this machine,
// and the binary run against this machine.

#include "app/check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace kna::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRelease = "5.10.0-test";

// Every option kernel_checks requires, as a kernel config file.
const char* kFullConfig =
    "CONFIG_NAMESPACES=y\nCONFIG_NET_NS=y\nCONFIG_PID_NS=y\nCONFIG_IPC_NS=y\nCONFIG_UTS_NS=y\n"
    "CONFIG_CGROUPS=y\nCONFIG_CGROUP_CPUACCT=y\nCONFIG_CGROUP_FREEZER=y\nCONFIG_CGROUP_SCHED=y\n"
    "CONFIG_CPUSETS=y\nCONFIG_MEMCG=y\nCONFIG_KEYS=y\nCONFIG_VETH=m\nCONFIG_BRIDGE=m\n"
    "CONFIG_BRIDGE_NETFILTER=m\nCONFIG_NF_CONNTRACK=m\nCONFIG_NF_NAT=m\nCONFIG_IP_NF_FILTER=m\n"
    "CONFIG_IP_NF_NAT=m\nCONFIG_NETFILTER_XT_TARGET_MASQUERADE=m\nCONFIG_POSIX_MQUEUE=y\n"
    "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE=m\nCONFIG_NETFILTER_XT_MATCH_CONNTRACK=m\n"
    "CONFIG_OVERLAY_FS=m\nCONFIG_VXLAN=m\nCONFIG_TUN=y\n# CONFIG_IKCONFIG is not set\n";

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-check-XXXXXX";
    dir_ = mkdtemp(tmpl);
    root_ = dir_ + "/root";
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::string& path, const std::string& content) {
    const fs::path p = fs::path(root_) / fs::path(path).relative_path();
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void mkdir(const std::string& path) {
    fs::create_directories(fs::path(root_) / fs::path(path).relative_path());
  }
  void remove(const std::string& path) {
    fs::remove_all(fs::path(root_) / fs::path(path).relative_path());
  }

  // A machine that has everything: cgroup v2, overlay registered, bridge and veth built in,
  // br_netfilter active, forwarding on, a kernel config, /dev/net/tun.
  void healthy_machine() {
    put("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put("/proc/filesystems", "nodev\tsysfs\nnodev\tproc\n\text4\nnodev\toverlay\n");
    mkdir("/sys/module/bridge");
    put("/sys/module/veth/initstate", "live\n");
    put("/proc/sys/net/bridge/bridge-nf-call-iptables", "1\n");
    put("/proc/sys/net/ipv4/ip_forward", "1\n");
    put(std::string("/boot/config-") + kRelease, kFullConfig);
    put("/dev/net/tun", "");
  }

  // Fake commands and lookups; the socket parts succeed unless a test says otherwise.
  Machine fake() {
    Machine m;
    m.root = root_;
    m.kernel_release = [] { return std::string(kRelease); };
    m.find_executable = [this](const std::string& program) -> Result<std::string> {
      if (missing_.contains(program)) {
        return Error{"executable \"" + program + "\" not found in PATH"};
      }
      return program.find('/') == std::string::npos ? "/usr/bin/" + program : program;
    };
    m.run = [this](const std::vector<std::string>& argv, Millis) -> Result<std::string> {
      ++commands_run_;
      if (argv.size() == 2 && argv[1] == "--version") return iptables_version_;
      return Error{"unexpected command"};
    };
    m.bind_port = [this](int) -> Status {
      ++binds_;
      return kOk;
    };
    m.port_holder = [](int) { return std::string(); };
    m.connect = [this](const std::string&, int, Millis) -> Status {
      ++connects_;
      return kOk;
    };
    return m;
  }

  // A worker whose every folder is under the test's directory.
  Config worker() {
    Config c = default_config();
    c.master_ip = "10.9.8.7";
    c.arch = "amd64";
    c.net_interface = "eth0";
    c.node_name = "n1";
    Paths& p = c.paths;
    for (std::string* path :
         {&p.bootstrap_docker_data_root, &p.bootstrap_docker_exec_root, &p.main_docker_data_root,
          &p.main_docker_exec_root, &p.flannel_run_dir, &p.etcd_data_dir, &p.kubelet_dir,
          &p.kubelet_manifests_dir, &p.state_dir, &p.run_dir, &p.image_dir}) {
      *path = dir_ + "/node" + *path;
    }
    p.status_socket = p.run_dir + "/agent.sock";
    p.kubeconfig = p.state_dir + "/kubeconfig";
    return c;
  }

  static const CheckLine& find(const std::vector<CheckLine>& lines, const std::string& name) {
    for (const auto& l : lines)
      if (l.name == name) return l;
    static const CheckLine none{"<none>", CheckResult::skipped, "no such line", "", false};
    ADD_FAILURE() << "no line named " << name << "\n" << render_check_text(lines);
    return none;
  }
  static bool has(const std::vector<CheckLine>& lines, const std::string& name) {
    for (const auto& l : lines)
      if (l.name == name) return true;
    return false;
  }
  static std::string contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos ? "" : "\"" + part + "\" not in \"" + text + "\"";
  }

  std::string dir_;
  std::string root_;
  std::set<std::string> missing_;
  std::string iptables_version_{"iptables v1.8.9 (nf_tables)\n"};
  int commands_run_{0};
  int binds_{0};
  int connects_{0};
};

TEST_F(CheckTest, HealthyCgroupV2MachinePassesEveryKernelCheck) {
  healthy_machine();
  const auto lines = kernel_checks(worker(), fake());
  for (const auto& l : lines) {
    EXPECT_TRUE(l.result == CheckResult::ok || l.result == CheckResult::skipped)
        << render_check_text(lines);
  }
  EXPECT_EQ(contains(find(lines, "cgroups").found, "v2"), "");
  EXPECT_EQ(contains(find(lines, "kernel config").found, "/boot/config-5.10.0-test"), "");
  EXPECT_EQ(contains(find(lines, "iptables").found, "nf_tables mode"), "");
  EXPECT_EQ(find(lines, "vxlan").result, CheckResult::skipped) << "udp is the default backend";
  EXPECT_EQ(find(lines, "tun").result, CheckResult::ok);
}

TEST_F(CheckTest, CgroupV1LayoutIsReadFromProcCgroups) {
  healthy_machine();
  remove("/sys/fs/cgroup/cgroup.controllers");
  put("/proc/cgroups",
      "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t10\t1\ncpu\t1\t10\t1\n"
      "memory\t4\t78\t1\npids\t8\t10\t1\n");
  const auto lines = kernel_checks(worker(), fake());
  EXPECT_EQ(contains(find(lines, "cgroups").found, "v1"), "");
  for (const char* c : {"cgroup cpu", "cgroup cpuset", "cgroup memory", "cgroup pids"}) {
    EXPECT_EQ(find(lines, c).result, CheckResult::ok) << c << "\n" << render_check_text(lines);
  }
}

TEST_F(CheckTest, MemoryControllerMissingFailsWithTheKernelCommandLineRemedy) {
  healthy_machine();
  // v1, as a Raspberry Pi kernel leaves it: memory listed but disabled.
  remove("/sys/fs/cgroup/cgroup.controllers");
  put("/proc/cgroups",
      "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t10\t1\ncpu\t1\t10\t1\n"
      "memory\t0\t1\t0\npids\t8\t10\t1\n");
  auto lines = kernel_checks(worker(), fake());
  const auto& v1 = find(lines, "cgroup memory");
  EXPECT_EQ(v1.result, CheckResult::fail);
  EXPECT_EQ(contains(v1.found, "disabled in /proc/cgroups"), "");
  EXPECT_EQ(contains(v1.remedy, "cgroup_enable=memory"), "");
  EXPECT_EQ(find(lines, "cgroup cpu").result, CheckResult::ok);

  // v2 without it.
  put("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io pids\n");
  lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "cgroup memory").result, CheckResult::fail);
  EXPECT_EQ(contains(find(lines, "cgroup memory").remedy, "cgroup_enable=memory"), "");
  EXPECT_TRUE(any_failed(lines));
}

TEST_F(CheckTest, NoKernelConfigWarnsAndModulesWithoutEvidenceWarn) {
  healthy_machine();
  remove(std::string("/boot/config-") + kRelease);
  remove("/sys/module/veth");
  const auto lines = kernel_checks(worker(), fake());
  const auto& config = find(lines, "kernel config");
  EXPECT_EQ(config.result, CheckResult::warn);
  EXPECT_EQ(contains(config.remedy, "/proc/config.gz"), "");
  EXPECT_EQ(find(lines, "kernel options").result, CheckResult::skipped);
  const auto& veth = find(lines, "veth");
  EXPECT_EQ(veth.result, CheckResult::warn) << "no evidence either way is not a failure";
  EXPECT_EQ(contains(veth.found, "cannot tell"), "");
  EXPECT_EQ(find(lines, "bridge").result, CheckResult::ok) << "/sys/module/bridge still says so";
  EXPECT_FALSE(any_failed(lines)) << render_check_text(lines);
}

TEST_F(CheckTest, ProcConfigGzIsReadAndAMissingOptionFails) {
  healthy_machine();
  remove(std::string("/boot/config-") + kRelease);
  std::string config = kFullConfig;
  config.erase(config.find("CONFIG_MEMCG=y\n"), 15);
  put("/proc/config", config);
  const std::string plain = (fs::path(root_) / "proc/config").string();
  if (std::system(("gzip -n " + plain + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "no gzip to make /proc/config.gz with";
  }
  remove("/sys/module/veth");
  const auto lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "kernel config").result, CheckResult::ok);
  EXPECT_EQ(contains(find(lines, "kernel config").found, "/proc/config.gz"), "");
  const auto& options = find(lines, "kernel options");
  EXPECT_EQ(options.result, CheckResult::fail);
  EXPECT_EQ(options.found, "not set: CONFIG_MEMCG");
  // CONFIG_VETH=m there: a module the kernel loads when dockerd creates a pair.
  EXPECT_EQ(find(lines, "veth").result, CheckResult::ok);
  EXPECT_EQ(contains(find(lines, "veth").found, "CONFIG_VETH=m in /proc/config.gz"), "");
}

TEST_F(CheckTest, ModuleStateComesFromProcModulesAndModulesBuiltin) {
  healthy_machine();
  remove(std::string("/boot/config-") + kRelease);
  remove("/sys/module/bridge");
  remove("/sys/module/veth");
  put("/proc/modules", "bridge 389120 1 br_netfilter, Live 0x0000000000000000\n");
  put(std::string("/lib/modules/") + kRelease + "/modules.builtin", "kernel/drivers/net/veth.ko\n");
  put(std::string("/lib/modules/") + kRelease + "/modules.dep",
      "kernel/net/bridge/bridge.ko.xz: kernel/net/802/stp.ko.xz\n");
  auto lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "bridge").found, "loaded (/proc/modules)");
  EXPECT_EQ(find(lines, "veth").found, "built-in (modules.builtin)");

  // Neither built in nor loadable, and both lists there to say so: missing.
  put(std::string("/lib/modules/") + kRelease + "/modules.builtin", "kernel/fs/ext4/ext4.ko\n");
  lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "veth").result, CheckResult::fail);
  EXPECT_EQ(contains(find(lines, "veth").remedy, "CONFIG_VETH"), "");
}

TEST_F(CheckTest, BrNetfilterNotLoadedFailsWithModprobeRemedy) {
  healthy_machine();
  remove("/proc/sys/net/bridge");
  put(std::string("/lib/modules/") + kRelease + "/modules.dep",
      "kernel/net/bridge/br_netfilter.ko: kernel/net/bridge/bridge.ko\n");
  auto lines = kernel_checks(worker(), fake());
  const auto& module = find(lines, "br_netfilter");
  EXPECT_EQ(module.result, CheckResult::fail);
  EXPECT_EQ(contains(module.found, "loadable"), "");
  EXPECT_EQ(contains(module.remedy, "modprobe br_netfilter"), "");
  const auto& sysctl = find(lines, "net.bridge.bridge-nf-call-iptables");
  EXPECT_EQ(sysctl.result, CheckResult::fail);
  EXPECT_EQ(contains(sysctl.found, "br_netfilter is not loaded"), "");
  EXPECT_EQ(contains(sysctl.remedy, "modprobe br_netfilter"), "");

  // Only kube-proxy's rules need it: without kube-proxy it is a warning.
  Config c = worker();
  c.stages.at(kStageKubeProxy).enabled = false;
  lines = kernel_checks(c, fake());
  EXPECT_EQ(find(lines, "br_netfilter").result, CheckResult::warn);
  EXPECT_EQ(find(lines, "net.bridge.bridge-nf-call-iptables").result, CheckResult::warn);

  // Loaded but switched off.
  put("/proc/sys/net/bridge/bridge-nf-call-iptables", "0\n");
  lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "br_netfilter").result, CheckResult::ok);
  EXPECT_EQ(find(lines, "net.bridge.bridge-nf-call-iptables").result, CheckResult::fail);
  EXPECT_EQ(contains(find(lines, "net.bridge.bridge-nf-call-iptables").remedy,
                     "sysctl -w net.bridge.bridge-nf-call-iptables=1"),
            "");
}

TEST_F(CheckTest, IpForwardOffFailsWithSysctlRemedy) {
  healthy_machine();
  put("/proc/sys/net/ipv4/ip_forward", "0\n");
  const auto lines = kernel_checks(worker(), fake());
  const auto& l = find(lines, "net.ipv4.ip_forward");
  EXPECT_EQ(l.result, CheckResult::fail);
  EXPECT_EQ(contains(l.found, "0 (/proc/sys/net/ipv4/ip_forward)"), "");
  EXPECT_EQ(contains(l.remedy, "sysctl -w net.ipv4.ip_forward=1"), "");
}

TEST_F(CheckTest, VxlanIsCheckedOnlyForTheVxlanBackend) {
  healthy_machine();
  std::string config = kFullConfig;
  config.erase(config.find("CONFIG_VXLAN=m\n"), 15);
  put(std::string("/boot/config-") + kRelease, config);
  Config c = worker();
  auto lines = kernel_checks(c, fake());
  EXPECT_EQ(find(lines, "vxlan").result, CheckResult::skipped);
  EXPECT_EQ(find(lines, "vxlan").found, "flannel_backend is udp");

  c.flannel_backend = "vxlan";
  lines = kernel_checks(c, fake());
  EXPECT_EQ(find(lines, "vxlan").result, CheckResult::fail);
  EXPECT_EQ(find(lines, "vxlan").found, "CONFIG_VXLAN is not set in /boot/config-5.10.0-test");
  EXPECT_EQ(find(lines, "tun").result, CheckResult::skipped) << "tun is udp's";

  put(std::string("/lib/modules/") + kRelease + "/modules.dep",
      "kernel/drivers/net/vxlan/vxlan.ko.zst: kernel/net/ipv4/udp_tunnel.ko.zst\n");
  lines = kernel_checks(c, fake());
  EXPECT_EQ(find(lines, "vxlan").result, CheckResult::ok);
  EXPECT_EQ(contains(find(lines, "vxlan").found, "loadable"), "");
}

TEST_F(CheckTest, UdpBackendNeedsDevNetTun) {
  healthy_machine();
  remove("/dev/net/tun");
  const auto lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "tun").result, CheckResult::fail);
  EXPECT_EQ(contains(find(lines, "tun").remedy, "modprobe tun"), "");
}

TEST_F(CheckTest, IptablesModeAndAbsence) {
  healthy_machine();
  iptables_version_ = "iptables v1.8.7 (legacy)\n";
  auto lines = kernel_checks(worker(), fake());
  EXPECT_EQ(contains(find(lines, "iptables").found, "legacy mode"), "");

  missing_ = {"iptables"};
  lines = kernel_checks(worker(), fake());
  EXPECT_EQ(find(lines, "iptables").result, CheckResult::warn) << "kube-proxy brings its own";
  Config c = worker();
  c.stages.at(kStageKubeProxy).runtime = RuntimeKind::process;
  lines = kernel_checks(c, fake());
  EXPECT_EQ(find(lines, "iptables").result, CheckResult::fail) << "a host kube-proxy needs it";
}

TEST_F(CheckTest, MissingBinaryOfAnEnabledProcessStageFailsAndRunEnforcesIt) {
  missing_ = {"dockerd", "runc"};
  const auto lines = binary_checks(worker(), fake());
  const auto& b = find(lines, "binary bootstrap-docker");
  EXPECT_EQ(b.result, CheckResult::fail);
  EXPECT_TRUE(b.enforced_by_run);
  EXPECT_EQ(contains(b.remedy, "stages.bootstrap-docker.binary"), "");
  EXPECT_EQ(find(lines, "binary main-docker").result, CheckResult::fail);
  EXPECT_EQ(find(lines, "binary containerd").result, CheckResult::ok);
  EXPECT_EQ(find(lines, "binary runc").result, CheckResult::fail);
  EXPECT_FALSE(find(lines, "binary runc").enforced_by_run);
  EXPECT_FALSE(has(lines, "binary kubelet")) << "kubelet runs in a container by default";

  const auto pre = preflight_lines(worker(), fake());
  EXPECT_TRUE(has(pre, "binary bootstrap-docker"));
  EXPECT_FALSE(has(pre, "binary runc"));

  // A disabled stage's binary is nobody's business.
  Config c = worker();
  for (const char* s : {kStageBootstrapDocker, kStageMainDocker}) c.stages.at(s).enabled = false;
  const auto none = binary_checks(c, fake());
  EXPECT_FALSE(has(none, "binary bootstrap-docker"));
  EXPECT_EQ(find(none, "binary dockerd").result, CheckResult::skipped);
  EXPECT_EQ(find(none, "binary runc").result, CheckResult::skipped);
}

TEST_F(CheckTest, FoldersMustBeWritableOrCreatableAndNothingIsCreated) {
  Config c = worker();
  std::ofstream(dir_ + "/a-file") << "x";
  c.paths.state_dir = dir_ + "/a-file/state";
  const auto lines = path_checks(c);
  const auto& state = find(lines, "path paths.state_dir");
  EXPECT_EQ(state.result, CheckResult::fail);
  EXPECT_EQ(contains(state.found, "is not a folder"), "");
  EXPECT_TRUE(state.enforced_by_run);
  const auto& run = find(lines, "path paths.run_dir");
  EXPECT_EQ(run.result, CheckResult::ok);
  EXPECT_EQ(contains(run.found, "would be created under " + dir_), "");
  EXPECT_FALSE(fs::exists(c.paths.run_dir)) << "a check creates nothing";
  EXPECT_TRUE(has(lines, "path paths.main_docker_data_root"));
  EXPECT_FALSE(has(lines, "path paths.etcd_data_dir")) << "a worker runs no etcd";
  EXPECT_EQ(contains(find(lines, "path paths.image_dir").found, "absent"), "");

  if (::geteuid() != 0) {  // root may write anywhere that is not read-only
    fs::create_directories(dir_ + "/ro");
    fs::permissions(dir_ + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    c.paths.state_dir = dir_ + "/ro/state";
    EXPECT_EQ(find(path_checks(c), "path paths.state_dir").result, CheckResult::fail);
    fs::permissions(dir_ + "/ro", fs::perms::owner_all);
  }
}

// A listening socket on 127.0.0.1 at a port the kernel picked; 0 if none.
int listen_on_loopback(int* fd_out, bool listen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  if (listen && ::listen(fd, 4) != 0) return 0;
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *fd_out = fd;
  return ntohs(sa.sin_port);
}

TEST_F(CheckTest, PortInUseFailsNamingThePortAndItsHolder) {
  int held = -1;
  const int port = listen_on_loopback(&held, true);
  ASSERT_NE(port, 0);
  int freed = -1;
  const int free_port = listen_on_loopback(&freed, false);
  ::close(freed);  // bound but never listening, then closed: free again

  CheckOptions opts;
  opts.local_ports = std::vector<WantedPort>{{port, "kubelet API"}, {free_port, "kubelet healthz"}};
  const auto lines = port_checks(worker(), real_machine(), opts);
  ::close(held);
  const auto& busy = find(lines, "port " + std::to_string(port));
  EXPECT_EQ(busy.result, CheckResult::fail);
  EXPECT_EQ(contains(busy.found, "kubelet API"), "");
  EXPECT_EQ(contains(busy.found, "pid " + std::to_string(::getpid())), "")
      << "the holder is this test";
  EXPECT_FALSE(busy.enforced_by_run);
  EXPECT_EQ(find(lines, "port " + std::to_string(free_port)).result, CheckResult::ok);
}

TEST_F(CheckTest, PortsFollowTheStagesThatRun) {
  auto ports = [](const Config& c) {
    std::set<int> out;
    for (const auto& p : local_ports_of(c)) out.insert(p.port);
    return out;
  };
  Config w = worker();
  EXPECT_EQ(ports(w), (std::set<int>{10248, 10250, 10256}));
  Config m = worker();
  m.role = Role::master;
  EXPECT_EQ(ports(m), (std::set<int>{2379, 8080, 10248, 10250, 10256}));
  m.stages.at(kStageKubelet).enabled = false;
  EXPECT_EQ(ports(m), (std::set<int>{2379, 10256}));
}

TEST_F(CheckTest, AWorkerChecksTheApiServerWhereItJoins) {
  auto ports = [](const Config& c) {
    std::set<int> out;
    for (const auto& p : master_ports_of(c)) out.insert(p.port);
    return out;
  };
  Config w = worker();
  EXPECT_EQ(ports(w), (std::set<int>{2379, 8080})) << "the insecure port up to v1.19";
  w.cluster.api_server = "https://" + w.master_ip + ":6443";
  EXPECT_EQ(ports(w), (std::set<int>{2379, 6443}));
  w.cluster.api_server = "https://" + w.master_ip;
  EXPECT_EQ(ports(w), (std::set<int>{2379, 443}));
}

TEST_F(CheckTest, MasterThatRefusesFails) {
  int listening = -1;
  const int open_port = listen_on_loopback(&listening, true);
  int closed = -1;
  const int closed_port = listen_on_loopback(&closed, false);
  ::close(closed);
  Config c = worker();
  c.master_ip = "127.0.0.1";
  CheckOptions opts;
  opts.master_ports = std::vector<WantedPort>{{open_port, "kube-apiserver"}, {closed_port, "etcd"}};
  const auto lines = master_checks(c, real_machine(), opts);
  ::close(listening);
  EXPECT_EQ(find(lines, "master 127.0.0.1:" + std::to_string(open_port)).result, CheckResult::ok);
  const auto& refused = find(lines, "master 127.0.0.1:" + std::to_string(closed_port));
  EXPECT_EQ(refused.result, CheckResult::fail);
  EXPECT_EQ(contains(refused.found, "refused"), "");
  EXPECT_EQ(contains(refused.remedy, "MASTER_IP"), "");
}

// A master that never answers. An unroutable address would do on most machines, but a sandbox may
// answer every outbound connection itself: so a local listener whose accept queue is full (backlog
// 0 and one connection waiting), whose kernel drops further SYNs.
TEST_F(CheckTest, MasterThatNeverAnswersFailsWithinTheTimeout) {
  int listener = -1;
  const int port = listen_on_loopback(&listener, false);
  ASSERT_NE(port, 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);

  Config c = worker();
  c.master_ip = "127.0.0.1";
  CheckOptions opts;
  opts.timeout = Millis(300);
  opts.master_ports = std::vector<WantedPort>{{port, "kube-apiserver"}, {port, "etcd"}};
  const auto start = std::chrono::steady_clock::now();
  const auto lines = master_checks(c, real_machine(), opts);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(filler);
  ::close(listener);
  ASSERT_EQ(lines.size(), 2u) << render_check_text(lines);
  for (const auto& l : lines) {
    EXPECT_EQ(l.result, CheckResult::fail) << l.name << ": " << l.found;
    EXPECT_EQ(contains(l.found, "no answer within 300 ms"), "");
  }
  EXPECT_GE(took, std::chrono::milliseconds(300));
  // Both ports at once: one timeout, not two.
  EXPECT_LT(took, std::chrono::milliseconds(550));
}

TEST_F(CheckTest, TheMasterDoesNotCheckItself) {
  Config c = worker();
  c.role = Role::master;
  const auto lines = master_checks(c, fake(), CheckOptions{});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].result, CheckResult::skipped);
  EXPECT_EQ(connects_, 0);
}

TEST_F(CheckTest, RunsPreflightSkipsPortsMasterAndKernel) {
  Machine m = fake();
  m.bind_port = [this](int) -> Status {
    ++binds_;
    return Error{"in use"};
  };
  m.connect = [this](const std::string&, int, Millis) -> Status {
    ++connects_;
    return Error{"refused"};
  };
  const auto lines = preflight_lines(worker(), m);
  for (const auto& l : lines) {
    EXPECT_TRUE(l.name.rfind("binary ", 0) == 0 || l.name.rfind("path ", 0) == 0) << l.name;
    EXPECT_TRUE(l.enforced_by_run) << l.name;
    EXPECT_NE(l.result, CheckResult::fail) << l.name << ": " << l.found;
  }
  EXPECT_EQ(binds_, 0);
  EXPECT_EQ(connects_, 0);
  EXPECT_EQ(commands_run_, 0);
  EXPECT_TRUE(has(lines, "path paths.kubelet_dir"));
  EXPECT_FALSE(has(lines, "path paths.image_dir")) << "only read: not enforced";

  // Every stage off (as the CLI tests run it): only the agent's own folders are looked at.
  Config off = worker();
  for (auto& [name, stage] : off.stages) stage.enabled = false;
  std::vector<std::string> names;
  for (const auto& l : preflight_lines(off, m)) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"path paths.run_dir", "path paths.state_dir"}));
}

TEST_F(CheckTest, TableShowsRemediesOnlyForWarnAndFail) {
  const std::vector<CheckLine> lines{
      {"cgroup memory", CheckResult::fail, "disabled in /proc/cgroups", "cgroup_enable=memory",
       false},
      {"kernel config", CheckResult::warn, "absent", "modprobe configs", false},
      {"veth", CheckResult::ok, "built-in", "", false},
      {"vxlan", CheckResult::skipped, "flannel_backend is udp", "", false}};
  const std::string text = render_check_text(lines);
  EXPECT_EQ(contains(text, "cgroup memory  FAIL     disabled in /proc/cgroups\n"), "") << text;
  EXPECT_EQ(contains(text, "fix: cgroup_enable=memory\n"), "");
  EXPECT_EQ(contains(text, "fix: modprobe configs\n"), "");
  EXPECT_EQ(contains(text, "1 ok, 1 warn, 1 FAIL, 1 skipped"), "");
  const auto j = render_check_json(lines);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["checks"][0]["result"], "FAIL");
  EXPECT_EQ(j["checks"][0]["remedy"], "cgroup_enable=memory");
}

// The binary on this machine.
class CheckCliTest : public CheckTest {
 protected:
  std::map<std::string, std::string> env() const {
    return {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
  }
  std::vector<std::string> agent(const std::vector<std::string>& args) {
    std::vector<std::string> v{KNA_AGENT_BINARY};
    v.insert(v.end(), args.begin(), args.end());
    std::ofstream(dir_ + "/config.json") << "{}";
    for (const std::string& f : std::vector<std::string>{
             "--config", dir_ + "/config.json", "--role", "worker", "--master-ip", "127.0.0.1",
             "--arch", "amd64", "--net-interface", "eth0", "--node-name", "n1", "--set",
             "paths.run_dir=" + dir_ + "/run", "--set", "paths.state_dir=" + dir_ + "/state"}) {
      v.push_back(f);
    }
    for (const char* key :
         {"bootstrap_docker_data_root", "bootstrap_docker_exec_root", "main_docker_data_root",
          "main_docker_exec_root", "flannel_run_dir", "kubelet_dir"}) {
      v.insert(v.end(), {"--set", std::string("paths.") + key + "=" + dir_ + "/" + key});
    }
    return v;
  }
};

TEST_F(CheckCliTest, CheckOnThisMachineListsEveryCheckAndExitsByItsFailures) {
  auto args = agent({"check", "--timeout-ms", "300"});
  auto r = test::run_program(args, env());
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << "\n" << r.err;
  for (const std::string name : {"kernel config",
                                 "kernel options",
                                 "cgroups",
                                 "cgroup cpu",
                                 "cgroup cpuset",
                                 "cgroup memory",
                                 "cgroup pids",
                                 "overlayfs",
                                 "bridge",
                                 "veth",
                                 "br_netfilter",
                                 "net.bridge.bridge-nf-call-iptables",
                                 "net.ipv4.ip_forward",
                                 "iptables",
                                 "vxlan",
                                 "tun",
                                 "binary bootstrap-docker",
                                 "binary main-docker",
                                 "binary containerd",
                                 "binary runc",
                                 "path paths.run_dir",
                                 "path paths.state_dir",
                                 "path paths.bootstrap_docker_data_root",
                                 "path paths.main_docker_exec_root",
                                 "path paths.flannel_run_dir",
                                 "path paths.kubelet_dir",
                                 "port 10248",
                                 "port 10250",
                                 "port 10256",
                                 "master 127.0.0.1:8080",
                                 "master 127.0.0.1:2379"}) {
    EXPECT_NE(r.out.find("\n" + name + " "), std::string::npos) << name << "\n" << r.out;
  }
  const bool failed = r.out.find(" FAIL ") != std::string::npos;
  EXPECT_EQ(r.exit_code, failed ? 1 : 0) << r.out;
  EXPECT_FALSE(fs::exists(dir_ + "/run")) << "check creates nothing";

  auto j = test::run_program(agent({"check", "-o", "json", "--timeout-ms", "300"}), env());
  const auto parsed = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << j.out;
  EXPECT_EQ(parsed["ok"], j.exit_code == 0);
  size_t rows = 0;  // table rows: every line but the header, the summary and the "fix:" lines
  std::istringstream text(r.out);
  for (std::string row; std::getline(text, row);) rows += !row.empty() && row[0] != ' ' ? 1 : 0;
  EXPECT_EQ(parsed["checks"].size(), rows - 2) << j.out;
}

TEST_F(CheckCliTest, InvalidConfigurationExits78) {
  auto args = agent({"check"});
  args.insert(args.end(), {"--flannel-network", "10.1.0.1/16"});
  auto r = test::run_program(args, env());
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("Nothing was started"), std::string::npos) << r.err;
}

TEST_F(CheckCliTest, RunRefusesToStartWithoutTheBinaryOfAProcessStage) {
  auto args = agent({"run"});
  for (const char* stage :
       {"etcd", "flannel", "main-docker", "cri-dockerd", "kubelet", "kube-proxy"}) {
    args.insert(args.end(), {"--set", std::string("stages.") + stage + ".enabled=false"});
  }
  args.insert(args.end(), {"--set", "stages.bootstrap-docker.binary=" + dir_ + "/no/dockerd"});
  // In the background, so that an agent that does start (the preflight broken) fails the test
  // instead of hanging it; it is SIGKILLed when `agent` goes out of scope.
  test::Background agent(args, env(), dir_ + "/agent.log");
  const auto r = agent.wait(10'000);
  ASSERT_NE(r.exit_code, -2) << "the agent started instead of refusing to";
  EXPECT_EQ(r.exit_code, 78) << r.out;
  EXPECT_NE(r.out.find("binary bootstrap-docker"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: install"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ + "/run")) << "nothing was started";
}

}  // namespace
}  // namespace kna::app
