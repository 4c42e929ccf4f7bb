// The kubelet's readiness from the API server's answers: which failures are the kubelet's own
// (a restart may help) and which lie outside it (the API server is down).

#include "app/node_readiness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/scripted_http_server.hpp"

namespace kna::app {
namespace {

using nlohmann::json;
using test::Reply;
using test::ScriptedServer;
using test::Seen;

std::string node(const std::string& ready_status) {
  return json{{"metadata", {{"name", "w1"}}},
              {"status",
               {{"conditions", json::array({{{"type", "Ready"},
                                             {"status", ready_status},
                                             {"reason", "KubeletNotReady"},
                                             {"message", "PLEG is not healthy"}}})}}}}
      .dump();
}

// An API server whose /healthz answers `healthz` and whose node w1 is `w1` (404 when empty; 503
// while unhealthy, as the API server answers when it cannot reach etcd).
ScriptedServer::Script api(int healthz, std::string w1) {
  return [healthz, w1](const Seen& seen) {
    if (seen.path == "/healthz") return Reply{healthz, healthz == 200 ? "ok" : "etcd down"};
    if (healthz != 200) return Reply{503, R"({"kind":"Status","message":"etcd down"})"};
    if (seen.path == "/api/v1/nodes/w1" && !w1.empty()) return Reply{200, w1};
    return Reply{404, R"({"kind":"Status","reason":"NotFound"})"};
  };
}

TEST(NodeReadiness, ReadyWhenTheApiServerListsTheNodeReady) {
  ScriptedServer server(api(200, node("True")));
  const auto r = check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000)), "w1");
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "node 'w1' is Ready in the API server " + server.endpoint());
  // A fleet's API server sees one request per check of a ready node.
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/v1/nodes/w1");
}

TEST(NodeReadiness, TheAgentNamesItselfToTheApiServer) {
  ScriptedServer server(api(200, node("True")));
  check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000), "kube-node-agent/0.1.0 (w1)"),
                   "w1");
  const auto seen = server.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].user_agent, "kube-node-agent/0.1.0 (w1)");
}

TEST(NodeReadiness, AnUnreachableApiServerIsOutsideTheKubelet) {
  const std::string endpoint = test::refused_endpoint();
  const auto r = check_node_ready(KubeApiClient(endpoint, "", Millis(2000)), "w1");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.outside);
  EXPECT_EQ(r.detail, "API server " + endpoint + " is not reachable: cannot connect");
}

TEST(NodeReadiness, AnUnhealthyApiServerIsOutsideTheKubelet) {
  ScriptedServer server(api(500, node("True")));
  const auto r = check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000)), "w1");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.outside);
  EXPECT_NE(r.detail.find("is not healthy: /healthz answered 500"), std::string::npos);
  // The failed GET of the node, then /healthz for the API server's own word.
  ASSERT_EQ(server.seen().size(), 2u);
  EXPECT_EQ(server.seen()[1].path, "/healthz");
}

TEST(NodeReadiness, AnUnregisteredNodeIsTheKubeletsFailure) {
  ScriptedServer server(api(200, ""));
  const auto r = check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000)), "w1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.outside);
  EXPECT_EQ(r.detail,
            "node 'w1' is not registered with the API server " + server.endpoint() + " yet");
}

TEST(NodeReadiness, ANotReadyNodeSaysWhyInTheApiServersWords) {
  ScriptedServer server(api(200, node("False")));
  const auto r = check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000)), "w1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.outside);
  EXPECT_EQ(r.detail, "node 'w1' is NotReady in the API server " + server.endpoint() +
                          ": Ready=False (KubeletNotReady: PLEG is not healthy)");
}

TEST(NodeReadiness, ANodeWithoutConditionsIsNotReadyYet) {
  ScriptedServer server(api(200, R"({"metadata":{"name":"w1"}})"));
  const auto r = check_node_ready(KubeApiClient(server.endpoint(), "", Millis(2000)), "w1");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "node 'w1' has no Ready condition in the API server " + server.endpoint() + " yet");
}

}  // namespace
}  // namespace kna::app
