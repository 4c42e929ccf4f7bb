// EtcdClient against a real etcd 3.4, every call through both APIs.

#include "clients/etcd_client.hpp"

#include <atomic>
#include <thread>

#include "harness.hpp"

namespace kna::test {
namespace {

using std::chrono::seconds;

class EtcdClientTest : public ::testing::TestWithParam<EtcdApi> {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
  }
  EtcdClient client() { return etcd_->client(GetParam()); }

  // Waits until `key` is gone: etcd expires keys on its own clock, which a test cannot advance.
  bool gone_within(EtcdClient& etcd, const std::string& key, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = etcd.get(key);
      if (got.ok() && !got.value()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::optional<EtcdProcess> etcd_;
};

TEST_P(EtcdClientTest, HealthIsOk) {
  auto etcd = client();
  const auto health = etcd.health();
  EXPECT_TRUE(health.ok()) << health.error().message;
}

TEST_P(EtcdClientTest, PutThenGetReturnsTheValueWithItsRevision) {
  auto etcd = client();
  const auto put = etcd.put("/kna/a", "hello world & more");
  ASSERT_TRUE(put.ok()) << put.error().message;
  const auto got = etcd.get("/kna/a");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got.value());
  EXPECT_EQ(got.value()->key, "/kna/a");
  EXPECT_EQ(got.value()->value, "hello world & more");
  EXPECT_EQ(got.value()->revision, put.value());
  EXPECT_FALSE(got.value()->expires);
}

TEST_P(EtcdClientTest, PutOverwritesAndRaisesTheRevision) {
  auto etcd = client();
  const auto first = etcd.put("/kna/a", "1");
  const auto second = etcd.put("/kna/a", "2");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_GT(second.value(), first.value());
  EXPECT_EQ(etcd.get("/kna/a").value()->value, "2");
}

TEST_P(EtcdClientTest, EmptyValuesSurviveTheRoundTrip) {
  auto etcd = client();
  ASSERT_TRUE(etcd.put("/kna/empty", "").ok());
  const auto got = etcd.get("/kna/empty");
  ASSERT_TRUE(got.ok() && got.value()) << (got.ok() ? "absent" : got.error().message);
  EXPECT_EQ(got.value()->value, "");
}

TEST_P(EtcdClientTest, GetOfAMissingKeyIsNoValue) {
  auto etcd = client();
  const auto got = etcd.get("/kna/missing");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_FALSE(got.value());
}

TEST_P(EtcdClientTest, CreateWinsOnceThenLosesWithoutChangingTheValue) {
  auto etcd = client();
  const auto first = etcd.create("/kna/lock", "mine", seconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first.value());
  const auto second = etcd.create("/kna/lock", "theirs", seconds(0));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second.value());
  EXPECT_EQ(etcd.get("/kna/lock").value()->value, "mine");
}

TEST_P(EtcdClientTest, TwoClaimantsRacingForEachKeyExactlyOneWins) {
  constexpr int kKeys = 20;
  std::atomic<int> wins_a{0};
  std::atomic<int> wins_b{0};
  std::atomic<int> errors{0};
  std::atomic<bool> go{false};
  const auto claimant = [&](const std::string& name, std::atomic<int>& wins) {
    auto etcd = client();
    while (!go) std::this_thread::yield();
    for (int i = 0; i < kKeys; ++i) {
      const auto won = etcd.create("/kna/race/" + std::to_string(i), name, seconds(30));
      if (!won)
        ++errors;
      else if (won.value())
        ++wins;
    }
  };
  std::thread a(claimant, "a", std::ref(wins_a));
  std::thread b(claimant, "b", std::ref(wins_b));
  go = true;
  a.join();
  b.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(wins_a + wins_b, kKeys);
  auto etcd = client();
  const auto all = etcd.list("/kna/race/");
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all.value().size(), static_cast<std::size_t>(kKeys));
  int held_by_a = 0;
  for (const auto& kv : all.value()) held_by_a += kv.value == "a" ? 1 : 0;
  EXPECT_EQ(held_by_a, wins_a);  // every winner's value is the one stored
}

TEST_P(EtcdClientTest, CreatedKeyWithTtlExpires) {
  auto etcd = client();
  ASSERT_TRUE(etcd.create("/kna/ttl", "v", seconds(1)).value());
  const auto got = etcd.get("/kna/ttl");
  ASSERT_TRUE(got.ok() && got.value());
  EXPECT_TRUE(got.value()->expires);
  EXPECT_TRUE(gone_within(etcd, "/kna/ttl", std::chrono::seconds(10)));
  EXPECT_TRUE(etcd.create("/kna/ttl", "again", seconds(0)).value());
}

TEST_P(EtcdClientTest, RefreshKeepsAKeyPastItsTtl) {
  auto etcd = client();
  ASSERT_TRUE(etcd.create("/kna/lease", "v", seconds(2)).value());
  // 4 s of refreshing every 0.5 s outlives a 2 s TTL (etcd's v3 minimum) twice over.
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto refreshed = etcd.refresh("/kna/lease", seconds(2));
    ASSERT_TRUE(refreshed.ok()) << "refresh " << i << ": " << refreshed.error().message;
  }
  const auto got = etcd.get("/kna/lease");
  ASSERT_TRUE(got.ok() && got.value());
  EXPECT_EQ(got.value()->value, "v");
}

TEST_P(EtcdClientTest, RefreshOfAnExpiredKeyIsNotFound) {
  auto etcd = client();
  ASSERT_TRUE(etcd.create("/kna/short", "v", seconds(1)).value());
  ASSERT_TRUE(gone_within(etcd, "/kna/short", std::chrono::seconds(10)));
  const auto refreshed = etcd.refresh("/kna/short", seconds(5));
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().kind, EtcdErrorKind::not_found) << refreshed.error().message;
  EXPECT_NE(refreshed.error().message.find(etcd_->endpoint()), std::string::npos);
}

TEST_P(EtcdClientTest, ListReturnsEveryKeyUnderThePrefixSorted) {
  auto etcd = client();
  ASSERT_TRUE(etcd.put("/kna/net/subnets/10.1.2.0-24", "b").ok());
  ASSERT_TRUE(etcd.put("/kna/net/subnets/10.1.1.0-24", "a").ok());
  ASSERT_TRUE(etcd.put("/kna/net/config", "c").ok());
  ASSERT_TRUE(etcd.put("/kna/netz", "outside").ok());
  const auto subnets = etcd.list("/kna/net/subnets/");
  ASSERT_TRUE(subnets.ok()) << subnets.error().message;
  ASSERT_EQ(subnets.value().size(), 2u);
  EXPECT_EQ(subnets.value()[0].key, "/kna/net/subnets/10.1.1.0-24");
  EXPECT_EQ(subnets.value()[1].value, "b");
  const auto net = etcd.list("/kna/net/");
  ASSERT_TRUE(net.ok()) << net.error().message;
  EXPECT_EQ(net.value().size(), 3u);
}

TEST_P(EtcdClientTest, ListOfAnAbsentPrefixIsEmpty) {
  auto etcd = client();
  const auto none = etcd.list("/kna/nothing/");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none.value().empty());
}

TEST_P(EtcdClientTest, RemoveDeletesOnlyThatKeyAndSaysWhetherItExisted) {
  auto etcd = client();
  ASSERT_TRUE(etcd.put("/kna/d/1", "x").ok());
  ASSERT_TRUE(etcd.put("/kna/d/2", "y").ok());
  EXPECT_TRUE(etcd.remove("/kna/d/1").value());
  EXPECT_FALSE(etcd.remove("/kna/d/1").value());
  EXPECT_FALSE(etcd.get("/kna/d/1").value());
  EXPECT_TRUE(etcd.get("/kna/d/2").value());
}

TEST_P(EtcdClientTest, AStoppedEtcdIsUnreachable) {
  const auto endpoint = etcd_->endpoint();
  etcd_.reset();
  EtcdClient etcd(EtcdOptions{{endpoint}, GetParam(), Millis(2000)});
  const auto got = etcd.get("/kna/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::unreachable);
  EXPECT_NE(got.error().message.find(endpoint), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Api, EtcdClientTest, ::testing::Values(EtcdApi::v2, EtcdApi::v3),
                         ApiName());

TEST(EtcdClientApis, TheTwoApisAreSeparateStores) {
  KNA_REQUIRE_ETCD();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.log();
  auto v2 = etcd.client(EtcdApi::v2);
  auto v3 = etcd.client(EtcdApi::v3);
  ASSERT_TRUE(v2.put("/kna/only-v2", "x").ok());
  EXPECT_FALSE(v3.get("/kna/only-v2").value());
}

TEST(EtcdClientApis, V2AgainstAnEtcdWithoutV2SaysHowToEnableIt) {
  KNA_REQUIRE_ETCD();
  EtcdProcess etcd(/*enable_v2=*/false);
  ASSERT_TRUE(etcd.ready()) << etcd.log();
  auto v2 = etcd.client(EtcdApi::v2);
  const auto got = v2.get("/kna/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::bad_response);
  EXPECT_NE(got.error().message.find("--enable-v2=true"), std::string::npos) << got.error().message;
  EXPECT_TRUE(etcd.client(EtcdApi::v3).get("/kna/a").ok());
}

}  // namespace
}  // namespace kna::test
