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

TEST(RenderPlanText, ShowsEachStagesExactCommand) {
  const auto text = render_plan_text(build_plan(test::master_config(), test::subnet_facts()));
  EXPECT_THAT(text, HasSubstr("bootstrap-docker\n  depends on: -\n  runtime:    process\n"
                              "  command:    dockerd -H unix:///var/run/docker-bootstrap.sock -p "
                              "/var/run/docker-bootstrap.pid --data-root=/var/lib/docker-bootstrap "
                              "--exec-root=/var/run/docker-bootstrap --iptables=false "
                              "--ip-masq=false --bridge=none\n"
                              "  pid file:   /var/run/docker-bootstrap.pid\n"));
  EXPECT_THAT(text, HasSubstr("  command:    dockerd -H unix:///var/run/docker.sock -p "
                              "/var/run/docker.pid --data-root=/var/lib/docker "
                              "--exec-root=/var/run/docker --bip=10.1.33.1/24 --mtu=1472\n"));
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
  EXPECT_THAT(text, HasSubstr("kubelet\n  depends on: main-docker\n"
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
                              "  ready when: GET http://127.0.0.1:10248/healthz answers 2xx\n"));
  EXPECT_THAT(text, HasSubstr("  pid:        private\n  privileged: no\n"));  // etcd
}

TEST(RenderPlanText, QuotesPlaceholdersOfFactsNotKnownYet) {
  const auto text = render_plan_text(build_plan(test::worker_config(), PlanFacts{}));
  EXPECT_THAT(text, HasSubstr("--exec-root=/var/run/docker '--bip=${FLANNEL_SUBNET}' "
                              "'--mtu=${FLANNEL_MTU}'\n"));
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
  EXPECT_EQ(bootstrap["ready"]["kind"], "http");
  EXPECT_EQ(bootstrap["ready"]["unix_socket"], "/var/run/docker-bootstrap.sock");
  EXPECT_EQ(bootstrap["ready"]["policy"]["deadline_ms"], 20000);
  EXPECT_EQ(bootstrap["backoff"]["initial_ms"], 100);
  EXPECT_EQ(bootstrap["stop_timeout_ms"], 10000);

  const auto& main_docker = json["stages"][3];
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

TEST(RenderPlanJson, RedactsSecretLookingEnv) {
  auto cfg = test::worker_config();
  cfg.stages[kStageKubeProxy].env = {{"KUBE_PASSWORD", "pw"}};
  const auto json = render_plan_json(build_plan(cfg, PlanFacts{}));
  EXPECT_EQ(json["stages"][4]["container"]["env"]["KUBE_PASSWORD"], "<redacted>");
}

}  // namespace
}  // namespace kna
