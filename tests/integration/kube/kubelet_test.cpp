// The kubelet, kube-proxy, kube-controller-manager and kube-scheduler stand-ins
// (tests/standins/kube) as the agent and kubectl rely on them: flags by version, node registration
// and heartbeat against a fake API server, /healthz, and static pods in a private dockerd.

#include <algorithm>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "clients/docker_client.hpp"
#include "integration/docker/docker_daemon.hpp"
#include "kubelet_fake_api.hpp"
#include "kubelet_harness.hpp"

namespace kna::test::kubelet_standin {
namespace {

using nlohmann::json;

bool is_rfc3339_utc(const json& value) {
  static const std::regex format(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  return value.is_string() && std::regex_match(value.get<std::string>(), format);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// The User-Agent client-go would send for `component`, the git commit being "standin" (what the
// fleet bench tells the node's programs apart by in the API server's request log).
bool is_standin_user_agent(const std::string& user_agent, const std::string& component) {
  const std::regex format(component + R"(/v1\.\d+\.\d+ \(linux/[a-z0-9]+\) kubernetes/standin)");
  return std::regex_match(user_agent, format);
}

// The node's Ready condition in a Node or a status patch.
json ready_condition(const json& node) {
  for (const auto& c : node["status"]["conditions"])
    if (c.value("type", "") == "Ready") return c;
  return json();
}

// --- flags and kubeconfig

struct FlagCase {
  std::string version;
  std::string flag;
  bool known;
};

TEST(KubeletStandinFlags, FlagsExistOnlyInTheVersionsThatHaveThem) {
  const FlagCase cases[] = {
      {"v1.3.6", "--api-servers=http://127.0.0.1:8080", true},
      {"v1.3.6", "--config=/etc/kubernetes/manifests", true},
      {"v1.3.6", "--kubeconfig=/tmp/kubeconfig", false},
      {"v1.3.6", "--pod-manifest-path=/tmp/manifests", false},
      {"v1.3.6", "--require-kubeconfig", false},
      {"v1.4.0", "--kubeconfig=/tmp/kubeconfig", true},
      {"v1.5.0", "--pod-manifest-path=/tmp/manifests", true},
      {"v1.7.0", "--api-servers=http://127.0.0.1:8080", true},
      {"v1.8.0", "--api-servers=http://127.0.0.1:8080", false},
      {"v1.9.0", "--require-kubeconfig", true},
      {"v1.10.0", "--require-kubeconfig", false},
      {"v1.14.0", "--allow-privileged=true", true},
      {"v1.15.0", "--allow-privileged=true", false},
      {"v1.23.0", "--docker-endpoint=unix:///var/run/docker.sock", true},
      {"v1.24.0", "--docker-endpoint=unix:///var/run/docker.sock", false},
      {"v1.24.0", "--api-servers=http://127.0.0.1:8080", false},
      {"v1.24.0", "--container-runtime-endpoint=unix:///run/cri-dockerd.sock", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.version + " " + c.flag);
    // --version makes an accepted command line print the version instead of running.
    Standin kubelet("kubelet", {c.flag, "--v=2", "--version"}, c.version);
    const auto how = kubelet.exit_within(10s);
    const auto name = c.flag.substr(0, c.flag.find('='));
    if (c.known) {
      EXPECT_EQ(how, "exit code 0") << kubelet.output();
      EXPECT_EQ(kubelet.output(), "Kubernetes " + c.version + "\n");
    } else {
      EXPECT_EQ(how, "exit code 1") << kubelet.output();
      EXPECT_NE(kubelet.output().find("Error: unknown flag: " + name), std::string::npos)
          << kubelet.output();
    }
  }
}

TEST(KubeletStandinFlags, ExitsWithAClearMessageWhenTheKubeconfigIsMissingOrNotJson) {
  TempDir dir;
  Standin missing("kubelet", {"--kubeconfig=" + dir / "nothing-here"}, "v1.6.0");
  EXPECT_EQ(missing.exit_within(10s), "exit code 1");
  EXPECT_NE(missing.output().find("cannot read kubeconfig " + dir / "nothing-here"),
            std::string::npos)
      << missing.output();

  write_file(dir / "kubeconfig", "clusters:\n- name: local\n");
  Standin yaml("kubelet", {"--kubeconfig=" + dir / "kubeconfig"}, "v1.6.0");
  EXPECT_EQ(yaml.exit_within(10s), "exit code 1");
  EXPECT_NE(yaml.output().find("kubeconfig " + dir / "kubeconfig" + " is not JSON"),
            std::string::npos)
      << yaml.output();
}

// --- registration and heartbeat against a fake API server

TEST(KubeletStandin, RegistersTheNodeWithLabelsAddressesVersionAndReadyCondition) {
  FakeApiServer api;
  Standin kubelet("kubelet",
                  {"--api-servers=" + api.url() + ",http://127.0.0.1:1",
                   "--hostname-override=Node-A", "--node-ip=10.1.2.3", "--allow-privileged",
                   "--cluster-dns=10.0.0.10", "--cluster-domain=cluster.local", "--v=2"});
  const auto posts = api.wait_for("POST", "/api/v1/nodes", 1, 10s);
  ASSERT_EQ(posts.size(), 1u) << kubelet.output();
  const auto node = posts[0].json();
  EXPECT_EQ(node["kind"], "Node");
  EXPECT_EQ(node["metadata"]["name"], "node-a");  // lowercased, as the real kubelet does
  const auto& labels = node["metadata"]["labels"];
  EXPECT_EQ(labels["kubernetes.io/hostname"], "node-a");
  EXPECT_EQ(labels["beta.kubernetes.io/os"], "linux");
  EXPECT_TRUE(labels["beta.kubernetes.io/arch"].is_string());
  EXPECT_EQ(node["status"]["addresses"],
            json::parse(R"([{"type":"InternalIP","address":"10.1.2.3"},)"
                        R"({"type":"Hostname","address":"node-a"}])"));
  EXPECT_EQ(node["status"]["nodeInfo"]["kubeletVersion"], "v1.3.6");
  EXPECT_TRUE(is_standin_user_agent(posts[0].user_agent, "kubelet")) << posts[0].user_agent;
  const auto ready = ready_condition(node);
  EXPECT_EQ(ready["status"], "True");
  EXPECT_EQ(ready["reason"], "KubeletReady");
  EXPECT_TRUE(is_rfc3339_utc(ready["lastHeartbeatTime"])) << ready;
  EXPECT_TRUE(is_rfc3339_utc(ready["lastTransitionTime"])) << ready;
  EXPECT_TRUE(kubelet.logged("Successfully registered node node-a"));

  EXPECT_EQ(healthz_status("127.0.0.1", 10248), 200);
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, HeartbeatsTheReadyConditionAsAStrategicMergePatch) {
  FakeApiServer api;
  Standin kubelet("kubelet", {"--api-servers=" + api.url(), "--hostname-override=node-b"}, "v1.3.6",
                  {{"KNA_STANDIN_STATUS_PERIOD_S", "0.6"}});
  // Four beats 0.6 s apart span more than a second: the heartbeat time must move on.
  const auto beats = api.wait_for("PATCH", "/api/v1/nodes/node-b/status", 4, 15s);
  ASSERT_EQ(beats.size(), 4u) << kubelet.output();
  for (const auto& beat : beats) {
    EXPECT_EQ(beat.content_type, "application/strategic-merge-patch+json");
    const auto ready = ready_condition(beat.json());
    EXPECT_EQ(ready["status"], "True") << beat.body;
    EXPECT_TRUE(is_rfc3339_utc(ready["lastHeartbeatTime"])) << beat.body;
    // The transition happened once, when the kubelet became ready.
    EXPECT_EQ(ready["lastTransitionTime"], ready_condition(beats[0].json())["lastTransitionTime"]);
  }
  EXPECT_NE(ready_condition(beats[0].json())["lastHeartbeatTime"],
            ready_condition(beats[3].json())["lastHeartbeatTime"]);
  EXPECT_EQ(api.requests("POST", "/api/v1/nodes").size(), 1u);
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, RegistersAgainWhenTheNodeIsDeleted) {
  FakeApiServer api;
  Standin kubelet("kubelet", {"--api-servers=" + api.url(), "--hostname-override=node-c"}, "v1.3.6",
                  {{"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  const std::string status = "/api/v1/nodes/node-c/status";
  ASSERT_EQ(api.wait_for("PATCH", status, 1, 10s).size(), 1u) << kubelet.output();
  api.delete_node("node-c");
  ASSERT_EQ(api.wait_for("POST", "/api/v1/nodes", 2, 10s).size(), 2u) << kubelet.output();
  EXPECT_TRUE(kubelet.logged("Node node-c is gone from the API server: registering it again"));
  // Heartbeats go on against the new node (the fake answers 200 only for a registered node).
  const auto before = api.requests("PATCH", status).size();
  EXPECT_GT(api.wait_for("PATCH", status, before + 2, 10s).size(), before + 1);
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, KeepsRunningWithHealthyHealthzWhileTheApiServerIsDown) {
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  Standin kubelet("kubelet", {"--api-servers=" + url, "--hostname-override=node-d"}, "v1.3.6",
                  {{"KNA_STANDIN_STATUS_PERIOD_S", "0.1"}});
  ASSERT_TRUE(kubelet.logged("API server " + url + " unreachable: ")) << kubelet.output();
  std::string body;
  ASSERT_TRUE(healthz_comes_up("127.0.0.1", 10248)) << kubelet.output();
  EXPECT_EQ(healthz_status("127.0.0.1", 10248, &body), 200);
  EXPECT_EQ(body, "ok");
  // Ten more failed attempts: a repeated failure is not logged again.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(kubelet.count("unreachable"), 1) << kubelet.output();

  FakeApiServer api(port);
  ASSERT_EQ(api.wait_for("POST", "/api/v1/nodes", 1, 10s).size(), 1u) << kubelet.output();
  EXPECT_TRUE(kubelet.logged("API server " + url + " reachable"));
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, ReadsTheServerAndBearerTokenFromAJsonKubeconfig) {
  FakeApiServer api;
  TempDir dir;
  write_file(dir / "kubeconfig",
             json{{"apiVersion", "v1"},
                  {"kind", "Config"},
                  {"clusters", {{{"name", "local"}, {"cluster", {{"server", api.url()}}}}}},
                  {"users", {{{"name", "kubelet"}, {"user", {{"token", "s3cret"}}}}}},
                  {"contexts",
                   {{{"name", "local"}, {"context", {{"cluster", "local"}, {"user", "kubelet"}}}}}},
                  {"current-context", "local"}}
                 .dump());
  Standin kubelet(
      "kubelet",
      {"--kubeconfig=" + dir / "kubeconfig", "--require-kubeconfig", "--hostname-override=node-e"},
      "v1.6.0");
  const auto posts = api.wait_for("POST", "/api/v1/nodes", 1, 10s);
  ASSERT_EQ(posts.size(), 1u) << kubelet.output();
  EXPECT_EQ(posts[0].authorization, "Bearer s3cret");
  EXPECT_EQ(posts[0].json()["status"]["nodeInfo"]["kubeletVersion"], "v1.6.0");
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, RunsStandaloneWithoutAnApiServer) {
  Standin kubelet("kubelet", {"--hostname-override=node-f"});
  EXPECT_TRUE(kubelet.logged("running standalone")) << kubelet.output();
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10248)) << kubelet.output();
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST(KubeletStandin, WithACriEndpointRegistersButRunsNoPods) {
  FakeApiServer api;
  TempDir dir;
  write_file(
      dir / "kubeconfig",
      R"({"clusters":[{"name":"c","cluster":{"server":")" + api.url() +
          R"("}}],"contexts":[{"name":"x","context":{"cluster":"c"}}],"current-context":"x"})");
  Standin kubelet(
      "kubelet",
      {"--kubeconfig=" + dir / "kubeconfig", "--pod-manifest-path=" + dir / "manifests",
       "--container-runtime-endpoint=unix:///run/cri-dockerd.sock", "--hostname-override=node-g"},
      "v1.24.0");
  EXPECT_TRUE(kubelet.logged("Container runtime endpoint unix:///run/cri-dockerd.sock speaks CRI"))
      << kubelet.output();
  ASSERT_EQ(api.wait_for("POST", "/api/v1/nodes", 1, 10s).size(), 1u) << kubelet.output();
  EXPECT_EQ(api.requests("POST", "/api/v1/nodes")[0].authorization, "");
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

// --- kube-proxy

TEST(ProxyStandin, BeforeV17ServesHealthzOnLoopback10249AndLogsApiReachability) {
  auto api = std::make_unique<FakeApiServer>();
  const auto url = api->url();
  Standin proxy("proxy", {"--master=" + url, "--v=2"}, "v1.3.6",
                {{"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  ASSERT_TRUE(proxy.logged("API server " + url + " reachable")) << proxy.output();
  const auto lists = api->requests("GET", "/api/v1/nodes");
  ASSERT_FALSE(lists.empty());
  EXPECT_TRUE(is_standin_user_agent(lists[0].user_agent, "kube-proxy")) << lists[0].user_agent;
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10249)) << proxy.output();
  api.reset();
  EXPECT_TRUE(proxy.logged("API server " + url + " unreachable: ")) << proxy.output();
  EXPECT_EQ(proxy.stop(), "exit code 0") << proxy.output();
}

TEST(ProxyStandin, FromV17ServesHealthzOnAllAddressesPort10256) {
  FakeApiServer api;
  Standin proxy("proxy", {"--master=" + api.url()}, "v1.7.0");
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10256)) << proxy.output();
  EXPECT_TRUE(proxy.logged("/healthz on 0.0.0.0:10256")) << proxy.output();
  EXPECT_EQ(proxy.stop(), "exit code 0") << proxy.output();
}

TEST(ProxyStandin, ExitsWhenItsKubeconfigCannotBeRead) {
  Standin proxy("proxy", {"--master=http://127.0.0.1:8080", "--kubeconfig=/nonexistent/config"},
                "v1.6.0");
  EXPECT_EQ(proxy.exit_within(10s), "exit code 1");
  EXPECT_NE(proxy.output().find("cannot read kubeconfig /nonexistent/config"), std::string::npos)
      << proxy.output();
}

// --- controller-manager and scheduler

TEST(ControlPlaneStandins, ControllerManagerTakesItsManifestFlagsAndServesHealthzOn10252) {
  FakeApiServer api;
  Standin cm("controller-manager",
             {"--master=" + api.url(), "--cluster-cidr=10.1.0.0/16", "--leader-elect=true",
              "--service-cluster-ip-range=10.0.0.1/24", "--allocate-node-cidrs=true", "--v=2"},
             "v1.3.6", {{"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10252)) << cm.output();
  const auto polls = api.wait_for("GET", "/healthz", 1, 10s);
  ASSERT_FALSE(polls.empty()) << cm.output();
  EXPECT_TRUE(is_standin_user_agent(polls[0].user_agent, "kube-controller-manager"))
      << polls[0].user_agent;
  EXPECT_TRUE(cm.logged("API server " + api.url() + " reachable")) << cm.output();
  EXPECT_EQ(cm.stop(), "exit code 0") << cm.output();
}

TEST(ControlPlaneStandins, SchedulerServesHealthzOn10251AndRejectsControllerManagerFlags) {
  Standin wrong("scheduler", {"--master=http://127.0.0.1:8080", "--cluster-cidr=10.1.0.0/16"});
  EXPECT_EQ(wrong.exit_within(10s), "exit code 1");
  EXPECT_NE(wrong.output().find("Error: unknown flag: --cluster-cidr"), std::string::npos);

  FakeApiServer api;
  Standin scheduler("scheduler", {"--master=" + api.url(), "--leader-elect=true", "--v=2"});
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10251)) << scheduler.output();
  const auto polls = api.wait_for("GET", "/healthz", 1, 10s);
  ASSERT_FALSE(polls.empty()) << scheduler.output();
  EXPECT_TRUE(is_standin_user_agent(polls[0].user_agent, "kube-scheduler")) << polls[0].user_agent;
  EXPECT_EQ(scheduler.stop(), "exit code 0") << scheduler.output();
}

// --- static pods in a private dockerd, from the hyperkube test image

class KubeletStaticPods : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PrivateDockerd::skip_reason()) GTEST_SKIP() << *why;
    ASSERT_TRUE(dockerd_.start()) << dockerd_.log_tail();
    ChildProcess build(
        {kImagesBuild, dockerd_.socket(), "--only", "hyperkube", "--hyperkube", kHyperkube});
    ASSERT_EQ(exit_description(build.wait_exit(120s)), "exit code 0") << build.output();
    std::filesystem::create_directories(manifests_);
  }

  Standin start_kubelet() {
    return Standin("kubelet", {"--api-servers=" + api_.url(), "--config=" + manifests_,
                               "--docker-endpoint=unix://" + dockerd_.socket(),
                               "--hostname-override=node-a", "--allow-privileged"});
  }

  // The containers of static pod `pod` on node-a (any state).
  std::vector<ContainerSummary> pod_containers(const std::string& pod) {
    return docker_.list_containers({{"io.kubernetes.pod.name", pod + "-node-a"}}, true);
  }

  PrivateDockerd dockerd_;
  DockerClient docker_{DockerClientOptions{dockerd_.socket()}};
  FakeApiServer api_;
  TempDir dir_;
  std::string manifests_ = dir_ / "manifests";
};

TEST_F(KubeletStaticPods, RunsRestartsAndRemovesAStaticPodWithHostNetworking) {
  // The scheduler stand-in from the image: its /healthz on the host's loopback proves host
  // networking, its polls of the fake API server prove it runs.
  const json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "kube-scheduler"}, {"namespace", "kube-system"}}},
                    {"spec",
                     {{"hostNetwork", true},
                      {"containers",
                       {{{"name", "kube-scheduler"},
                         {"image", "kna-test/hyperkube:standin"},
                         {"command",
                          {"/hyperkube", "scheduler", "--master=" + api_.url(),
                           "--leader-elect=true", "--v=2"}}}}}}}};
  write_file(manifests_ + "/kube-scheduler.json", pod.dump());
  write_file(manifests_ + "/notes.yaml", "not read\n");
  write_file(manifests_ + "/broken.json", "{\"kind\": ");
  auto kubelet = std::make_unique<Standin>(start_kubelet());

  // One container, listed and then inspected. A CI run once found the listed container gone by
  // the time it was inspected ("No such container"; cause not found yet): the pair is retried
  // until both agree, and the kubelet's output is kept for when they never do.
  ContainerSummary summary;
  json inspected;
  ASSERT_TRUE(eventually(
      [&] {
        const auto found = pod_containers("kube-scheduler");
        if (found.size() != 1) return false;
        try {
          inspected = json::parse(docker_.request("GET", "/containers/" + found[0].id + "/json"));
        } catch (const std::exception&) {
          return false;
        }
        summary = found[0];
        return true;
      },
      30'000))
      << kubelet->output();
  const std::regex name(R"(k8s_kube-scheduler_kube-scheduler-node-a_kube-system_[0-9a-f]{8}_0)");
  EXPECT_TRUE(std::regex_match(summary.names.at(0), name)) << summary.names.at(0);
  EXPECT_EQ(summary.labels.at("io.kubernetes.pod.namespace"), "kube-system");
  EXPECT_EQ(summary.labels.at("io.kubernetes.container.name"), "kube-scheduler");
  EXPECT_EQ(summary.labels.at("io.kubernetes.managed-by"), "kubelet-standin");
  EXPECT_EQ(inspected["HostConfig"]["NetworkMode"], "host");
  // The image's tag is no version: the pod runs as the kubelet's version.
  const auto env = inspected["Config"]["Env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "KNA_STANDIN_VERSION=v1.3.6"), env.end()) << env;
  EXPECT_TRUE(healthz_comes_up("127.0.0.1", 10251)) << kubelet->output();
  EXPECT_FALSE(api_.wait_for("GET", "/healthz", 1, 10s).empty());
  EXPECT_TRUE(kubelet->logged("Ignoring manifest file " + manifests_ + "/notes.yaml"));
  EXPECT_TRUE(kubelet->logged("Can't process manifest file " + manifests_ + "/broken.json"));

  // Killed: restarted after the back-off, the same container with a new start time.
  const auto first_start = docker_.inspect_container(summary.id)->state.started_at;
  docker_.kill_container(summary.id);
  EXPECT_TRUE(kubelet->logged("exited with code 137; restarting in 1000 ms")) << kubelet->output();
  ASSERT_TRUE(eventually(
      [&] {
        const auto now = docker_.inspect_container(summary.id);
        return now && now->state.running && now->state.started_at != first_start;
      },
      30'000))
      << kubelet->output();

  // A kubelet restart leaves the container running and adopts it.
  EXPECT_EQ(kubelet->stop(), "exit code 0") << kubelet->output();
  EXPECT_TRUE(docker_.inspect_container(summary.id)->state.running);
  kubelet = std::make_unique<Standin>(start_kubelet());
  EXPECT_TRUE(kubelet->logged("Adopted container " + summary.names.at(0))) << kubelet->output();
  EXPECT_EQ(pod_containers("kube-scheduler").size(), 1u);

  // Manifest removed: container removed.
  std::filesystem::remove(manifests_ + "/kube-scheduler.json");
  EXPECT_TRUE(eventually([&] { return pod_containers("kube-scheduler").empty(); }, 30'000))
      << kubelet->output();
  EXPECT_TRUE(kubelet->logged("Removing container " + summary.names.at(0)));
  EXPECT_EQ(kubelet->stop(), "exit code 0") << kubelet->output();
}

TEST_F(KubeletStaticPods, AChangedManifestReplacesThePodsContainers) {
  auto make_pod = [](const std::string& seconds) {
    return json{{"metadata", {{"name", "sleeper"}}},
                {"spec",
                 {{"containers",
                   {{{"name", "sleep"},
                     {"image", "kna-test/hyperkube:standin"},
                     {"command", {"/bin/sleep"}},
                     {"args", {seconds}}}}}}}};
  };
  write_file(manifests_ + "/sleeper.json", make_pod("1000").dump());
  auto kubelet = start_kubelet();
  ASSERT_TRUE(eventually([&] { return pod_containers("sleeper").size() == 1; }, 30'000))
      << kubelet.output();
  const auto before = pod_containers("sleeper")[0];
  EXPECT_EQ(before.labels.at("io.kubernetes.pod.namespace"), "default");

  write_file(manifests_ + "/sleeper.json", make_pod("2000").dump());
  ASSERT_TRUE(eventually(
      [&] {
        const auto now = pod_containers("sleeper");
        return now.size() == 1 && now[0].id != before.id && now[0].state == "running";
      },
      30'000))
      << kubelet.output();
  const auto after = docker_.inspect_container(pod_containers("sleeper")[0].id);
  EXPECT_NE(after->labels.at("io.kubernetes.pod.uid"), before.labels.at("io.kubernetes.pod.uid"));
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST_F(KubeletStaticPods, AMissingImageIsReportedAndRetriedWithBackOff) {
  write_file(manifests_ + "/ghost.json",
             R"({"metadata":{"name":"ghost"},"spec":{"containers":[{"name":"ghost",)"
             R"("image":"kna-test/missing:1"}]}})");
  auto kubelet = start_kubelet();
  const std::string report = "image kna-test/missing:1 is not present and could not be pulled: ";
  EXPECT_TRUE(kubelet.process().wait_for_output_count(report, 2, 60s)) << kubelet.output();
  EXPECT_TRUE(pod_containers("ghost").empty());
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

}  // namespace
}  // namespace kna::test::kubelet_standin
