#include "clients/etcd_codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kna::etcd {
namespace {

using nlohmann::json;

TEST(EtcdBase64, EncodesWithPaddingLikeTheV3Gateway) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("/x/k"), "L3gvaw==");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(EtcdBase64, DecodesWhatItEncodesForEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len < all.size(); len += 37) {
    const auto bytes = all.substr(len);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
}

TEST(EtcdBase64, RejectsMalformedText) {
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);       // length not a multiple of 4
  EXPECT_EQ(base64_decode("Z!=="), std::nullopt);      // not in the alphabet
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt);  // padding in the middle
  EXPECT_EQ(base64_decode("=Zg="), std::nullopt);
  EXPECT_EQ(base64_decode("Zh=="), std::nullopt);  // non-zero bits after the last byte
  EXPECT_EQ(base64_decode("Zg=a"), std::nullopt);
}

TEST(EtcdRangeEnd, IncrementsTheLastByteOfThePrefix) {
  EXPECT_EQ(prefix_range_end("/coreos.com/network/subnets/"), "/coreos.com/network/subnets0");
  EXPECT_EQ(prefix_range_end("a"), "b");
}

TEST(EtcdRangeEnd, DropsTrailingFfBytesBeforeIncrementing) {
  EXPECT_EQ(prefix_range_end(std::string("a\xff\xff", 3)), "b");
}

TEST(EtcdRangeEnd, SelectsEveryKeyWhenNothingCanBeIncremented) {
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(EtcdUrl, EncodesReservedCharactersButKeepsSlashesInKeyPaths) {
  EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(v2_key_path("/coreos.com/network/subnets/10.1.5.0-24"),
            "/v2/keys/coreos.com/network/subnets/10.1.5.0-24");
  EXPECT_EQ(v2_key_path("a b/c?d"), "/v2/keys/a%20b/c%3Fd");
}

TEST(EtcdV2, ParsesAValueNode) {
  const auto kv = parse_v2_value(
      R"({"action":"get","node":{"key":"/a/b","value":"x","modifiedIndex":4,"createdIndex":4}})");
  ASSERT_TRUE(kv.ok()) << kv.error().message;
  EXPECT_EQ(kv.value().key, "/a/b");
  EXPECT_EQ(kv.value().value, "x");
  EXPECT_EQ(kv.value().revision, 4);
  EXPECT_FALSE(kv.value().expires);
}

TEST(EtcdV2, MarksNodesWithATtlAsExpiring) {
  const auto kv = parse_v2_value(
      R"({"action":"create","node":{"key":"/l","value":"v","expiration":"2026-01-01T00:00:00Z",)"
      R"("ttl":30,"modifiedIndex":9,"createdIndex":9}})");
  ASSERT_TRUE(kv.ok()) << kv.error().message;
  EXPECT_TRUE(kv.value().expires);
}

TEST(EtcdV2, RefusesADirectoryWhereAValueIsExpected) {
  const auto kv = parse_v2_value(R"({"action":"get","node":{"key":"/a","dir":true}})");
  ASSERT_FALSE(kv.ok());
  EXPECT_NE(kv.error().message.find("/a is a directory"), std::string::npos);
}

TEST(EtcdV2, FlattensARecursiveListingToItsLeaves) {
  const auto kvs = parse_v2_nodes(R"({"action":"get","node":{"key":"/n","dir":true,"nodes":[
      {"key":"/n/config","value":"{}","modifiedIndex":5},
      {"key":"/n/subnets","dir":true,"nodes":[
        {"key":"/n/subnets/10.1.0.0-24","value":"a","modifiedIndex":6,"ttl":5},
        {"key":"/n/subnets/10.1.1.0-24","value":"b","modifiedIndex":7}]},
      {"key":"/n/empty","dir":true}]}})");
  ASSERT_TRUE(kvs.ok()) << kvs.error().message;
  ASSERT_EQ(kvs.value().size(), 3u);
  EXPECT_EQ(kvs.value()[0].key, "/n/config");
  EXPECT_EQ(kvs.value()[1].key, "/n/subnets/10.1.0.0-24");
  EXPECT_TRUE(kvs.value()[1].expires);
  EXPECT_EQ(kvs.value()[2].value, "b");
  EXPECT_EQ(kvs.value()[2].revision, 7);
}

TEST(EtcdV2, ParsesErrorBodiesInFlannelsWording) {
  const auto error =
      parse_v2_error(R"({"errorCode":100,"message":"Key not found","cause":"/zz","index":4})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, kV2KeyNotFound);
  EXPECT_EQ(error->describe(), "100: Key not found (/zz)");
  EXPECT_FALSE(parse_v2_error(R"({"action":"get"})"));
  EXPECT_FALSE(parse_v2_error("<html>"));
}

TEST(EtcdV2, ReportsAnAnswerThatIsNotJson) {
  const auto kvs = parse_v2_nodes("404 page not found\n");
  ASSERT_FALSE(kvs.ok());
  EXPECT_NE(kvs.error().message.find("not JSON: '404 page not found"), std::string::npos);
}

TEST(EtcdV3, BuildsARangeRequestWithBase64KeyAndRangeEnd) {
  EXPECT_EQ(json::parse(v3_range_request("/a/", std::nullopt)), json({{"key", "L2Ev"}}));
  EXPECT_EQ(json::parse(v3_range_request("/a/", prefix_range_end("/a/"))),
            json({{"key", "L2Ev"}, {"range_end", base64_encode("/a0")}}));
}

TEST(EtcdV3, BuildsAPutWithTheLeaseAsAString) {
  EXPECT_EQ(json::parse(v3_put_request("k", "v", 0)), json({{"key", "aw=="}, {"value", "dg=="}}));
  EXPECT_EQ(json::parse(v3_put_request("k", "", 42)),
            json({{"key", "aw=="}, {"value", ""}, {"lease", "42"}}));
}

TEST(EtcdV3, BuildsACreateTxnThatComparesCreateRevisionWithZero) {
  const auto txn = json::parse(v3_create_txn_request("k", "v", 7));
  EXPECT_EQ(txn["compare"], json::parse(R"([{"key":"aw==","result":"EQUAL","target":"CREATE",
                                             "create_revision":"0"}])"));
  EXPECT_EQ(txn["success"],
            json::parse(R"([{"request_put":{"key":"aw==","value":"dg==","lease":"7"}}])"));
  EXPECT_FALSE(txn.contains("failure"));
}

TEST(EtcdV3, BuildsLeaseRequests) {
  EXPECT_EQ(json::parse(v3_lease_grant_request(30)), json({{"TTL", "30"}}));
  EXPECT_EQ(json::parse(v3_lease_id_request(4111120178649708309)),
            json({{"ID", "4111120178649708309"}}));
  EXPECT_EQ(json::parse(v3_delete_request("k")), json({{"key", "aw=="}}));
}

TEST(EtcdV3, ParsesARangeWithStringIntegersAndOmittedZeroFields) {
  const auto kvs = parse_v3_range(
      R"({"header":{"revision":"3"},"kvs":[{"key":"L3gvZQ==","create_revision":"3","mod_revision":"3","version":"1"},)"
      R"({"key":"L3gvaw==","mod_revision":"2","value":"dmFs","lease":"4111120178649708309"}],"count":"2"})");
  ASSERT_TRUE(kvs.ok()) << kvs.error().message;
  ASSERT_EQ(kvs.value().size(), 2u);
  EXPECT_EQ(kvs.value()[0], (EtcdKeyValue{"/x/e", "", 3, false, 0}));
  EXPECT_EQ(kvs.value()[1], (EtcdKeyValue{"/x/k", "val", 2, true, 4111120178649708309}));
}

TEST(EtcdV3, ParsesAnEmptyRangeAsNoKeys) {
  const auto kvs = parse_v3_range(R"({"header":{"revision":"2"}})");
  ASSERT_TRUE(kvs.ok());
  EXPECT_TRUE(kvs.value().empty());
}

TEST(EtcdV3, RejectsARangeWithBadBase64) {
  const auto kvs = parse_v3_range(R"({"kvs":[{"key":"!!","mod_revision":"1"}]})");
  ASSERT_FALSE(kvs.ok());
  EXPECT_NE(kvs.error().message.find("\"key\""), std::string::npos);
}

TEST(EtcdV3, ReadsTxnOutcomeWhereFalseIsOmitted) {
  EXPECT_TRUE(parse_v3_txn_succeeded(R"({"header":{"revision":"2"},"succeeded":true})").value());
  EXPECT_FALSE(parse_v3_txn_succeeded(R"({"header":{"revision":"2"}})").value());
  EXPECT_FALSE(parse_v3_txn_succeeded(R"({"error":"x","code":3})").ok());
}

TEST(EtcdV3, ReadsRevisionLeaseAndDeletedCounts) {
  EXPECT_EQ(parse_v3_revision(R"({"header":{"revision":"12"}})").value(), 12);
  EXPECT_FALSE(parse_v3_revision(R"({"header":{"revision":"twelve"}})").ok());
  EXPECT_EQ(parse_v3_lease_grant(R"({"header":{},"ID":"99","TTL":"2"})").value(), 99);
  EXPECT_FALSE(parse_v3_lease_grant(R"({"header":{},"ID":"5","error":"too many"})").ok());
  EXPECT_EQ(parse_v3_deleted(R"({"header":{"revision":"4"},"deleted":"1"})").value(), 1);
  EXPECT_EQ(parse_v3_deleted(R"({"header":{"revision":"4"}})").value(), 0);
}

TEST(EtcdV3, ReadsAKeepaliveOfAVanishedLeaseAsTtlZero) {
  EXPECT_EQ(parse_v3_keepalive_ttl(R"({"result":{"header":{},"ID":"1","TTL":"30"}})").value(), 30);
  EXPECT_EQ(parse_v3_keepalive_ttl(R"({"result":{"header":{},"ID":"12345"}})").value(), 0);
  EXPECT_FALSE(parse_v3_keepalive_ttl(R"({"header":{}})").ok());
}

TEST(EtcdV3, DescribesGatewayErrors) {
  EXPECT_EQ(parse_v3_error(R"({"error":"illegal base64","message":"illegal base64","code":3})"),
            "illegal base64 (gRPC code 3)");
  EXPECT_EQ(parse_v3_error(R"({"header":{}})"), std::nullopt);
}

TEST(EtcdHealth, AcceptsTheAnswersOfEtcd2And3) {
  EXPECT_TRUE(parse_health(R"({"health":"true","reason":""})").value());
  EXPECT_TRUE(parse_health(R"({"health": "true"})").value());
  EXPECT_TRUE(parse_health(R"({"health":true})").value());
  EXPECT_FALSE(parse_health(R"({"health":"false","reason":"RAFT NO LEADER"})").value());
  EXPECT_FALSE(parse_health("ok").ok());
}

}  // namespace
}  // namespace kna::etcd
