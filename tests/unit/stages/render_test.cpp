#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

using testing::HasSubstr;
using testing::Not;

TEST(ShellQuote, LeavesPlainWordsAlone) {
  EXPECT_EQ(stages::shell_quote("--data-root=/var/lib/docker"), "--data-root=/var/lib/docker");
  EXPECT_EQ(stages::shell_quote("unix:///var/run/docker.sock"), "unix:///var/run/docker.sock");
}

TEST(ShellQuote, QuotesWhatAShellWouldInterpret) {
  EXPECT_EQ(stages::shell_quote(""), "''");
  EXPECT_EQ(stages::shell_quote("a b"), "'a b'");
  EXPECT_EQ(stages::shell_quote("--bip=${FLANNEL_SUBNET}"), "'--bip=${FLANNEL_SUBNET}'");
  EXPECT_EQ(stages::shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(stages::shell_join({"echo", "a;b", "*"}), "echo 'a;b' '*'");
}

std::string size_of(const StageSpec& spec, std::size_t file) {
  return std::to_string(test::files_of(spec).at(file).content.size());
}

TEST(RenderPlanText, ShowsEachStagesExactCommand) {
  const auto text = render_plan_text(build_plan(test::master_config(), test::subnet_facts()));
  EXPECT_THAT(text,
              HasSubstr("bootstrap-docker\n  depends on: -\n  runtime:    process\n"
                        "  command:    dockerd -H unix:///var/run/docker-bootstrap.sock -p "
                        "/var/run/docker-bootstrap.pid --data-root=/var/lib/docker-bootstrap "
                        "--exec-root=/var/run/docker-bootstrap --shutdown-timeout=15 "
                        "--iptables=false --ip-masq=false --bridge=none "
                        "--config-file=/run/kube-node-agent/bootstrap-docker.daemon.json\n"
                        "  pid file:   /var/run/docker-bootstrap.pid\n"
                        "  helper pid: /var/run/docker-bootstrap/containerd/containerd.pid\n"
                        "  prepare:    write /run/kube-node-agent/bootstrap-docker.daemon.json "
                        "(0644, 23 bytes) if it differs\n"
                        "  ready when:"));
  EXPECT_THAT(text, HasSubstr("  stop:       write /run/kube-node-agent/main-docker.daemon.json = "
                              "{\"live-restore\": false} and SIGHUP, SIGTERM 500ms later, SIGKILL "
                              "after 20s\n"));
  EXPECT_THAT(text, HasSubstr("  command:    dockerd -H unix:///var/run/docker.sock -p "
                              "/var/run/docker.pid --data-root=/var/lib/docker "
                              "--exec-root=/var/run/docker --shutdown-timeout=15 "
                              "--bip=10.1.33.1/24 --mtu=1472 "
                              "--config-file=/run/kube-node-agent/main-docker.daemon.json\n"
                              "  pid file:   /var/run/docker.pid\n"
                              "  helper pid: /var/run/docker/containerd/containerd.pid\n"));
  EXPECT_THAT(text, HasSubstr("main-docker\n  depends on: flannel (first start only)\n"));
  EXPECT_THAT(text, HasSubstr("flannel\n  depends on: bootstrap-docker, etcd\n"));
  EXPECT_THAT(text,
              HasSubstr("  ready when: GET http://localhost/_ping over unix socket "
                        "/var/run/docker-bootstrap.sock answers 2xx with \"OK\" in the body\n"));
  EXPECT_THAT(text, HasSubstr("  ready when: /run/flannel/subnet.env exists and parses as "
                              "flannel's subnet.env\n"));
  EXPECT_THAT(text, HasSubstr("  probing:    every 100ms (timeout 2s) for up to 20s, then every "
                              "5s; unready after 3 failures\n"));
  EXPECT_THAT(text, HasSubstr("  restarts:   after 100ms, x2 up to 30s, +/-10%, reset after 60s "
                              "ready\n"));
  EXPECT_THAT(text, HasSubstr("  stop:       SIGTERM, SIGKILL after 10s\n"));
}

TEST(RenderPlanText, ShowsTheWholeContainerSpec) {
  const auto plan = build_plan(test::master_config(), test::subnet_facts());
  const auto text = render_plan_text(plan);
  const auto kubelet = test::container_of(plan[4]);
  EXPECT_THAT(text,
              HasSubstr("kubelet\n  depends on: main-docker\n"
                        "  runtime:    container in unix:///var/run/docker.sock\n"
                        "  name:       " +
                        kubelet.name +
                        "\n"
                        "  image:      gcr.io/google_containers/hyperkube-amd64:v1.3.6\n"
                        "  command:    /hyperkube kubelet --allow-privileged "
                        "--api-servers=http://192.168.1.50:8080 "
                        "--config=/etc/kubernetes/manifests-multi --cluster-dns=10.0.0.10 "
                        "--cluster-domain=cluster.local --hostname-override=node-1 --v=2\n"
                        "  network:    host\n"
                        "  pid:        host\n"
                        "  privileged: yes\n"
                        "  mounts:     /sys:/sys:ro\n"
                        "              /var/run:/var/run\n"
                        "              /var/lib/docker:/var/lib/docker\n"
                        "              /var/lib/kubelet:/var/lib/kubelet:shared\n"
                        "              /var/log/containers:/var/log/containers\n"
                        "              /etc/kubernetes/manifests-multi:"
                        "/etc/kubernetes/manifests-multi:ro\n"
                        "  restart:    unless-stopped\n"
                        "  labels:     io.kube-node-agent.managed=true\n"
                        "              io.kube-node-agent.node=node-1\n"
                        "              io.kube-node-agent.spec-hash=" +
                        kubelet.labels.at(kLabelSpecHash) +
                        "\n"
                        "              io.kube-node-agent.stage=kubelet\n"
                        "  prepare:    write /etc/kubernetes/manifests-multi/kube-apiserver.json "
                        "(0644, " +
                        size_of(plan[4], 0) +
                        " bytes) if it differs\n"
                        "              write /etc/kubernetes/manifests-multi/"
                        "kube-controller-manager.json (0644, " +
                        size_of(plan[4], 1) +
                        " bytes) if it differs\n"
                        "              write /etc/kubernetes/manifests-multi/kube-scheduler.json "
                        "(0644, " +
                        size_of(plan[4], 2) +
                        " bytes) if it differs\n"
                        "              make /var/lib/kubelet a shared mount (bound onto itself "
                        "unless it is a mount point)\n"
                        "              create what is missing of /sys, /var/run, /var/lib/docker, "
                        "/var/lib/kubelet, /var/log/containers, /etc/kubernetes/manifests-multi\n"
                        "  ready when: GET http://127.0.0.1:10248/healthz answers 2xx\n"
                        "  then:       the API server http://192.168.1.50:8080 lists node node-1 "
                        "as Ready\n"));
  EXPECT_THAT(text, HasSubstr("  pid:        private\n  privileged: no\n"));  // etcd
}

TEST(RenderPlanText, ShowsTheStepAfterEachProbeWithItsValues) {
  auto cfg = test::master_config();
  cfg.flannel_network = "10.1.0.0/16";
  cfg.flannel_backend = "vxlan";
  const auto text = render_plan_text(build_plan(cfg, test::subnet_facts()));
  EXPECT_THAT(text, HasSubstr("  ready when: GET http://127.0.0.1:2379/health answers 2xx with "
                              "\"true\" in the body\n"
                              "  then:       store flannel's network config in etcd at "
                              "http://127.0.0.1:2379 (API v2): key /coreos.com/network/config = "
                              "{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}\n"
                              "  again:      once per run; again when a stage that depends on it "
                              "starts again or a check fails\n"));
  EXPECT_THAT(text, HasSubstr("lists node node-1 as Ready\n"
                              "  again:      every 60s to +20% once ready; the check alone "
                              "between\n"));
  EXPECT_THAT(text, HasSubstr("  ready when: GET http://localhost/_ping over unix socket "
                              "/var/run/docker.sock answers 2xx with \"OK\" in the body\n"
                              "  then:       load the airgap images "
                              "/var/lib/kube-node-agent/images/*.tar that the daemon at "
                              "unix:///var/run/docker.sock lacks: first those naming "
                              "gcr.io/google_containers/hyperkube-amd64:v1.3.6, the rest behind "
                              "it; not those naming only etcd's or flannel's image "
                              "(gcr.io/google_containers/etcd-amd64:2.2.5, "
                              "quay.io/coreos/flannel:0.5.5-amd64)\n"));
}

TEST(RenderPlanText, ShowsTheBridgeMainDockerDeletesFirst) {
  const auto text = render_plan_text(build_plan(test::worker_config(), test::subnet_facts()));
  EXPECT_THAT(text, HasSubstr("delete the link docker0 if it exists without the address "
                              "10.1.33.1/24\n"));
}

TEST(RenderPlanText, ListsTheKubeconfigWithoutItsContent) {
  auto cfg = test::worker_config();
  cfg.k8s_version = "v1.8.15";
  cfg.api_token = "s3cr3t-token";
  const auto plan = build_plan(cfg, PlanFacts{});
  const auto text = render_plan_text(plan);
  EXPECT_THAT(text, HasSubstr("  prepare:    write /var/lib/kube-node-agent/kubeconfig (0600, " +
                              size_of(plan[3], 0) + " bytes) if it differs\n"));
  EXPECT_THAT(text, HasSubstr("  then:       the API server http://192.168.1.50:8080 lists node "
                              "node-1 as Ready (asked with the bearer token)\n"));
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
}

TEST(RenderPlanText, QuotesPlaceholdersOfFactsNotKnownYet) {
  const auto text = render_plan_text(build_plan(test::worker_config(), PlanFacts{}));
  EXPECT_THAT(text, HasSubstr("--exec-root=/var/run/docker --shutdown-timeout=15 "
                              "'--bip=${FLANNEL_SUBNET}' '--mtu=${FLANNEL_MTU}' "
                              "--config-file=/run/kube-node-agent/main-docker.daemon.json\n"));
}

TEST(RenderPlanText, RedactsSecretLookingEnv) {
  auto cfg = test::worker_config();
  cfg.stages[kStageKubelet].env = {{"API_TOKEN", "s3cr3t"}, {"HTTP_PROXY", "http://p:3128"}};
  cfg.stages[kStageBootstrapDocker].env = {{"aws_secret_access_key", "hunter2"}};
  const auto text = render_plan_text(build_plan(cfg, PlanFacts{}));
  EXPECT_THAT(text, HasSubstr("  env:        API_TOKEN=<redacted>\n"
                              "              HTTP_PROXY=http://p:3128\n"));
  EXPECT_THAT(text, HasSubstr("aws_secret_access_key=<redacted>"));
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
}

TEST(RenderPlanJson, HoldsTheSameSpecs) {
  const auto plan = build_plan(test::master_config(), test::subnet_facts());
  const auto json = render_plan_json(plan);
  ASSERT_TRUE(json["stages"].is_array());
  ASSERT_EQ(json["stages"].size(), plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(json["stages"][i]["name"], plan[i].name);

  const auto& bootstrap = json["stages"][0];
  EXPECT_EQ(bootstrap["runtime"], "process");
  EXPECT_EQ(bootstrap["process"]["argv"].get<std::vector<std::string>>(),
            test::process_of(plan[0]).argv);
  EXPECT_EQ(bootstrap["process"]["pidfile"], "/var/run/docker-bootstrap.pid");
  EXPECT_EQ(bootstrap["process"]["helper_pidfiles"],
            nlohmann::json::parse(R"(["/var/run/docker-bootstrap/containerd/containerd.pid"])"));
  EXPECT_EQ(bootstrap["ready"]["kind"], "http");
  EXPECT_EQ(bootstrap["ready"]["unix_socket"], "/var/run/docker-bootstrap.sock");
  EXPECT_EQ(bootstrap["ready"]["policy"]["deadline_ms"], 20000);
  EXPECT_EQ(bootstrap["backoff"]["initial_ms"], 100);
  EXPECT_EQ(bootstrap["stop_timeout_ms"], 20000);

  const auto& main_docker = json["stages"][3];
  EXPECT_EQ(main_docker["process"]["helper_pidfiles"],
            nlohmann::json::parse(R"(["/var/run/docker/containerd/containerd.pid"])"));
  EXPECT_EQ(main_docker["deps"],
            nlohmann::json::parse(R"([{"stage":"flannel","restart_with":false}])"));

  const auto& kubelet = json["stages"][4];
  const auto expected = test::container_of(plan[4]);
  EXPECT_EQ(kubelet["runtime"], "container");
  EXPECT_EQ(kubelet["container"]["name"], expected.name);
  EXPECT_EQ(kubelet["container"]["image"], expected.image);
  EXPECT_EQ(kubelet["container"]["cmd"].get<std::vector<std::string>>(), expected.cmd);
  EXPECT_EQ(kubelet["container"]["pid_mode"], "host");
  EXPECT_EQ(kubelet["container"]["privileged"], true);
  EXPECT_EQ(kubelet["container"]["mounts"][3],
            nlohmann::json::parse(R"({"source":"/var/lib/kubelet","target":"/var/lib/kubelet",
                                      "read_only":false,"propagation":"shared"})"));
  EXPECT_EQ(kubelet["container"]["labels"][kLabelStage], "kubelet");
  EXPECT_EQ(kubelet["container"]["restart_policy"], "unless-stopped");
  EXPECT_EQ(kubelet["ready"]["url"], "http://127.0.0.1:10248/healthz");

  const auto& flannel = json["stages"][2];
  EXPECT_EQ(flannel["ready"]["kind"], "file");
  EXPECT_EQ(flannel["ready"]["parse_subnet_env"], true);
}

TEST(RenderPlanJson, HoldsFilesSharedDirsAndProbeActions) {
  auto cfg = test::master_config();
  cfg.k8s_version = "v1.7.16";
  const auto plan = build_plan(cfg, test::subnet_facts());
  const auto json = render_plan_json(plan);
  const auto& kubelet = json["stages"][4];
  ASSERT_EQ(kubelet["name"], "kubelet");
  ASSERT_EQ(kubelet["files"].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto files = test::files_of(plan[4]);
    EXPECT_EQ(kubelet["files"][i]["path"], files[i].path);
    EXPECT_EQ(kubelet["files"][i]["content"], files[i].content);
    EXPECT_EQ(kubelet["files"][i]["size"], files[i].content.size());
    // The same, as the steps they are.
    EXPECT_EQ(kubelet["prepare"][i]["step"], "write_file");
    EXPECT_EQ(kubelet["prepare"][i]["path"], files[i].path);
    EXPECT_EQ(kubelet["prepare"][i]["content"], files[i].content);
  }
  EXPECT_EQ(kubelet["files"][0]["mode"], "0600");
  EXPECT_EQ(kubelet["files"][1]["mode"], "0644");
  EXPECT_EQ(kubelet["shared_dirs"], nlohmann::json::parse(R"(["/var/lib/kubelet"])"));
  EXPECT_EQ(kubelet["prepare"][4]["step"], "shared_mount");
  EXPECT_EQ(kubelet["prepare"][4]["dir"], "/var/lib/kubelet");
  EXPECT_EQ(kubelet["prepare"][5]["step"], "make_dirs");
  EXPECT_EQ(kubelet["prepare"][5]["dirs"][0], "/sys");
  EXPECT_EQ(kubelet["ready"]["then"]["step"], "node_ready");
  EXPECT_EQ(kubelet["ready"]["then"]["api_server"], "http://192.168.1.50:8080");
  EXPECT_EQ(kubelet["ready"]["then"]["node_name"], "node-1");
  EXPECT_EQ(kubelet["ready"]["then"]["token"], "");
  // Once Ready, the node is asked about once a minute; the others once per run.
  EXPECT_EQ(kubelet["ready"]["then_every_ms"], 60'000);
  EXPECT_EQ(kubelet["ready"]["target"], "kubelet");
  EXPECT_EQ(json["stages"][1]["ready"]["then_every_ms"], "once_per_run");
  EXPECT_EQ(json["stages"][3]["ready"]["then_every_ms"], "once_per_run");
  EXPECT_FALSE(json["stages"][5]["ready"].contains("then_every_ms"));
  const auto& etcd_then = json["stages"][1]["ready"]["then"];
  EXPECT_EQ(etcd_then["step"], "store_flannel_config");
  EXPECT_EQ(etcd_then["etcd_endpoint"], "http://127.0.0.1:2379");
  EXPECT_EQ(etcd_then["etcd_api"], "v2");
  EXPECT_EQ(etcd_then["key"], "/coreos.com/network/config");
  EXPECT_EQ(etcd_then["value"], R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})");
  nlohmann::json bridge;
  for (const auto& step : json["stages"][3]["prepare"])
    if (step["step"] == "delete_stale_bridge") bridge = step;
  EXPECT_EQ(bridge["link"], "docker0");
  EXPECT_EQ(bridge["keep_cidr"], "10.1.33.1/24");
  EXPECT_EQ(bridge["description"],
            "delete the link docker0 if it exists without the address 10.1.33.1/24");
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["step"], "load_airgap_images");
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["docker_socket"], "/var/run/docker.sock");
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["image_dir"], "/var/lib/kube-node-agent/images");
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["first"],
            nlohmann::json::array({"gcr.io/google_containers/hyperkube-amd64:v1.7.16"}));
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["elsewhere"].size(), 2u);
  EXPECT_TRUE(json["stages"][5]["ready"]["then"].is_null());
  EXPECT_EQ(json["stages"][5]["files"][0]["path"], "/var/lib/kube-node-agent/kubeconfig");
  EXPECT_EQ(json["stages"][0]["files"][0]["path"],
            "/run/kube-node-agent/bootstrap-docker.daemon.json");
  EXPECT_EQ(json["stages"][0]["reload_before_stop"]["path"],
            "/run/kube-node-agent/bootstrap-docker.daemon.json");
  EXPECT_EQ(json["stages"][0]["reload_before_stop"]["settle_ms"], 500);
  EXPECT_EQ(json["stages"][0]["shared_dirs"], nlohmann::json::array());
}

TEST(RenderPlanJson, RedactsTheTokenInTheKubeconfig) {
  auto cfg = test::worker_config();
  cfg.k8s_version = "v1.8.15";
  cfg.api_token = "s3cr3t-token";
  const auto json = render_plan_json(build_plan(cfg, PlanFacts{}));
  EXPECT_EQ(json.dump().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(json["stages"][3]["ready"]["then"]["token"], "<redacted>");
  const auto kubeconfig =
      nlohmann::json::parse(json["stages"][3]["files"][0]["content"].get<std::string>());
  EXPECT_EQ(kubeconfig["users"][0]["user"]["token"], "<redacted>");
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"]["server"], "http://192.168.1.50:8080");
}

TEST(RedactFileContent, LeavesTextAndSecretFreeJsonAsItIs) {
  EXPECT_EQ(stages::redact_file_content("token=abc\n"), "token=abc\n");
  const std::string manifest = "{\"kind\": \"Pod\"}";
  EXPECT_EQ(stages::redact_file_content(manifest), manifest);
  EXPECT_EQ(stages::redact_file_content(R"({"a":[{"client-key-data":"x","n":1}]})"),
            "{\n  \"a\": [\n    {\n      \"client-key-data\": \"<redacted>\",\n      \"n\": 1\n"
            "    }\n  ]\n}\n");
}

TEST(RedactFileContent, FormatsModesInOctal) {
  EXPECT_EQ(stages::format_mode(0600), "0600");
  EXPECT_EQ(stages::format_mode(0644), "0644");
  EXPECT_EQ(stages::format_mode(01777), "1777");
}

TEST(RenderPlanJson, RedactsSecretLookingEnv) {
  auto cfg = test::worker_config();
  cfg.stages[kStageKubeProxy].env = {{"KUBE_PASSWORD", "pw"}};
  const auto json = render_plan_json(build_plan(cfg, PlanFacts{}));
  EXPECT_EQ(json["stages"][4]["container"]["env"]["KUBE_PASSWORD"], "<redacted>");
}

}  // namespace
}  // namespace kna
