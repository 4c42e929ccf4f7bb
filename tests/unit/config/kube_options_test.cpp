// The options of the Kubernetes half: the master's control plane (control_plane.*), the
// kubeconfig path, the checks that only a master needs, and where the node name comes from.

#include <algorithm>

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/checks.hpp"
#include "config/options.hpp"
#include "config_fixtures.hpp"

namespace kna {
namespace {

TEST(KubeOptionsTest, DefaultsOfTheControlPlaneAndKubeconfig) {
  test::Setup setup;
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.control_plane, ControlPlaneConfig{});
  EXPECT_EQ(loaded.config.control_plane.service_cluster_ip_range, "10.0.0.1/24");
  EXPECT_EQ(loaded.config.control_plane.apiserver_image, "");
  EXPECT_EQ(loaded.config.paths.kubeconfig, "/var/lib/kube-node-agent/kubeconfig");
  EXPECT_EQ(loaded.sources.at("control_plane.service_cluster_ip_range"),
            ValueSource::default_value);
  EXPECT_EQ(loaded.sources.at("control_plane.scheduler_image"), ValueSource::default_value);
  EXPECT_EQ(loaded.sources.at("paths.kubeconfig"), ValueSource::default_value);
}

TEST(KubeOptionsTest, FileSetsEveryControlPlaneKeyAndTheKubeconfigPath) {
  test::Setup setup;
  setup.file(R"({"role": "master", "dns_server_ip": "10.96.0.10",
                 "control_plane": {"apiserver_image": "kna-test/hyperkube:standin",
                                   "controller_manager_image": "example.org/kcm:1",
                                   "scheduler_image": "example.org/sched:1",
                                   "service_cluster_ip_range": "10.96.0.0/12"},
                 "paths": {"kubeconfig": "/etc/kna/kubeconfig"}})");
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.control_plane,
            (ControlPlaneConfig{"kna-test/hyperkube:standin", "example.org/kcm:1",
                                "example.org/sched:1", "10.96.0.0/12"}));
  EXPECT_EQ(loaded.config.paths.kubeconfig, "/etc/kna/kubeconfig");
  EXPECT_EQ(loaded.sources.at("control_plane.apiserver_image"), ValueSource::file);
  EXPECT_EQ(loaded.sources.at("control_plane.service_cluster_ip_range"), ValueSource::file);
  EXPECT_EQ(loaded.sources.at("paths.kubeconfig"), ValueSource::file);
}

TEST(KubeOptionsTest, ServiceRangeFromTheEnvironmentAndFlagsInThatOrder) {
  test::Setup setup;
  setup.inputs.env["SERVICE_CLUSTER_IP_RANGE"] = "10.0.0.0/16";
  LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.control_plane.service_cluster_ip_range, "10.0.0.0/16");
  EXPECT_EQ(loaded.sources.at("control_plane.service_cluster_ip_range"), ValueSource::env);

  setup.inputs.flags = {{"control_plane.service_cluster_ip_range", "10.0.0.0/20"}};
  loaded = setup.load();
  EXPECT_EQ(loaded.config.control_plane.service_cluster_ip_range, "10.0.0.0/20");
  EXPECT_EQ(loaded.sources.at("control_plane.service_cluster_ip_range"), ValueSource::flag);
}

TEST(KubeOptionsTest, SetFlagsThroughTheCommandLineReachTheControlPlane) {
  CLI::App app;
  ConfigInputs inputs;
  add_config_flags(app, &inputs);
  test::TempDir dir;
  app.parse(std::vector<std::string>{"paths.kubeconfig=/tmp/n2/kubeconfig", "--set",
                                     "control_plane.apiserver_image=kna-test/hyperkube:standin",
                                     "--set", dir.write("c.json", "{}"), "--config"});
  inputs.env["MASTER_IP"] = "10.9.0.1";
  const LoadedConfig loaded = load_config(inputs, test::fake_machine());
  EXPECT_EQ(loaded.config.control_plane.apiserver_image, "kna-test/hyperkube:standin");
  EXPECT_EQ(loaded.config.paths.kubeconfig, "/tmp/n2/kubeconfig");
  EXPECT_EQ(loaded.sources.at("paths.kubeconfig"), ValueSource::flag);
}

TEST(KubeOptionsTest, ErrorsSayHowToSetTheServiceRange) {
  EXPECT_EQ(config::how_to_set("control_plane.service_cluster_ip_range"),
            "set SERVICE_CLUSTER_IP_RANGE, --set control_plane.service_cluster_ip_range=... or "
            "control_plane.service_cluster_ip_range in the config file");
}

TEST(KubeOptionsTest, KubeconfigFollowsTheStateDirUnlessSet) {
  test::Setup setup;
  setup.inputs.flags = {{"paths.state_dir", "/tmp/node2/state"}};
  LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.paths.kubeconfig, "/tmp/node2/state/kubeconfig");
  EXPECT_EQ(loaded.sources.at("paths.kubeconfig"), ValueSource::flag);

  setup.inputs.flags.emplace_back("paths.kubeconfig", "/etc/kna/kubeconfig");
  EXPECT_EQ(setup.load().config.paths.kubeconfig, "/etc/kna/kubeconfig");
}

TEST(KubeOptionsTest, WorkerDoesNotCheckTheServiceRangeItDoesNotRun) {
  // A worker's cluster DNS address is the master's business; a newer kubelet may still join an
  // older master's insecure port when told so (cluster_access_test covers joining over TLS).
  test::Setup setup;
  setup.inputs.env["DNS_SERVER_IP"] = "10.96.0.10";
  setup.inputs.env["K8S_VERSION"] = "v1.24.3";
  setup.inputs.env["KNA_API_SERVER"] = "http://10.0.0.1:8080";
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.dns_server_ip, "10.96.0.10");
  EXPECT_EQ(loaded.config.k8s_version, "v1.24.3");
}

TEST(KubeOptionsTest, MasterRunsUpToV119) {
  for (const char* version : {"v1.3.6", "v1.19.16", "v1.19.0-rc.1"}) {
    test::Setup setup;
    setup.inputs.env["KNA_ROLE"] = "master";
    setup.inputs.env["K8S_VERSION"] = version;
    EXPECT_EQ(setup.load().config.k8s_version, version);
  }
}

TEST(KubeOptionsTest, MasterTakesAServiceRangeThatHoldsItsDnsServer) {
  test::Setup setup;
  setup.inputs.env = {{"KNA_ROLE", "master"},
                      {"SERVICE_CLUSTER_IP_RANGE", "10.96.0.0/12"},
                      {"DNS_SERVER_IP", "10.96.0.10"},
                      {"FLANNEL_NETWORK", "10.244.0.0/16"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.control_plane.service_cluster_ip_range, "10.96.0.0/12");
}

TEST(KubeOptionsTest, EveryMasterProblemIsReportedTogether) {
  test::Setup setup;
  setup.inputs.env = {{"KNA_ROLE", "master"},
                      {"K8S_VERSION", "v1.21.0"},
                      {"KNA_PKI_DIR", "/no/pki"},
                      {"SERVICE_CLUSTER_IP_RANGE", "10.1.0.0/24"}};
  const auto problems = setup.problems();
  // The PKI of a TLS master, the overlap with the pod network, and the DNS server outside the
  // range.
  ASSERT_EQ(problems.size(), 3u) << ::testing::PrintToString(problems);
  const auto has = [&](const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("control_plane.pki_dir (env KNA_PKI_DIR)"));
  EXPECT_TRUE(has("overlaps flannel_network"));
  EXPECT_TRUE(has("does not contain dns_server_ip"));
}

TEST(KubeOptionsTest, ConfigRenderingShowsTheControlPlaneGroup) {
  test::Setup setup;
  setup.inputs.env["SERVICE_CLUSTER_IP_RANGE"] = "10.0.0.0/16";
  const LoadedConfig loaded = setup.load();
  const std::string text = render_config_text(loaded);
  EXPECT_NE(text.find("[control_plane]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("control_plane.service_cluster_ip_range = \"10.0.0.0/16\"  (env)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("control_plane.apiserver_image          = \"\"  (default)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("paths.kubeconfig"), std::string::npos);
  const nlohmann::json j = render_config_json(loaded);
  EXPECT_EQ(j.at("values").at("paths.kubeconfig").at("value"),
            "/var/lib/kube-node-agent/kubeconfig");
  EXPECT_EQ(j.at("values").at("control_plane.service_cluster_ip_range").at("source"), "env");
}

TEST(KubeOptionsTest, KubernetesMinorVersion) {
  EXPECT_EQ(config::kubernetes_minor("v1.19.16"), (std::pair{1, 19}));
  EXPECT_EQ(config::kubernetes_minor("v1.20.0-alpha.1"), (std::pair{1, 20}));
  EXPECT_EQ(config::kubernetes_minor("v2.0.0"), (std::pair{2, 0}));
  EXPECT_FALSE(config::kubernetes_minor("1.19.16"));
  EXPECT_FALSE(config::kubernetes_minor("latest"));
}

TEST(NodeNameTest, ConfiguredThenResinThenBalenaThenHostName) {
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string name;
    ValueSource source;
  };
  const Case cases[] = {
      {{{"KNA_NODE_NAME", "named"}, {"RESIN_DEVICE_UUID", "a1a1"}}, {}, "named", ValueSource::env},
      {{{"RESIN_DEVICE_UUID", "a1a1"}}, {{"node_name", "flagged"}}, "flagged", ValueSource::flag},
      {{{"RESIN_DEVICE_UUID", "a1a1"}, {"BALENA_DEVICE_UUID", "b0b0"}},
       {},
       "a1a1",
       ValueSource::env},
      // An empty variable counts as unset, here too.
      {{{"RESIN_DEVICE_UUID", ""}, {"BALENA_DEVICE_UUID", "b0b0"}}, {}, "b0b0", ValueSource::env},
      {{{"RESIN_DEVICE_UUID", ""}, {"BALENA_DEVICE_UUID", ""}}, {}, "node-1", ValueSource::machine},
      {{}, {}, "node-1", ValueSource::machine},
  };
  for (const auto& c : cases) {
    test::Setup setup;
    for (const auto& [k, v] : c.env) setup.inputs.env[k] = v;
    setup.inputs.flags = c.flags;
    const LoadedConfig loaded = setup.load();
    EXPECT_EQ(loaded.config.node_name, c.name);
    EXPECT_EQ(loaded.sources.at("node_name"), c.source) << c.name;
  }
}

}  // namespace
}  // namespace kna
