// The kube-apiserver stand-in (tests/standins/kube) as a process against a real etcd, through
// both storage backends, and with the real kubectl.

#include <chrono>
#include <sstream>
#include <thread>

#include "apiserver_harness.hpp"

namespace kna::test {
namespace {

constexpr const char* kNodes = "/api/v1/nodes";
constexpr const char* kKubectl = "/usr/bin/kubectl";

std::string now_rfc3339() {
  return rfc3339(std::time(nullptr));
}

const char* backend_name(EtcdApi api) {
  return api == EtcdApi::v2 ? "etcd2" : "etcd3";
}

// The condition of `type` in a node's status, or null.
json condition(const json& node, const std::string& type) {
  for (const auto& c : node["status"]["conditions"])
    if (c["type"] == type) return c;
  return nullptr;
}

// Every test gets its own etcd, and a stand-in on it for the backend of the test parameter.
class ApiserverTest : public ::testing::TestWithParam<EtcdApi> {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
    start();
  }

  void start() {
    apiserver_ = std::make_unique<ApiserverProcess>(etcd_->endpoint(), backend_name(GetParam()));
    ASSERT_TRUE(apiserver_->ready()) << apiserver_->log();
  }

  json create(const json& node) {
    auto created = apiserver_->post(kNodes, node);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.object;
  }

  std::optional<EtcdProcess> etcd_;
  std::unique_ptr<ApiserverProcess> apiserver_;
};

TEST_P(ApiserverTest, CreatesGetsListsAndDeletesNodesStoredUnderRegistryMinions) {
  const auto node = create(kubelet_node("node-a", now_rfc3339()));
  EXPECT_EQ(node["metadata"]["name"], "node-a");
  EXPECT_FALSE(node["metadata"].value("uid", "").empty()) << node;
  EXPECT_FALSE(node["metadata"].value("creationTimestamp", "").empty()) << node;
  EXPECT_FALSE(node["metadata"].value("resourceVersion", "").empty()) << node;

  auto stored = etcd_->client(GetParam()).get("/registry/minions/node-a");
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_TRUE(stored.value().has_value());
  EXPECT_EQ(json::parse(stored.value()->value)["metadata"]["uid"], node["metadata"]["uid"]);

  const auto again = apiserver_->post(kNodes, kubelet_node("node-a", now_rfc3339()));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.object["kind"], "Status");
  EXPECT_EQ(again.object["reason"], "AlreadyExists");

  const auto got = apiserver_->get(std::string(kNodes) + "/node-a");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.object["metadata"]["uid"], node["metadata"]["uid"]);

  create(kubelet_node("node-b", now_rfc3339()));
  const auto list = apiserver_->get(kNodes);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.object["kind"], "NodeList");
  EXPECT_FALSE(list.object["metadata"].value("resourceVersion", "").empty()) << list.body;
  ASSERT_EQ(list.object["items"].size(), 2U) << list.body;
  EXPECT_EQ(list.object["items"][0]["metadata"]["name"], "node-a");
  EXPECT_EQ(list.object["items"][1]["metadata"]["name"], "node-b");

  const auto deleted = apiserver_->del(std::string(kNodes) + "/node-a");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  const auto gone = apiserver_->get(std::string(kNodes) + "/node-a");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.object["kind"], "Status");
  EXPECT_EQ(gone.object["reason"], "NotFound");
  EXPECT_EQ(gone.object["message"], "nodes \"node-a\" not found");
  EXPECT_EQ(gone.object["code"], 404);
  EXPECT_EQ(apiserver_->get(kNodes).object["items"].size(), 1U);
}

TEST_P(ApiserverTest, StrategicMergeOfStatusMergesConditionsByType) {
  auto node = kubelet_node("node-a", "2016-08-26T12:00:00Z");
  node["status"]["conditions"][0]["status"] = "False";
  node["status"]["conditions"].push_back({{"type", "MemoryPressure"}, {"status", "False"}});
  const auto created = create(node);

  const auto heartbeat = now_rfc3339();
  const auto patched = apiserver_->patch(
      std::string(kNodes) + "/node-a/status",
      {{"status",
        {{"conditions",
          {{{"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", heartbeat}}}}}}},
      "application/strategic-merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_NE(patched.object["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"]);

  const auto got = apiserver_->get(std::string(kNodes) + "/node-a").object;
  ASSERT_EQ(got["status"]["conditions"].size(), 2U) << got;
  EXPECT_EQ(condition(got, "Ready")["status"], "True");
  EXPECT_EQ(condition(got, "Ready")["lastHeartbeatTime"], heartbeat);
  EXPECT_EQ(condition(got, "Ready")["reason"], "KubeletReady");  // kept: merged, not replaced
  EXPECT_EQ(condition(got, "MemoryPressure")["status"], "False");
}

TEST_P(ApiserverTest, WritesToTheNodeKeepItsStatusAndStaleVersionsConflict) {
  const auto created = create(kubelet_node("node-a", now_rfc3339()));

  const auto labelled = apiserver_->patch(
      std::string(kNodes) + "/node-a",
      {{"metadata", {{"labels", {{"role", "master"}}}}}, {"status", {{"conditions", nullptr}}}},
      "application/merge-patch+json");
  ASSERT_EQ(labelled.status, 200) << labelled.body;
  EXPECT_EQ(labelled.object["metadata"]["labels"]["role"], "master");
  EXPECT_EQ(condition(labelled.object, "Ready")["status"], "True") << labelled.body;

  auto stale = created;
  stale["spec"]["unschedulable"] = true;
  const auto conflict = apiserver_->put(std::string(kNodes) + "/node-a", stale);
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(conflict.object["reason"], "Conflict");

  auto current = labelled.object;
  current["spec"]["unschedulable"] = true;
  const auto updated = apiserver_->put(std::string(kNodes) + "/node-a", current);
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.object["spec"]["unschedulable"], true);
  EXPECT_EQ(updated.object["metadata"]["uid"], created["metadata"]["uid"]);

  const auto missing = apiserver_->put(std::string(kNodes) + "/node-x", kubelet_node("node-x", ""));
  EXPECT_EQ(missing.status, 404) << missing.body;
}

TEST_P(ApiserverTest, RejectsMalformedRequestsWithAStatus) {
  const auto expect_status = [](const Answer& answer, int code, const std::string& reason) {
    EXPECT_EQ(answer.status, code) << answer.body;
    EXPECT_EQ(answer.object["kind"], "Status") << answer.body;
    EXPECT_EQ(answer.object["reason"], reason) << answer.body;
  };
  expect_status(apiserver_->post(kNodes, json::array()), 400, "BadRequest");
  expect_status(apiserver_->post(kNodes, {{"metadata", {{"name", 5}}}}), 400, "BadRequest");
  expect_status(apiserver_->post(kNodes, {{"metadata", {{"name", "Node_A"}}}}), 422, "Invalid");
  expect_status(apiserver_->post(kNodes, {{"kind", "Pod"}, {"metadata", {{"name", "a"}}}}), 400,
                "BadRequest");
  create(kubelet_node("node-a", now_rfc3339()));
  expect_status(apiserver_->patch(std::string(kNodes) + "/node-a", json::object(),
                                  "application/apply-patch+yaml"),
                415, "UnsupportedMediaType");
  expect_status(apiserver_->put(std::string(kNodes) + "/node-a", kubelet_node("node-b", "")), 400,
                "BadRequest");
}

TEST_P(ApiserverTest, NodesSurviveARestartOfTheStandin) {
  const auto node = create(kubelet_node("node-a", now_rfc3339()));
  EXPECT_EQ(exit_description(apiserver_->stop()), "exit code 0") << apiserver_->log();
  start();
  const auto got = apiserver_->get(std::string(kNodes) + "/node-a");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.object["metadata"]["uid"], node["metadata"]["uid"]);
}

TEST_P(ApiserverTest, StaleHeartbeatReadsAsUnknownWithoutBeingStored) {
  create(kubelet_node("node-old", "2016-08-26T12:00:00Z"));
  create(kubelet_node("node-new", now_rfc3339()));

  const auto old_node = apiserver_->get(std::string(kNodes) + "/node-old").object;
  EXPECT_EQ(condition(old_node, "Ready")["status"], "Unknown") << old_node;
  EXPECT_EQ(condition(old_node, "Ready")["reason"], "NodeStatusUnknown");
  EXPECT_EQ(condition(apiserver_->get(std::string(kNodes) + "/node-new").object, "Ready")["status"],
            "True");

  auto stored = etcd_->client(GetParam()).get("/registry/minions/node-old");
  ASSERT_TRUE(stored.ok() && stored.value()) << "node-old is not in etcd";
  EXPECT_EQ(condition(json::parse(stored.value()->value), "Ready")["status"], "True");

  // A fresh heartbeat makes it Ready again at once.
  const auto beat = apiserver_->patch(
      std::string(kNodes) + "/node-old/status",
      {{"status", {{"conditions", {{{"type", "Ready"}, {"lastHeartbeatTime", now_rfc3339()}}}}}}},
      "application/strategic-merge-patch+json");
  EXPECT_EQ(condition(beat.object, "Ready")["status"], "True") << beat.body;
  EXPECT_EQ(condition(apiserver_->get(std::string(kNodes) + "/node-old").object, "Ready")["status"],
            "True");
}

TEST_P(ApiserverTest, ServesVersionDiscoveryAndTablesAndNotFoundElsewhere) {
  create(kubelet_node("node-a", now_rfc3339()));

  const auto version = apiserver_->get("/version").object;
  EXPECT_EQ(version["major"], "1");
  EXPECT_EQ(version["minor"], "3");
  EXPECT_EQ(version["gitVersion"], "v1.3.6");
  EXPECT_EQ(apiserver_->get("/healthz").body, "ok");
  EXPECT_EQ(apiserver_->get("/api").object["versions"], json({"v1"}));
  EXPECT_EQ(apiserver_->get("/apis").object["kind"], "APIGroupList");
  const auto resources = apiserver_->get("/api/v1").object;
  EXPECT_EQ(resources["resources"][0]["name"], "nodes");
  EXPECT_EQ(resources["resources"][0]["namespaced"], false);

  const auto table =
      apiserver_->get(kNodes, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_EQ(table.object["kind"], "Table") << table.body;
  EXPECT_EQ(table.object["columnDefinitions"][1]["name"], "Status");
  EXPECT_EQ(table.object["rows"][0]["cells"][0], "node-a");
  EXPECT_EQ(table.object["rows"][0]["cells"][1], "Ready");
  EXPECT_EQ(table.object["rows"][0]["cells"][4], "v1.3.6");

  for (const char* path : {"/openapi/v2", "/api/v1/pods", "/apis/apps/v1"}) {
    const auto missing = apiserver_->get(path);
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(missing.object["reason"], "NotFound") << path << ": " << missing.body;
  }
}

TEST_P(ApiserverTest, HealthzFailsWhileEtcdIsDownAndTheStandinKeepsServing) {
  EXPECT_EQ(apiserver_->get("/healthz").status, 200);
  etcd_.reset();
  const auto health = apiserver_->get("/healthz");
  EXPECT_EQ(health.status, 500);
  EXPECT_NE(health.body.find("etcd is unreachable"), std::string::npos) << health.body;
  EXPECT_EQ(apiserver_->get(kNodes).object["code"], 500);
  EXPECT_FALSE(apiserver_->process().wait_exit(std::chrono::milliseconds(0)));
}

INSTANTIATE_TEST_SUITE_P(ApiserverStorage, ApiserverTest,
                         ::testing::Values(EtcdApi::v2, EtcdApi::v3), ApiName());

TEST(ApiserverStandin, RetriesAnEtcdThatIsNotThereYetAndAnswersHealthz500) {
  ApiserverProcess apiserver("http://127.0.0.1:" + std::to_string(free_port()), "etcd3");
  ASSERT_TRUE(apiserver.ready()) << apiserver.log();
  EXPECT_TRUE(apiserver.process().wait_for_output_count("etcd unreachable, retrying", 2,
                                                        std::chrono::seconds(5)))
      << apiserver.log();
  const auto health = apiserver.get("/healthz");
  EXPECT_EQ(health.status, 500);
  EXPECT_NE(health.body.find("etcd is unreachable"), std::string::npos) << health.body;
  EXPECT_EQ(exit_description(apiserver.stop()), "exit code 0") << apiserver.log();
}

TEST(ApiserverStandin, UnknownFlagExitsOneLikePflag) {
  ChildProcess child(
      {kHyperkube, "apiserver", "--etcd-servers=http://127.0.0.1:2379", "--no-such-flag=1"});
  EXPECT_EQ(exit_description(child.wait_exit(std::chrono::seconds(10))), "exit code 1");
  EXPECT_NE(child.output().find("Error: unknown flag: --no-such-flag"), std::string::npos)
      << child.output();
}

TEST(ApiserverStandin, ReportsTheVersionOfKnaStandinVersion) {
  ApiserverProcess apiserver("http://127.0.0.1:" + std::to_string(free_port()), "etcd2",
                             {{"KNA_STANDIN_VERSION", "v1.6.4"}});
  ASSERT_TRUE(apiserver.ready()) << apiserver.log();
  const auto version = apiserver.get("/version").object;
  EXPECT_EQ(version["minor"], "6");
  EXPECT_EQ(version["gitVersion"], "v1.6.4");
}

// --- the stand-in's own request log (GET /standin/requests; the real kube-apiserver has none)

constexpr const char* kRequests = "/standin/requests";

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sends a request with the User-Agent `user_agent`; the HTTP status, 0 when there was no answer.
int send_as(const std::string& url, const std::string& method, const std::string& path,
            const std::string& user_agent) {
  httplib::Client client(url);
  const httplib::Headers headers{{"User-Agent", user_agent}};
  const auto res = method == "POST" ? client.Post(path.c_str(), headers, "{}", "application/json")
                                    : client.Get(path.c_str(), headers);
  return res ? res->status : 0;
}

std::vector<std::string> paths_of(const json& log) {
  std::vector<std::string> paths;
  for (const auto& r : log["requests"])
    paths.push_back(r["method"].get<std::string>() + " " + r["path"].get<std::string>());
  return paths;
}

// No etcd behind it: the log needs none, and the node routes answer 500 meanwhile.
TEST(ApiserverRequestLog, CountsEachClientByUserAgentAndAddressAndFiltersBySinceAndUntil) {
  ApiserverProcess apiserver("http://127.0.0.1:" + std::to_string(free_port()), "etcd3");
  ASSERT_TRUE(apiserver.ready()) << apiserver.log();
  const std::string agent = "kube-node-agent/v0.1.0 (node-a)";
  const std::string kubelet = "kubelet/v1.3.6 (linux/amd64) kubernetes/standin";

  const auto before = unix_ms();
  ASSERT_NE(send_as(apiserver.url(), "GET", "/healthz", agent), 0);
  ASSERT_NE(send_as(apiserver.url(), "GET", "/api/v1/nodes/node-a?resourceVersion=0", agent), 0);
  const auto first = apiserver.get(kRequests);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.object["requests"].size(), 2U) << first.body;
  const std::int64_t split = first.object["requests"][1]["t_ms"].get<std::int64_t>() + 1;
  // The next requests must arrive in a later millisecond than the first two, for since_ms to
  // part them: wait for the clock to pass it (well under a millisecond).
  while (unix_ms() < split) std::this_thread::yield();
  ASSERT_NE(send_as(apiserver.url(), "POST", "/api/v1/nodes", kubelet), 0);
  ASSERT_NE(send_as(apiserver.url(), "GET", "/api/v1/nodes?watch=1&resourceVersion=7", kubelet), 0);
  const auto after = unix_ms();

  const auto all = apiserver.get(kRequests);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(paths_of(all.object),
            (std::vector<std::string>{"GET /healthz", "GET /api/v1/nodes/node-a",
                                      "POST /api/v1/nodes", "GET /api/v1/nodes?watch=1"}))
      << all.body;  // neither GET /standin/requests is there
  EXPECT_EQ(all.object["by_client"], json({{agent + " 127.0.0.1", 2}, {kubelet + " 127.0.0.1", 2}}))
      << all.body;
  std::int64_t last = before;
  for (const auto& r : all.object["requests"]) {
    EXPECT_GE(r["t_ms"].get<std::int64_t>(), last) << all.body;  // unix ms, oldest first
    last = r["t_ms"].get<std::int64_t>();
    EXPECT_EQ(r["remote"], "127.0.0.1");
  }
  EXPECT_LE(last, after);
  EXPECT_EQ(all.object["requests"][0]["user_agent"], agent);
  EXPECT_EQ(all.object["requests"][3]["user_agent"], kubelet);
  EXPECT_EQ(all.object["capacity"], 100000);
  EXPECT_EQ(all.object["dropped"], 0);

  const auto since = apiserver.get(std::string(kRequests) + "?since_ms=" + std::to_string(split));
  EXPECT_EQ(paths_of(since.object),
            (std::vector<std::string>{"POST /api/v1/nodes", "GET /api/v1/nodes?watch=1"}))
      << since.body;
  EXPECT_EQ(since.object["by_client"], json({{kubelet + " 127.0.0.1", 2}})) << since.body;
  const auto until = apiserver.get(std::string(kRequests) + "?until_ms=" + std::to_string(split));
  EXPECT_EQ(until.object["by_client"], json({{agent + " 127.0.0.1", 2}})) << until.body;
  const auto later =
      apiserver.get(std::string(kRequests) + "?since_ms=" + std::to_string(last + 1));
  EXPECT_TRUE(later.object["requests"].empty()) << later.body;
  EXPECT_TRUE(later.object["by_client"].empty()) << later.body;

  const auto bad = apiserver.get(std::string(kRequests) + "?since_ms=soon");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.object["reason"], "BadRequest") << bad.body;
}

TEST(ApiserverRequestLog, KeepsOnlyTheLastCapacityRequests) {
  ApiserverProcess apiserver("http://127.0.0.1:" + std::to_string(free_port()), "etcd3",
                             {{"KNA_STANDIN_REQUEST_LOG_CAPACITY", "2"}});
  ASSERT_TRUE(apiserver.ready()) << apiserver.log();
  for (const char* path : {"/a", "/b", "/c"})
    ASSERT_NE(send_as(apiserver.url(), "GET", path, "test"), 0);
  const auto log = apiserver.get(kRequests);
  EXPECT_EQ(paths_of(log.object), (std::vector<std::string>{"GET /b", "GET /c"})) << log.body;
  EXPECT_EQ(log.object["by_client"], json({{"test 127.0.0.1", 2}})) << log.body;
  EXPECT_EQ(log.object["capacity"], 2);
  EXPECT_EQ(log.object["dropped"], 1);
}

// The real kubectl prints STATUS from the server's Table and reads -o json.
TEST(ApiserverKubectl, GetNodesListsReadyAndNotReadyNodes) {
  KNA_REQUIRE_ETCD();
  if (::access(kKubectl, X_OK) != 0) GTEST_SKIP() << kKubectl << " is not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.log();
  ApiserverProcess apiserver(etcd.endpoint(), "etcd3");
  ASSERT_TRUE(apiserver.ready()) << apiserver.log();
  ASSERT_EQ(apiserver.post(kNodes, kubelet_node("node-ready", now_rfc3339())).status, 201);
  ASSERT_EQ(apiserver.post(kNodes, kubelet_node("node-stale", "2016-08-26T12:00:00Z")).status, 201);

  TempDir home;
  const auto kubectl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{kKubectl, "--server", apiserver.url(), "--cache-dir",
                                  home / "cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv, {{"HOME", home.path().string()}, {"KUBECONFIG", home / "config"}});
    const auto status = child.wait_exit(std::chrono::seconds(20));
    EXPECT_EQ(exit_description(status), "exit code 0") << child.output();
    return child.output();
  };

  std::map<std::string, std::string> status_of;
  std::istringstream lines(kubectl({"get", "nodes"}));
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("NAME", 0), 0U) << header;
  EXPECT_NE(header.find("STATUS"), std::string::npos) << header;
  for (std::string name, status; lines >> name >> status;) {
    status_of[name] = status;
    lines.ignore(1000, '\n');
  }
  EXPECT_EQ(status_of["node-ready"], "Ready");
  EXPECT_EQ(status_of["node-stale"], "NotReady");

  const auto list = json::parse(kubectl({"get", "nodes", "-o", "json"}), nullptr, false);
  ASSERT_FALSE(list.is_discarded());
  ASSERT_EQ(list["items"].size(), 2U) << list;
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "node-ready");
}

}  // namespace
}  // namespace kna::test
