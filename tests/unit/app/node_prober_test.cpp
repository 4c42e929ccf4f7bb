// The node prober runs the step after a passing check with the step's own values: the etcd
// endpoint, key and value of StoreFlannelConfig, the API server, node and token of NodeReady.

#include "app/node_prober.hpp"
#include "app/version.hpp"

#include <chrono>
#include <optional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_prober.hpp"
#include "support/scripted_http_server.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::app {
namespace {

using testing::HasSubstr;

class NodeProberTest : public ::testing::Test {
 protected:
  ProbeSpec probe() const {
    ProbeSpec p;
    p.kind = ProbeKind::http;
    p.url = "http://127.0.0.1:1/health";
    return p;
  }

  // Checks `spec` and waits (on the real worker thread) for the result to reach the loop.
  ProbeResult check(const ProbeSpec& spec) {
    std::optional<ProbeResult> result;
    prober.check(spec, [&](ProbeResult r) { result = std::move(r); });
    for (int i = 0; i < 5000 && !result; ++i) {
      dispatcher.run_posted();
      if (!result) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!result) ADD_FAILURE() << "no probe result";
    return result.value_or(ProbeResult{});
  }

  test::SimDispatcher dispatcher;
  test::FakeProber base{dispatcher};
  NodeProber prober{dispatcher, base};
};

TEST_F(NodeProberTest, StoresTheStepsValueUnderTheStepsKeyAtTheStepsEndpoint) {
  test::ScriptedServer etcd([](const test::Seen& seen) -> test::Reply {
    if (seen.method == "GET") return {404, R"({"errorCode":100,"message":"Key not found"})"};
    return {201, R"({"action":"create","node":{"key":"/kna/net/config","value":"v",)"
                 R"("modifiedIndex":7,"createdIndex":7}})"};
  });
  ProbeSpec spec = probe();
  spec.then = StoreFlannelConfig{etcd.endpoint(), EtcdApi::v2, "/kna/net/config",
                                 R"({"Network":"172.16.0.0/12","Backend":{"Type":"vxlan"}})"};
  base.set_ok(test::FakeProber::target(spec));

  const ProbeResult result = check(spec);
  EXPECT_TRUE(result.ok) << result.detail;
  const auto seen = etcd.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].path, "/v2/keys/kna/net/config");
  EXPECT_EQ(seen[1].method, "PUT");
  EXPECT_EQ(seen[1].path, "/v2/keys/kna/net/config");
  EXPECT_THAT(seen[1].body, HasSubstr("172.16.0.0%2F12"));
}

TEST_F(NodeProberTest, LeavesAnEquivalentValueAlone) {
  test::ScriptedServer etcd([](const test::Seen&) -> test::Reply {
    return {200, R"({"action":"get","node":{"key":"/k/config",)"
                 R"("value":"{ \"Backend\": {\"Type\": \"udp\"}, \"Network\": \"10.1.0.0/16\" }",)"
                 R"("modifiedIndex":3,"createdIndex":3}})"};
  });
  ProbeSpec spec = probe();
  spec.then = StoreFlannelConfig{etcd.endpoint(), EtcdApi::v2, "/k/config",
                                 R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})"};
  base.set_ok(test::FakeProber::target(spec));
  const ProbeResult result = check(spec);
  EXPECT_TRUE(result.ok) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("unchanged /k/config"));
  EXPECT_EQ(etcd.seen().size(), 1u);  // no write
}

TEST_F(NodeProberTest, AFailedCheckRunsNoStep) {
  // Nothing answers there: a step that ran would say it could not write.
  ProbeSpec spec = probe();
  spec.then = StoreFlannelConfig{"http://127.0.0.1:1", EtcdApi::v2, "/k/config", "{}"};
  base.set_failing(test::FakeProber::target(spec), "connection refused");
  const ProbeResult result = check(spec);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.detail, "connection refused");
}

TEST_F(NodeProberTest, AsksTheStepsApiServerAboutTheStepsNodeWithItsToken) {
  test::ScriptedServer api([](const test::Seen& seen) -> test::Reply {
    if (seen.path == "/healthz") return {200, "ok"};
    if (seen.path == "/api/v1/nodes/b7e2c41d")
      return {200, R"({"kind":"Node","metadata":{"name":"b7e2c41d"},)"
                   R"("status":{"conditions":[{"type":"Ready","status":"True"}]}})"};
    return {404, "{}"};
  });
  ProbeSpec spec = probe();
  spec.then = NodeReady{api.endpoint(), "b7e2c41d", "s3cr3t", "", "", ""};
  base.set_ok(test::FakeProber::target(spec));
  const ProbeResult result = check(spec);
  EXPECT_TRUE(result.ok) << result.detail;
  // One request a check: the node, with the token, from an agent that names itself and its node.
  const auto seen = api.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/v1/nodes/b7e2c41d");
  EXPECT_EQ(seen[0].authorization, "Bearer s3cr3t");
  EXPECT_EQ(seen[0].user_agent, std::string("kube-node-agent/") + kVersion + " (b7e2c41d)");
}

}  // namespace
}  // namespace kna::app
