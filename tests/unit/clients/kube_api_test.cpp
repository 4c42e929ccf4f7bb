// KubeApiClient against a scripted HTTP server: what it asks the API server and how it reads the
// answers, failures included. The stand-in API server is exercised in tests/integration/kube.

#include "clients/kube_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/scripted_http_server.hpp"

namespace kna {
namespace {

using nlohmann::json;
using test::Reply;
using test::ScriptedServer;
using test::Seen;

json node_with_ready(const std::string& status, const std::string& reason = "KubeletReady") {
  return json{{"kind", "Node"},
              {"metadata", {{"name", "w1"}}},
              {"status",
               {{"conditions", json::array({{{"type", "OutOfDisk"}, {"status", "False"}},
                                            {{"type", "Ready"},
                                             {"status", status},
                                             {"reason", reason},
                                             {"message", "kubelet is posting ready status"},
                                             {"lastHeartbeatTime", "2026-11-23T01:00:00Z"}}})}}}};
}

TEST(NodeReadyCondition, FindsTheReadyConditionAmongOthers) {
  const auto ready = node_ready_condition(node_with_ready("True"));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, "True");
  EXPECT_EQ(ready->reason, "KubeletReady");
  EXPECT_EQ(ready->last_heartbeat, "2026-11-23T01:00:00Z");
}

TEST(NodeReadyCondition, AbsentWhenTheNodeHasNoStatusOrNoReadyCondition) {
  EXPECT_FALSE(node_ready_condition(json{{"metadata", {{"name", "w1"}}}}));
  EXPECT_FALSE(node_ready_condition(json{{"status", {{"conditions", "nonsense"}}}}));
  EXPECT_FALSE(node_ready_condition(
      json{{"status", {{"conditions", json::array({{{"type", "MemoryPressure"}}})}}}}));
}

TEST(KubeApiClient, HealthzAsksHealthzAndSendsTheTokenWhenThereIsOne) {
  ScriptedServer server([](const Seen&) { return Reply{200, "ok"}; });
  const KubeApiClient api(server.endpoint(), "s3cret", Millis(2000));
  EXPECT_TRUE(api.healthz());
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].path, "/healthz");
  EXPECT_EQ(server.seen()[0].authorization, "Bearer s3cret");
}

TEST(KubeApiClient, AnUnhealthyAnswerNamesTheServerStatusAndBody) {
  ScriptedServer server([](const Seen&) { return Reply{500, "etcd is unreachable\n"}; });
  const KubeApiClient api(server.endpoint(), "", Millis(2000));
  const auto up = api.healthz();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().message,
            "API server " + server.endpoint() +
                " is not healthy: /healthz answered 500: 'etcd is unreachable'");
}

TEST(KubeApiClient, ARefusedConnectionSaysTheServerIsNotReachable) {
  const std::string endpoint = test::refused_endpoint();
  const KubeApiClient api(endpoint, "", Millis(2000));
  const auto up = api.healthz();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().message, "API server " + endpoint + " is not reachable: cannot connect");
}

TEST(KubeApiClient, AServerThatNeverAnswersTimesOut) {
  test::SilentListener silent;
  const KubeApiClient api(silent.endpoint(), "", Millis(200));
  const auto up = api.healthz();
  ASSERT_FALSE(up);
  EXPECT_NE(up.error().message.find("is not reachable: no complete answer within 200ms"),
            std::string::npos)
      << up.error().message;
}

TEST(KubeApiClient, GetNodeReturnsTheNodeOrNothingFor404) {
  ScriptedServer server([](const Seen& seen) {
    if (seen.path == "/api/v1/nodes/w1") return Reply{200, node_with_ready("True").dump()};
    return Reply{404, R"({"kind":"Status","reason":"NotFound","message":"nodes \"x\" not found"})"};
  });
  const KubeApiClient api(server.endpoint(), "", Millis(2000));
  const auto w1 = api.get_node("w1");
  ASSERT_TRUE(w1);
  ASSERT_TRUE(w1.value());
  EXPECT_EQ((*w1.value())["metadata"]["name"], "w1");
  const auto x = api.get_node("x");
  ASSERT_TRUE(x);
  EXPECT_FALSE(x.value());
}

TEST(KubeApiClient, AnErrorStatusCarriesTheStatusObjectsMessage) {
  ScriptedServer server([](const Seen&) {
    return Reply{403, R"({"kind":"Status","message":"nodes \"w1\" is forbidden"})"};
  });
  const KubeApiClient api(server.endpoint(), "", Millis(2000));
  const auto w1 = api.get_node("w1");
  ASSERT_FALSE(w1);
  EXPECT_EQ(w1.error().message,
            "API server " + server.endpoint() +
                ": GET /api/v1/nodes/w1 answered 403: nodes \"w1\" is forbidden");
}

TEST(KubeApiClient, AnAnswerThatIsNotJsonIsAnError) {
  ScriptedServer server([](const Seen&) { return Reply{200, "<html>proxy</html>"}; });
  const KubeApiClient api(server.endpoint(), "", Millis(2000));
  const auto w1 = api.get_node("w1");
  ASSERT_FALSE(w1);
  EXPECT_NE(w1.error().message.find("not a JSON object: '<html>proxy</html>'"), std::string::npos);
}

TEST(KubeApiClient, NodeNamesListsEveryItem) {
  ScriptedServer server([](const Seen&) {
    return Reply{200, R"({"kind":"NodeList","items":[{"metadata":{"name":"m"}},)"
                      R"({"metadata":{"name":"w1"}},{"metadata":{}}]})"};
  });
  const KubeApiClient api(server.endpoint(), "", Millis(2000));
  const auto names = api.node_names();
  ASSERT_TRUE(names);
  EXPECT_EQ(names.value(), (std::vector<std::string>{"m", "w1"}));
}

}  // namespace
}  // namespace kna
