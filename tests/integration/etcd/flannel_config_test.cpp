// ensure_network_config against a real etcd through both APIs.

#include "clients/flannel_config.hpp"

#include "harness.hpp"

namespace kna::test {
namespace {

constexpr const char* kPrefix = "/coreos.com/network";
constexpr const char* kKey = "/coreos.com/network/config";
constexpr const char* kWanted = R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})";

class FlannelConfigTest : public ::testing::TestWithParam<EtcdApi> {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
  }
  EtcdClient client() { return etcd_->client(GetParam()); }
  EtcdClient other_api_client() {
    return etcd_->client(GetParam() == EtcdApi::v2 ? EtcdApi::v3 : EtcdApi::v2);
  }

  std::optional<EtcdProcess> etcd_;
};

TEST_P(FlannelConfigTest, CreatesTheConfigWhenAbsent) {
  auto etcd = client();
  const auto outcome = ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome.value().change, NetworkConfigChange::created);
  EXPECT_EQ(outcome.value().key, kKey);
  const auto stored = etcd.get(kKey);
  ASSERT_TRUE(stored.ok() && stored.value());
  EXPECT_EQ(stored.value()->value, kWanted);
}

TEST_P(FlannelConfigTest, WritesThroughTheApiTheClientSpeaks) {
  auto etcd = client();
  ASSERT_TRUE(ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp").ok());
  // etcd keeps v2 and v3 keys apart: flanneld only sees the config in the API it reads.
  auto other = other_api_client();
  const auto elsewhere = other.get(kKey);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.error().message;
  EXPECT_FALSE(elsewhere.value());
}

TEST_P(FlannelConfigTest, LeavesAnEquivalentConfigUntouched) {
  auto etcd = client();
  const std::string reformatted = R"({ "Backend": { "Type": "udp" }, "Network": "10.1.0.0/16" })";
  const auto written = etcd.put(kKey, reformatted);
  ASSERT_TRUE(written.ok()) << written.error().message;
  const auto outcome = ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome.value().change, NetworkConfigChange::unchanged);
  const auto stored = etcd.get(kKey);
  EXPECT_EQ(stored.value()->value, reformatted);
  EXPECT_EQ(stored.value()->revision, written.value());  // not even rewritten
}

TEST_P(FlannelConfigTest, ReplacesADifferentConfigAndReportsThePreviousOne) {
  auto etcd = client();
  const std::string old = R"({"Network":"10.2.0.0/16","Backend":{"Type":"vxlan"}})";
  ASSERT_TRUE(etcd.put(kKey, old).ok());
  const auto outcome = ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome.value().change, NetworkConfigChange::updated);
  EXPECT_EQ(outcome.value().previous, old);
  EXPECT_EQ(etcd.get(kKey).value()->value, kWanted);
}

TEST_P(FlannelConfigTest, ReplacesAConfigThatIsNotJson) {
  auto etcd = client();
  ASSERT_TRUE(etcd.put(kKey, "Network=10.1.0.0/16").ok());
  const auto outcome = ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome.value().change, NetworkConfigChange::updated);
  EXPECT_EQ(etcd.get(kKey).value()->value, kWanted);
}

TEST_P(FlannelConfigTest, OtherKeysUnderThePrefixSurvive) {
  auto etcd = client();
  const std::string lease = "/coreos.com/network/subnets/10.1.33.0-24";
  const std::string lease_value = R"({"PublicIP":"192.0.2.7","BackendType":"udp"})";
  ASSERT_TRUE(etcd.create(lease, lease_value, std::chrono::seconds(60)).value());
  ASSERT_TRUE(etcd.put("/coreos.com/network/other", "keep me").ok());
  ASSERT_TRUE(etcd.put(kKey, R"({"Network":"10.9.0.0/16"})").ok());

  ASSERT_TRUE(ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp").ok());
  ASSERT_TRUE(ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp").ok());

  const auto all = etcd.list("/coreos.com/network/");
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all.value().size(), 3u);
  EXPECT_EQ(all.value()[0].key, kKey);
  EXPECT_EQ(all.value()[1].value, "keep me");
  EXPECT_EQ(all.value()[2].key, lease);
  EXPECT_EQ(all.value()[2].value, lease_value);
  EXPECT_TRUE(all.value()[2].expires);  // the lease keeps its TTL
}

TEST_P(FlannelConfigTest, ASecondRunReportsUnchanged) {
  auto etcd = client();
  ASSERT_EQ(ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp").value().change,
            NetworkConfigChange::created);
  EXPECT_EQ(ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp").value().change,
            NetworkConfigChange::unchanged);
}

TEST_P(FlannelConfigTest, AnUnreachableEtcdIsAnErrorNamingIt) {
  const auto endpoint = etcd_->endpoint();
  etcd_.reset();
  EtcdClient etcd(EtcdOptions{{endpoint}, GetParam(), Millis(2000)});
  const auto outcome = ensure_network_config(etcd, kPrefix, "10.1.0.0/16", "udp");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("unreachable at " + endpoint), std::string::npos)
      << outcome.error().message;
}

INSTANTIATE_TEST_SUITE_P(Api, FlannelConfigTest, ::testing::Values(EtcdApi::v2, EtcdApi::v3),
                         ApiName());

}  // namespace
}  // namespace kna::test
