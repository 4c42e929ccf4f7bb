// The configuration flags parsed by a real CLI::App, as the `run`, `plan` and `config` commands do.

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "config_fixtures.hpp"

namespace kna {
namespace {

using Flags = std::vector<std::pair<std::string, std::string>>;

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
}

TEST(ConfigFlagsTest, NamedFlagsAndSetAreRecordedInCommandLineOrder) {
  CLI::App app;
  ConfigInputs inputs;
  add_config_flags(app, &inputs);
  parse(app, {"--set", "k8s_version=v1.1.1", "--master-ip", "10.0.0.2", "--k8s-version=v1.2.4",
              "--set", "stages.etcd.image=kna/etcd:test", "--set",
              R"(stages.etcd.args=["--a","--b"])", "--config", "/tmp/c.json"});
  EXPECT_EQ(inputs.flags, (Flags{{"k8s_version", "v1.1.1"},
                                 {"master_ip", "10.0.0.2"},
                                 {"k8s_version", "v1.2.4"},
                                 {"stages.etcd.image", "kna/etcd:test"},
                                 {"stages.etcd.args", R"(["--a","--b"])"}}));
  EXPECT_EQ(inputs.config_path, "/tmp/c.json");
}

TEST(ConfigFlagsTest, EveryDocumentedFlagMapsToItsKey) {
  CLI::App app;
  ConfigInputs inputs;
  add_config_flags(app, &inputs);
  const Flags expected{{"role", "master"},
                       {"node_name", "n1"},
                       {"master_ip", "10.0.0.1"},
                       {"k8s_version", "v1.2.4"},
                       {"etcd_version", "2.2.5"},
                       {"flannel_version", "0.5.5"},
                       {"flannel_ipmasq", "false"},
                       {"flannel_network", "10.2.0.0/16"},
                       {"flannel_backend", "vxlan"},
                       {"flannel_etcd_api", "v3"},
                       {"dns_domain", "cluster.local"},
                       {"dns_server_ip", "10.0.0.10"},
                       {"restart_policy", "always"},
                       {"arch", "arm"},
                       {"net_interface", "eth0"},
                       {"timeout_for_services", "30"},
                       {"paths.status_socket", "/tmp/s.sock"},
                       {"paths.state_dir", "/tmp/state"},
                       {"paths.run_dir", "/tmp/run"},
                       {"log.level", "debug"},
                       {"log.format", "json"}};
  parse(app, {"--role",
              "master",
              "--node-name",
              "n1",
              "--master-ip",
              "10.0.0.1",
              "--k8s-version",
              "v1.2.4",
              "--etcd-version",
              "2.2.5",
              "--flannel-version",
              "0.5.5",
              "--flannel-ipmasq",
              "false",
              "--flannel-network",
              "10.2.0.0/16",
              "--flannel-backend",
              "vxlan",
              "--flannel-etcd-api",
              "v3",
              "--dns-domain",
              "cluster.local",
              "--dns-server-ip",
              "10.0.0.10",
              "--restart-policy",
              "always",
              "--arch",
              "arm",
              "--net-interface",
              "eth0",
              "--timeout-for-services",
              "30",
              "--status-socket",
              "/tmp/s.sock",
              "--state-dir",
              "/tmp/state",
              "--run-dir",
              "/tmp/run",
              "--log-level",
              "debug",
              "--log-format",
              "json"});
  EXPECT_EQ(inputs.flags, expected);
  EXPECT_FALSE(inputs.config_path.has_value());
}

TEST(ConfigFlagsTest, FlagsRegisteredOnSubcommandFeedTheLoader) {
  CLI::App app;
  CLI::App* run = app.add_subcommand("run");
  CLI::App* plan = app.add_subcommand("plan");
  ConfigInputs run_inputs;
  ConfigInputs plan_inputs;
  add_config_flags(*run, &run_inputs);
  add_config_flags(*plan, &plan_inputs);
  test::TempDir dir;
  const std::string file = dir.write("c.json", R"({"k8s_version": "v1.2.0"})");
  parse(app, {"run", "--config", file, "--master-ip", "10.0.0.7", "--set",
              "stages.etcd.image=kna/etcd:test", "--set", "k8s_version=v1.3.0"});
  EXPECT_TRUE(plan_inputs.flags.empty());

  const LoadedConfig loaded = load_config(run_inputs, test::fake_machine());
  EXPECT_EQ(loaded.config.master_ip, "10.0.0.7");
  EXPECT_EQ(loaded.config.stage(kStageEtcd).image, "kna/etcd:test");
  EXPECT_EQ(loaded.config.k8s_version, "v1.3.0");
  EXPECT_EQ(loaded.sources.at("k8s_version"), ValueSource::flag);
  EXPECT_EQ(loaded.file_used, file);
}

TEST(ConfigFlagsTest, SetWithoutEqualsSignIsAUsageError) {
  CLI::App app;
  ConfigInputs inputs;
  add_config_flags(app, &inputs);
  try {
    parse(app, {"--set", "stages.etcd.image"});
    FAIL() << "parsed --set without '='";
  } catch (const CLI::ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("KEY=VALUE"), std::string::npos) << e.what();
  }
}

TEST(ConfigFlagsTest, SetKeepsEqualsSignsInsideTheValue) {
  CLI::App app;
  ConfigInputs inputs;
  add_config_flags(app, &inputs);
  parse(app, {"--set", "stages.kubelet.args=[\"--node-labels=a=b\"]"});
  EXPECT_EQ(inputs.flags, (Flags{{"stages.kubelet.args", "[\"--node-labels=a=b\"]"}}));
}

}  // namespace
}  // namespace kna
