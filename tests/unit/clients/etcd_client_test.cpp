// EtcdClient against a scripted HTTP server: the requests it sends for each API and how it reads
// answers and failures. The real etcd is exercised in tests/integration/etcd.

#include "clients/etcd_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_codec.hpp"
#include "support/scripted_http_server.hpp"

namespace kna {
namespace {

using test::refused_endpoint;
using test::Reply;
using test::ScriptedServer;
using test::Seen;
using test::SilentListener;

using nlohmann::json;
using std::chrono::seconds;

EtcdClient client_for(const std::string& endpoint, EtcdApi api, Millis timeout = Millis(2000)) {
  return EtcdClient(EtcdOptions{{endpoint}, api, timeout});
}

std::string v2_value_answer(const std::string& key, const std::string& value, int index) {
  return json{{"action", "get"},
              {"node", {{"key", key}, {"value", value}, {"modifiedIndex", index}}}}
      .dump();
}

std::string v2_not_found(const std::string& key) {
  return json{{"errorCode", 100}, {"message", "Key not found"}, {"cause", key}, {"index", 4}}
      .dump();
}

std::string param(const Seen& seen, const std::string& name) {
  const auto it = seen.params.find(name);
  return it == seen.params.end() ? "<absent>" : it->second;
}

// --- v2 -----------------------------------------------------------------------------------------

TEST(EtcdClientV2, GetReadsTheValueAndIndexFromTheKeyPath) {
  ScriptedServer server([](const Seen&) { return Reply{200, v2_value_answer("/a/b", "x", 7)}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto got = etcd.get("/a/b");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got.value());
  EXPECT_EQ(got.value()->value, "x");
  EXPECT_EQ(got.value()->revision, 7);
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].method, "GET");
  EXPECT_EQ(server.seen()[0].path, "/v2/keys/a/b");
}

TEST(EtcdClientV2, GetOfAMissingKeyIsNoValueNotAnError) {
  ScriptedServer server([](const Seen&) { return Reply{404, v2_not_found("/a")}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto got = etcd.get("/a");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_FALSE(got.value());
}

TEST(EtcdClientV2, PutSendsTheValueAsAnEncodedFormField) {
  ScriptedServer server([](const Seen&) { return Reply{200, v2_value_answer("/k", "a b&c", 9)}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto put = etcd.put("/k", "a b&c");
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put.value(), 9);
  const auto seen = server.seen().at(0);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.body, "value=a%20b%26c");
  EXPECT_EQ(seen.content_type, "application/x-www-form-urlencoded");
}

TEST(EtcdClientV2, CreateAsksForPrevExistFalseWithTheTtl) {
  ScriptedServer server([](const Seen&) { return Reply{201, v2_value_answer("/l", "v", 3)}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto won = etcd.create("/l", "v", seconds(30));
  ASSERT_TRUE(won.ok()) << won.error().message;
  EXPECT_TRUE(won.value());
  const auto seen = server.seen().at(0);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(param(seen, "prevExist"), "false");
  EXPECT_EQ(param(seen, "ttl"), "30");
  EXPECT_EQ(seen.body, "value=v");
}

TEST(EtcdClientV2, CreateWithoutTtlSendsNoTtl) {
  ScriptedServer server([](const Seen&) { return Reply{201, v2_value_answer("/l", "v", 3)}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  ASSERT_TRUE(etcd.create("/l", "v", seconds(0)).ok());
  EXPECT_EQ(param(server.seen().at(0), "ttl"), "<absent>");
}

TEST(EtcdClientV2, CreateOfAnExistingKeyLoses) {
  ScriptedServer server([](const Seen&) {
    return Reply{412, R"({"errorCode":105,"message":"Key already exists","cause":"/l"})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto won = etcd.create("/l", "v", seconds(30));
  ASSERT_TRUE(won.ok()) << won.error().message;
  EXPECT_FALSE(won.value());
}

TEST(EtcdClientV2, RefreshAsksToKeepTheValueAndResetTheTtl) {
  ScriptedServer server([](const Seen&) { return Reply{200, v2_value_answer("/l", "v", 3)}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  ASSERT_TRUE(etcd.refresh("/l", seconds(60)).ok());
  const auto seen = server.seen().at(0);
  EXPECT_EQ(param(seen, "prevExist"), "true");
  EXPECT_EQ(param(seen, "refresh"), "true");
  EXPECT_EQ(param(seen, "ttl"), "60");
  EXPECT_EQ(seen.body, "");
}

TEST(EtcdClientV2, RefreshOfAGoneKeyIsNotFoundNamingEndpointAndKey) {
  ScriptedServer server([](const Seen&) { return Reply{404, v2_not_found("/l")}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto refreshed = etcd.refresh("/l", seconds(60));
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().kind, EtcdErrorKind::not_found);
  EXPECT_EQ(refreshed.error().endpoint, server.endpoint());
  EXPECT_NE(refreshed.error().message.find(server.endpoint()), std::string::npos);
  EXPECT_NE(refreshed.error().message.find("/l not found"), std::string::npos);
}

TEST(EtcdClientV2, ListReadsRecursivelyAndSortsByKey) {
  ScriptedServer server([](const Seen&) {
    return Reply{200, R"({"action":"get","node":{"key":"/n","dir":true,"nodes":[
        {"key":"/n/b","value":"2","modifiedIndex":6},{"key":"/n/a","value":"1","modifiedIndex":5}]}})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto kvs = etcd.list("/n/");
  ASSERT_TRUE(kvs.ok()) << kvs.error().message;
  ASSERT_EQ(kvs.value().size(), 2u);
  EXPECT_EQ(kvs.value()[0].key, "/n/a");
  EXPECT_EQ(kvs.value()[1].key, "/n/b");
  EXPECT_EQ(param(server.seen().at(0), "recursive"), "true");
}

TEST(EtcdClientV2, ListOfAMissingDirectoryIsEmpty) {
  ScriptedServer server([](const Seen&) { return Reply{404, v2_not_found("/n")}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto kvs = etcd.list("/n/");
  ASSERT_TRUE(kvs.ok()) << kvs.error().message;
  EXPECT_TRUE(kvs.value().empty());
}

TEST(EtcdClientV2, RemoveTellsWhetherTheKeyExisted) {
  int calls = 0;
  ScriptedServer server([&calls](const Seen&) {
    return ++calls == 1 ? Reply{200, v2_value_answer("/k", "", 5)} : Reply{404, v2_not_found("/k")};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  EXPECT_TRUE(etcd.remove("/k").value());
  EXPECT_FALSE(etcd.remove("/k").value());
  EXPECT_EQ(server.seen().at(0).method, "DELETE");
}

// --- v3 -----------------------------------------------------------------------------------------

TEST(EtcdClientV3, GetPostsARangeAndDecodesTheValue) {
  ScriptedServer server([](const Seen&) {
    return Reply{200, json{{"header", {{"revision", "5"}}},
                           {"kvs",
                            {{{"key", etcd::base64_encode("/k")},
                              {"value", etcd::base64_encode("v")},
                              {"mod_revision", "4"}}}}}
                          .dump()};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto got = etcd.get("/k");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got.value());
  EXPECT_EQ(got.value()->value, "v");
  EXPECT_EQ(got.value()->revision, 4);
  const auto seen = server.seen().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/v3/kv/range");
  EXPECT_EQ(json::parse(seen.body), json({{"key", etcd::base64_encode("/k")}}));
}

TEST(EtcdClientV3, CreateGrantsALeaseAndPutsUnderItInATxn) {
  ScriptedServer server([](const Seen& seen) {
    if (seen.path == "/v3/lease/grant") return Reply{200, R"({"header":{},"ID":"77","TTL":"30"})"};
    return Reply{200, R"({"header":{"revision":"2"},"succeeded":true})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto won = etcd.create("/l", "v", seconds(30));
  ASSERT_TRUE(won.ok()) << won.error().message;
  EXPECT_TRUE(won.value());
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(json::parse(seen[0].body), json({{"TTL", "30"}}));
  EXPECT_EQ(seen[1].path, "/v3/kv/txn");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(etcd::v3_create_txn_request("/l", "v", 77)));
}

TEST(EtcdClientV3, LosingCreateRevokesTheUnusedLease) {
  ScriptedServer server([](const Seen& seen) {
    if (seen.path == "/v3/lease/grant") return Reply{200, R"({"header":{},"ID":"77","TTL":"30"})"};
    if (seen.path == "/v3/kv/txn") return Reply{200, R"({"header":{"revision":"2"}})"};
    return Reply{200, R"({"header":{}})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto won = etcd.create("/l", "v", seconds(30));
  ASSERT_TRUE(won.ok()) << won.error().message;
  EXPECT_FALSE(won.value());
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].path, "/v3/lease/revoke");
  EXPECT_EQ(json::parse(seen[2].body), json({{"ID", "77"}}));
}

TEST(EtcdClientV3, CreateWithoutTtlUsesNoLease) {
  ScriptedServer server([](const Seen&) {
    return Reply{200, R"({"header":{"revision":"2"},"succeeded":true})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  ASSERT_TRUE(etcd.create("/l", "v", seconds(0)).value());
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_FALSE(json::parse(server.seen()[0].body)["success"][0]["request_put"].contains("lease"));
}

TEST(EtcdClientV3, RefreshKeepsTheKeysLeaseAlive) {
  ScriptedServer server([](const Seen& seen) {
    if (seen.path == "/v3/kv/range")
      return Reply{200, json{{"header", {{"revision", "5"}}},
                             {"kvs",
                              {{{"key", etcd::base64_encode("/l")},
                                {"value", etcd::base64_encode("v")},
                                {"mod_revision", "4"},
                                {"lease", "88"}}}}}
                            .dump()};
    return Reply{200, R"({"result":{"header":{},"ID":"88","TTL":"30"}})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto refreshed = etcd.refresh("/l", seconds(30));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].path, "/v3/lease/keepalive");
  EXPECT_EQ(json::parse(seen[1].body), json({{"ID", "88"}}));
}

TEST(EtcdClientV3, RefreshOfAnExpiredLeaseIsNotFound) {
  ScriptedServer server([](const Seen& seen) {
    if (seen.path == "/v3/kv/range")
      return Reply{
          200,
          json{{"header", {{"revision", "5"}}},
               {"kvs",
                {{{"key", etcd::base64_encode("/l")}, {"mod_revision", "4"}, {"lease", "88"}}}}}
              .dump()};
    return Reply{200, R"({"result":{"header":{},"ID":"88"}})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto refreshed = etcd.refresh("/l", seconds(30));
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().kind, EtcdErrorKind::not_found);
  EXPECT_NE(refreshed.error().message.find("lease of key /l expired"), std::string::npos);
}

TEST(EtcdClientV3, ListAsksForThePrefixRange) {
  ScriptedServer server([](const Seen&) { return Reply{200, R"({"header":{"revision":"5"}})"}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto kvs = etcd.list("/n/");
  ASSERT_TRUE(kvs.ok()) << kvs.error().message;
  EXPECT_TRUE(kvs.value().empty());
  EXPECT_EQ(json::parse(server.seen().at(0).body),
            json({{"key", etcd::base64_encode("/n/")}, {"range_end", etcd::base64_encode("/n0")}}));
}

TEST(EtcdClientV3, GatewayErrorsAreBadResponsesWithTheirMessage) {
  ScriptedServer server([](const Seen&) {
    return Reply{
        400, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v3);
  const auto put = etcd.put("/k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, EtcdErrorKind::bad_response);
  EXPECT_EQ(put.error().message,
            "etcd at " + server.endpoint() + ": put /k: etcdserver: no leader (gRPC code 14)");
}

// --- failures and endpoints ---------------------------------------------------------------------

TEST(EtcdClientErrors, NoListenerIsUnreachableNamingTheEndpoint) {
  const auto endpoint = refused_endpoint();
  auto etcd = client_for(endpoint, EtcdApi::v2);
  const auto got = etcd.get("/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::unreachable);
  EXPECT_EQ(got.error().endpoint, endpoint);
  EXPECT_EQ(got.error().message,
            "etcd unreachable at " + endpoint + " (connection failed) for GET /v2/keys/a");
}

TEST(EtcdClientErrors, ASilentServerIsATimeout) {
  SilentListener silent;
  auto etcd = client_for(silent.endpoint(), EtcdApi::v3, Millis(300));
  const auto got = etcd.get("/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::timeout);
  EXPECT_EQ(got.error().message,
            "etcd at " + silent.endpoint() + ": no answer to POST /v3/kv/range within 300 ms");
}

TEST(EtcdClientErrors, AnUnexpectedStatusIsABadResponseQuotingTheBody) {
  ScriptedServer server([](const Seen&) { return Reply{500, "internal trouble\n"}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto got = etcd.get("/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::bad_response);
  EXPECT_EQ(got.error().message,
            "etcd at " + server.endpoint() + ": get /a: HTTP 500: 'internal trouble'");
}

TEST(EtcdClientErrors, MalformedJsonIsABadResponse) {
  ScriptedServer server([](const Seen&) { return Reply{200, "{\"node\":"}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto got = etcd.get("/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, EtcdErrorKind::bad_response);
  EXPECT_NE(got.error().message.find("not JSON"), std::string::npos);
}

TEST(EtcdClientErrors, MovesOnToTheNextEndpointWhenOneRefuses) {
  ScriptedServer server([](const Seen&) { return Reply{200, v2_value_answer("/a", "x", 1)}; });
  const auto dead = refused_endpoint();
  EtcdClient etcd(EtcdOptions{{dead, server.endpoint()}, EtcdApi::v2, Millis(2000)});
  const auto got = etcd.get("/a");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got.value()->value, "x");
}

TEST(EtcdClientErrors, AllEndpointsRefusingNamesThemAll) {
  const auto a = refused_endpoint();
  const auto b = refused_endpoint();
  EtcdClient etcd(EtcdOptions{{a, b}, EtcdApi::v3, Millis(2000)});
  const auto put = etcd.put("/a", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, EtcdErrorKind::unreachable);
  EXPECT_NE(put.error().message.find(a + ", " + b), std::string::npos);
}

TEST(EtcdClientHealth, HealthyWhenTheAnswerSaysTrue) {
  ScriptedServer server([](const Seen&) { return Reply{200, R"({"health":"true","reason":""})"}; });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  EXPECT_TRUE(etcd.health().ok());
  EXPECT_EQ(server.seen().at(0).path, "/health");
}

TEST(EtcdClientHealth, UnhealthyAnswerIsItsOwnKind) {
  ScriptedServer server([](const Seen&) {
    return Reply{503, R"({"health":"false","reason":"RAFT NO LEADER"})"};
  });
  auto etcd = client_for(server.endpoint(), EtcdApi::v2);
  const auto health = etcd.health();
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.error().kind, EtcdErrorKind::unhealthy);
  EXPECT_NE(health.error().message.find("RAFT NO LEADER"), std::string::npos);
}

TEST(EtcdEndpoints, ParsesACommaSeparatedList) {
  const auto endpoints = parse_etcd_endpoints("http://10.0.0.1:2379,http://10.0.0.2:4001/");
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  EXPECT_EQ(endpoints.value(),
            (std::vector<std::string>{"http://10.0.0.1:2379", "http://10.0.0.2:4001/"}));
}

TEST(EtcdEndpoints, RejectsWhatIsNotHttpHostPort) {
  EXPECT_EQ(parse_etcd_endpoints("10.0.0.1:2379").error().message,
            "etcd endpoint '10.0.0.1:2379' does not start with http://");
  EXPECT_EQ(parse_etcd_endpoints("http://a:99999").error().message,
            "etcd endpoint 'http://a:99999' has an invalid port '99999'");
  EXPECT_EQ(parse_etcd_endpoints("http://a:2379/v2").error().message,
            "etcd endpoint 'http://a:2379/v2' has a path; give only http://host:port");
  EXPECT_EQ(parse_etcd_endpoints(",").error().message, "no etcd endpoints given");
}

TEST(EtcdEndpoints, ClientRefusesAnEmptyEndpointList) {
  EXPECT_THROW(EtcdClient(EtcdOptions{{}, EtcdApi::v2, Millis(100)}), std::invalid_argument);
}

}  // namespace
}  // namespace kna
