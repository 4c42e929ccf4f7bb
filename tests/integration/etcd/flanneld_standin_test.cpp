// The flanneld stand-in (tests/standins) as a process against a real etcd, through both APIs.

#include <sys/inotify.h>

#include <fstream>
#include <sstream>

#include "clients/flannel_config.hpp"
#include "harness.hpp"
#include "kna/catalogue.hpp"

namespace kna::test {
namespace {

constexpr const char* kConfigKey = "/coreos.com/network/config";
constexpr const char* kAcquired = "Subnet lease acquired: ";
constexpr auto kStartTimeout = std::chrono::seconds(15);

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// "10.1.0.0/24" from the stand-in's "Subnet lease acquired: 10.1.0.0/24" line.
std::string acquired_subnet(const std::string& output) {
  const auto at = output.find(kAcquired);
  if (at == std::string::npos) return "";
  const auto start = at + std::string(kAcquired).size();
  return output.substr(start, output.find('\n', start) - start);
}

std::string lease_key(const std::string& cidr, const std::string& prefix = "/coreos.com/network") {
  auto key = cidr;
  key[key.find('/')] = '-';
  return prefix + "/subnets/" + key;
}

class FlanneldStandinTest : public ::testing::TestWithParam<EtcdApi> {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
  }

  EtcdClient client() { return etcd_->client(GetParam()); }

  void write_config(
      const std::string& value = R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})",
      const std::string& key = kConfigKey) {
    auto etcd = client();
    const auto put = etcd.put(key, value);
    ASSERT_TRUE(put.ok()) << put.error().message;
  }

  std::unique_ptr<ChildProcess> start(const std::string& subnet_file, const std::string& public_ip,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{kFlanneld, "--etcd-endpoints=" + etcd_->endpoint(),
                                  "--subnet-file=" + subnet_file, "--public-ip=" + public_ip,
                                  std::string("--etcd-api=") + api_name(GetParam())};
    for (auto& arg : extra) argv.push_back(std::move(arg));
    return std::make_unique<ChildProcess>(argv);
  }

  // Starts a stand-in and returns its subnet once leased (empty and a failure if it is not).
  std::string start_and_lease(std::unique_ptr<ChildProcess>& child, const std::string& subnet_file,
                              const std::string& public_ip, std::vector<std::string> extra = {}) {
    child = start(subnet_file, public_ip, std::move(extra));
    EXPECT_TRUE(child->wait_for_output(kAcquired, kStartTimeout)) << child->output();
    return acquired_subnet(child->output());
  }

  void stop(ChildProcess& child) {
    child.signal(SIGTERM);
    const auto status = child.wait_exit(std::chrono::seconds(10));
    EXPECT_EQ(exit_description(status), "exit code 0") << child.output();
  }

  TempDir dir_;
  std::optional<EtcdProcess> etcd_;
};

TEST_P(FlanneldStandinTest, LeasesASlash24AndWritesSubnetEnvInFlannelsFormat) {
  write_config();
  std::unique_ptr<ChildProcess> flanneld;
  const auto subnet = start_and_lease(flanneld, dir_ / "run/subnet.env", "192.0.2.10",
                                      {"--ip-masq=true", "--iface=eth-unused"});
  EXPECT_EQ(subnet, "10.1.0.0/24");
  EXPECT_EQ(read_file(dir_ / "run/subnet.env"),
            "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.0.1/24\nFLANNEL_MTU=1472\n"
            "FLANNEL_IPMASQ=true\n");
  EXPECT_TRUE(parse_subnet_env(read_file(dir_ / "run/subnet.env")).ok());

  auto etcd = client();
  const auto lease = etcd.get(lease_key(subnet));
  ASSERT_TRUE(lease.ok() && lease.value()) << (lease.ok() ? "no lease" : lease.error().message);
  EXPECT_EQ(lease.value()->value, R"({"PublicIP":"192.0.2.10","BackendType":"udp"})");
  EXPECT_TRUE(lease.value()->expires);
}

TEST_P(FlanneldStandinTest, MtuAndSubnetLengthFollowTheConfig) {
  write_config(R"({"Network":"10.5.0.0/16","SubnetLen":26,"Backend":{"Type":"vxlan"}})");
  std::unique_ptr<ChildProcess> flanneld;
  EXPECT_EQ(start_and_lease(flanneld, dir_ / "subnet.env", "192.0.2.10"), "10.5.0.0/26");
  const auto parsed = parse_subnet_env(read_file(dir_ / "subnet.env"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value(), (FlannelSubnet{"10.5.0.0/16", "10.5.0.1/26", 1450, false}));
}

TEST_P(FlanneldStandinTest, WritesSubnetEnvByRenamingACompleteFile) {
  write_config();
  const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, dir_.path().c_str(),
                                IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO),
            0);
  std::unique_ptr<ChildProcess> flanneld;
  ASSERT_FALSE(start_and_lease(flanneld, dir_ / "subnet.env", "192.0.2.10").empty());

  // Everything that happened to subnet.env itself: it must only ever appear by rename.
  std::vector<std::uint32_t> events_on_target;
  alignas(inotify_event) char buffer[8192];
  for (;;) {
    const auto n = ::read(watch, buffer, sizeof(buffer));
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      inotify_event event;
      std::memcpy(&event, p, sizeof(event));
      const std::string name = event.len > 0 ? std::string(p + sizeof(inotify_event)) : "";
      if (name == "subnet.env") events_on_target.push_back(event.mask);
      p += sizeof(inotify_event) + event.len;
    }
  }
  ::close(watch);
  EXPECT_EQ(events_on_target, std::vector<std::uint32_t>{IN_MOVED_TO});
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    files.push_back(entry.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"subnet.env"});  // no temporary file left behind
}

TEST_P(FlanneldStandinTest, TwoStandInsLeaseDifferentSubnets) {
  write_config(R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})", "/kna/net/config");
  std::unique_ptr<ChildProcess> a;
  std::unique_ptr<ChildProcess> b;
  const auto subnet_a = start_and_lease(a, dir_ / "a.env", "192.0.2.1", {"--etcd-prefix=/kna/net"});
  const auto subnet_b =
      start_and_lease(b, dir_ / "b.env", "192.0.2.2", {"--etcd-prefix=/kna/net/"});
  EXPECT_FALSE(subnet_a.empty());
  EXPECT_FALSE(subnet_b.empty());
  EXPECT_NE(subnet_a, subnet_b);
  auto etcd = client();
  const auto leases = etcd.list("/kna/net/subnets/");
  ASSERT_TRUE(leases.ok()) << leases.error().message;
  EXPECT_EQ(leases.value().size(), 2u);
}

TEST_P(FlanneldStandinTest, RestartWithSubnetEnvKeepsTheSubnetEvenAfterTheLeaseWent) {
  write_config();
  write_file(dir_ / "subnet.env",
             "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.77.1/24\nFLANNEL_MTU=1472\n"
             "FLANNEL_IPMASQ=false\n");
  std::unique_ptr<ChildProcess> first;
  EXPECT_EQ(start_and_lease(first, dir_ / "subnet.env", "192.0.2.10"), "10.1.77.0/24");
  stop(*first);

  auto etcd = client();
  ASSERT_TRUE(etcd.remove(lease_key("10.1.77.0/24")).value());  // as if the lease expired
  std::unique_ptr<ChildProcess> second;
  EXPECT_EQ(start_and_lease(second, dir_ / "subnet.env", "192.0.2.10"), "10.1.77.0/24");
  EXPECT_NE(read_file(dir_ / "subnet.env").find("FLANNEL_SUBNET=10.1.77.1/24\n"),
            std::string::npos);
}

TEST_P(FlanneldStandinTest, RestartWithoutSubnetEnvFindsItsOwnLeaseByPublicIp) {
  write_config();
  std::unique_ptr<ChildProcess> a;
  std::unique_ptr<ChildProcess> b;
  EXPECT_EQ(start_and_lease(a, dir_ / "a.env", "192.0.2.1"), "10.1.0.0/24");
  EXPECT_EQ(start_and_lease(b, dir_ / "b.env", "192.0.2.2"), "10.1.1.0/24");
  stop(*a);
  std::filesystem::remove(dir_ / "a.env");
  // 10.1.0.0/24 is still leased, so only recognising the lease as its own brings A back to it.
  std::unique_ptr<ChildProcess> again;
  EXPECT_EQ(start_and_lease(again, dir_ / "a.env", "192.0.2.1"), "10.1.0.0/24");
}

TEST_P(FlanneldStandinTest, PreviousSubnetHeldByAnotherNodeIsLeftToIt) {
  write_config();
  auto etcd = client();
  ASSERT_TRUE(etcd.create(lease_key("10.1.77.0/24"),
                          R"({"PublicIP":"192.0.2.99","BackendType":"udp"})",
                          std::chrono::seconds(60))
                  .value());
  write_file(dir_ / "subnet.env",
             "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.77.1/24\nFLANNEL_MTU=1472\n"
             "FLANNEL_IPMASQ=false\n");
  std::unique_ptr<ChildProcess> flanneld;
  EXPECT_EQ(start_and_lease(flanneld, dir_ / "subnet.env", "192.0.2.10"), "10.1.0.0/24");
  EXPECT_NE(flanneld->output().find("Previous subnet 10.1.77.0/24 is leased by another node"),
            std::string::npos);
  EXPECT_EQ(etcd.get(lease_key("10.1.77.0/24")).value()->value,
            R"({"PublicIP":"192.0.2.99","BackendType":"udp"})");
}

TEST_P(FlanneldStandinTest, MissingConfigRetriesThenExitsOneWithFlannelsMessage) {
  auto flanneld =
      start(dir_ / "subnet.env", "192.0.2.10", {"--config-attempts=3", "--retry-interval-ms=50"});
  const auto status = flanneld->wait_exit(kStartTimeout);
  EXPECT_EQ(exit_description(status), "exit code 1") << flanneld->output();
  const std::string message =
      "Couldn't fetch network config: 100: Key not found (/coreos.com/network/config)";
  EXPECT_TRUE(flanneld->wait_for_output_count(message, 3, std::chrono::milliseconds(0)))
      << flanneld->output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "subnet.env"));
}

TEST_P(FlanneldStandinTest, ConfigWrittenWhileRetryingIsPickedUp) {
  auto flanneld =
      start(dir_ / "subnet.env", "192.0.2.10", {"--config-attempts=200", "--retry-interval-ms=50"});
  ASSERT_TRUE(flanneld->wait_for_output("Couldn't fetch network config", kStartTimeout))
      << flanneld->output();
  auto etcd = client();
  ASSERT_TRUE(ensure_network_config(etcd, "/coreos.com/network", "10.1.0.0/16", "udp").ok());
  EXPECT_TRUE(flanneld->wait_for_output(kAcquired, kStartTimeout)) << flanneld->output();
}

TEST_P(FlanneldStandinTest, SigtermWhileWaitingForConfigExitsZero) {
  auto flanneld = start(dir_ / "subnet.env", "192.0.2.10",
                        {"--config-attempts=1000", "--retry-interval-ms=1000"});
  ASSERT_TRUE(flanneld->wait_for_output("Couldn't fetch network config", kStartTimeout));
  stop(*flanneld);
}

TEST_P(FlanneldStandinTest, SigtermAfterLeasingExitsZero) {
  write_config();
  std::unique_ptr<ChildProcess> flanneld;
  ASSERT_FALSE(start_and_lease(flanneld, dir_ / "subnet.env", "192.0.2.10").empty());
  stop(*flanneld);
  EXPECT_NE(flanneld->output().find("Exiting cleanly on signal 15"), std::string::npos);
}

TEST_P(FlanneldStandinTest, RenewsTheLeaseBeyondItsTtl) {
  write_config();
  std::unique_ptr<ChildProcess> flanneld;
  const auto subnet =
      start_and_lease(flanneld, dir_ / "subnet.env", "192.0.2.10", {"--lease-ttl-s=2"});
  ASSERT_FALSE(subnet.empty());
  // Renewals come every ttl/3 (clamped to at least 0.5 s): five of them outlast the 2 s TTL.
  ASSERT_TRUE(flanneld->wait_for_output_count("Lease renewed: " + subnet, 5, kStartTimeout))
      << flanneld->output();
  auto etcd = client();
  const auto lease = etcd.get(lease_key(subnet));
  ASSERT_TRUE(lease.ok() && lease.value()) << flanneld->output();
}

INSTANTIATE_TEST_SUITE_P(Api, FlanneldStandinTest, ::testing::Values(EtcdApi::v2, EtcdApi::v3),
                         ApiName());

class FlanneldStandinFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
  }
  TempDir dir_;
  std::optional<EtcdProcess> etcd_;
};

TEST_F(FlanneldStandinFlags, EnvironmentSelectsTheV3Api) {
  auto v3 = etcd_->client(EtcdApi::v3);
  ASSERT_TRUE(ensure_network_config(v3, "/coreos.com/network", "10.1.0.0/16", "udp").ok());
  ChildProcess flanneld({kFlanneld, "--etcd-endpoints=" + etcd_->endpoint(),
                         "--subnet-file=" + dir_ / "subnet.env", "--public-ip=192.0.2.10"},
                        {{"FLANNELD_ETCD_API", "v3"}});
  ASSERT_TRUE(flanneld.wait_for_output(kAcquired, kStartTimeout)) << flanneld.output();
  EXPECT_TRUE(v3.get(lease_key(acquired_subnet(flanneld.output()))).value());
}

TEST_F(FlanneldStandinFlags, DefaultsToV2) {
  auto v2 = etcd_->client(EtcdApi::v2);
  ASSERT_TRUE(ensure_network_config(v2, "/coreos.com/network", "10.1.0.0/16", "udp").ok());
  ChildProcess flanneld({kFlanneld, "--etcd-endpoints=" + etcd_->endpoint(),
                         "--subnet-file=" + dir_ / "subnet.env", "--public-ip=192.0.2.10"},
                        {{"FLANNELD_ETCD_API", ""}});
  ASSERT_TRUE(flanneld.wait_for_output(kAcquired, kStartTimeout)) << flanneld.output();
  EXPECT_TRUE(v2.get(lease_key(acquired_subnet(flanneld.output()))).value());
}

TEST_F(FlanneldStandinFlags, PublicIpComesFromTheInterface) {
  auto v2 = etcd_->client(EtcdApi::v2);
  ASSERT_TRUE(ensure_network_config(v2, "/coreos.com/network", "10.1.0.0/16", "udp").ok());
  ChildProcess flanneld({kFlanneld, "--etcd-endpoints=" + etcd_->endpoint(),
                         "--subnet-file=" + dir_ / "subnet.env", "--iface=lo"});
  ASSERT_TRUE(flanneld.wait_for_output(kAcquired, kStartTimeout)) << flanneld.output();
  const auto lease = v2.get(lease_key(acquired_subnet(flanneld.output())));
  ASSERT_TRUE(lease.ok() && lease.value());
  EXPECT_EQ(lease.value()->value, R"({"PublicIP":"127.0.0.1","BackendType":"udp"})");
}

TEST_F(FlanneldStandinFlags, UnknownInterfaceExitsOne) {
  ChildProcess flanneld({kFlanneld, "--etcd-endpoints=" + etcd_->endpoint(),
                         "--subnet-file=" + dir_ / "subnet.env", "--iface=kna-no-such0"});
  EXPECT_EQ(exit_description(flanneld.wait_exit(kStartTimeout)), "exit code 1");
  EXPECT_NE(flanneld.output().find("kna-no-such0"), std::string::npos);
}

}  // namespace
}  // namespace kna::test
