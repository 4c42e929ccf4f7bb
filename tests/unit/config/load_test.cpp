// Layering (defaults < file < environment < flags), the source kept for each value, defaults taken
// from the machine, and the config file's missing/absent semantics.

#include <gtest/gtest.h>

#include <filesystem>

#include "config_fixtures.hpp"

namespace kna {
namespace {

TEST(LoadConfigTest, DefaultsMatchDockerMultinode) {
  test::Setup setup;
  const LoadedConfig loaded = setup.load();
  const Config& c = loaded.config;
  EXPECT_EQ(c.role, Role::worker);
  EXPECT_EQ(c.etcd_version, "2.2.5");
  EXPECT_EQ(c.flannel_version, "0.5.5");
  EXPECT_TRUE(c.flannel_ipmasq);
  EXPECT_EQ(c.flannel_network, "10.1.0.0/16");
  EXPECT_EQ(c.flannel_backend, "udp");
  EXPECT_EQ(c.dns_domain, "cluster.local");
  EXPECT_EQ(c.dns_server_ip, "10.0.0.10");
  EXPECT_EQ(c.restart_policy, "unless-stopped");
  EXPECT_EQ(c.timeout_for_services, 20);
  EXPECT_EQ(c.stages.size(), all_stage_names().size());
  EXPECT_EQ(c.stage(kStageEtcd).runtime, RuntimeKind::container);
  EXPECT_EQ(c.stage(kStageBootstrapDocker).binary, "dockerd");
  EXPECT_EQ(c.stage(kStageFlannel).binary, "flanneld");
  EXPECT_EQ(c.stage(kStageCriDockerd).runtime, RuntimeKind::process);
  EXPECT_EQ(c.stage(kStageKubelet).probe.deadline, Millis{20'000});
  EXPECT_EQ(loaded.sources.at("k8s_version"), ValueSource::default_value);
  EXPECT_EQ(loaded.sources.at("stages.etcd.backoff.initial_ms"), ValueSource::default_value);
}

TEST(LoadConfigTest, FileOverridesDefaultsAndRecordsSourceFile) {
  test::Setup setup;
  setup.file(R"({"k8s_version": "v1.2.4", "paths": {"state_dir": "/tmp/kna/state"}})");
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.k8s_version, "v1.2.4");
  EXPECT_EQ(loaded.config.paths.state_dir, "/tmp/kna/state");
  EXPECT_EQ(loaded.sources.at("k8s_version"), ValueSource::file);
  EXPECT_EQ(loaded.sources.at("paths.state_dir"), ValueSource::file);
  EXPECT_EQ(loaded.file_used, *setup.inputs.config_path);
}

TEST(LoadConfigTest, EnvironmentOverridesFileAndFlagOverridesEnvironment) {
  test::Setup setup;
  setup.file(R"({"k8s_version": "v1.2.0", "etcd_version": "2.2.1", "flannel_version": "0.5.1"})");
  setup.inputs.env["K8S_VERSION"] = "v1.2.4";
  setup.inputs.env["ETCD_VERSION"] = "3.0.4";
  setup.inputs.flags = {{"k8s_version", "v1.3.0"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.k8s_version, "v1.3.0");
  EXPECT_EQ(loaded.sources.at("k8s_version"), ValueSource::flag);
  EXPECT_EQ(loaded.config.etcd_version, "3.0.4");
  EXPECT_EQ(loaded.sources.at("etcd_version"), ValueSource::env);
  EXPECT_EQ(loaded.config.flannel_version, "0.5.1");
  EXPECT_EQ(loaded.sources.at("flannel_version"), ValueSource::file);
}

TEST(LoadConfigTest, LaterFlagWinsOverEarlierFlagForTheSameKey) {
  test::Setup setup;
  setup.inputs.flags = {{"k8s_version", "v1.2.0"}, {"k8s_version", "v1.2.4"}};
  EXPECT_EQ(setup.load().config.k8s_version, "v1.2.4");
}

TEST(LoadConfigTest, EmptyEnvironmentVariableCountsAsUnset) {
  test::Setup setup;
  setup.file(R"({"k8s_version": "v1.2.0"})");
  setup.inputs.env["K8S_VERSION"] = "";
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.k8s_version, "v1.2.0");
  EXPECT_EQ(loaded.sources.at("k8s_version"), ValueSource::file);
}

TEST(LoadConfigTest, EnvironmentNamesOfDockerMultinodeAndAgentAreRead) {
  test::Setup setup;
  setup.inputs.env = {{"MASTER_IP", "10.0.0.2"},
                      {"FLANNEL_IPMASQ", "no"},
                      {"FLANNEL_NETWORK", "10.5.0.0/16"},
                      {"FLANNEL_BACKEND", "vxlan"},
                      {"DNS_DOMAIN", "example.local"},
                      {"DNS_SERVER_IP", "10.0.0.53"},
                      {"RESTART_POLICY", "always"},
                      {"ARCH", "arm"},
                      {"NET_INTERFACE", "wlan0"},
                      {"TIMEOUT_FOR_SERVICES", "45"},
                      {"KNA_ROLE", "worker"},
                      {"KNA_NODE_NAME", "pi-3"},
                      {"KNA_LOG_LEVEL", "debug"},
                      {"KNA_LOG_FORMAT", "json"},
                      {"KNA_API_TOKEN", "s3cret"},
                      {"KNA_FLANNEL_ETCD_API", "v3"},
                      {"KNA_STATUS_SOCKET", "/tmp/kna.sock"}};
  const Config c = setup.load().config;
  EXPECT_EQ(c.master_ip, "10.0.0.2");
  EXPECT_FALSE(c.flannel_ipmasq);
  EXPECT_EQ(c.flannel_network, "10.5.0.0/16");
  EXPECT_EQ(c.flannel_backend, "vxlan");
  EXPECT_EQ(c.dns_domain, "example.local");
  EXPECT_EQ(c.dns_server_ip, "10.0.0.53");
  EXPECT_EQ(c.restart_policy, "always");
  EXPECT_EQ(c.arch, "arm");
  EXPECT_EQ(c.net_interface, "wlan0");
  EXPECT_EQ(c.timeout_for_services, 45);
  EXPECT_EQ(c.node_name, "pi-3");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, LogFormat::json);
  EXPECT_EQ(c.api_token, "s3cret");
  EXPECT_EQ(c.flannel_etcd_api, EtcdApi::v3);
  EXPECT_EQ(c.paths.status_socket, "/tmp/kna.sock");
}

TEST(LoadConfigTest, FlannelIpmasqAcceptsBooleanWords) {
  for (const auto& [word, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                                {"1", true},
                                                                                {"yes", true},
                                                                                {"false", false},
                                                                                {"0", false},
                                                                                {"no", false},
                                                                                {"FALSE", false}}) {
    test::Setup setup;
    setup.inputs.env["FLANNEL_IPMASQ"] = word;
    EXPECT_EQ(setup.load().config.flannel_ipmasq, expected) << word;
  }
}

TEST(LoadConfigTest, MachineFactsFillArchInterfaceAndNodeNameWithSourceMachine) {
  test::Setup setup;
  setup.machine = MachineFacts{"aarch64", "wlan0", "192.168.7.7", "Raspberry-Pi"};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.arch, "arm64");
  EXPECT_EQ(loaded.config.net_interface, "wlan0");
  EXPECT_EQ(loaded.config.node_name, "raspberry-pi");  // lowercased, as kubelet does
  EXPECT_EQ(loaded.sources.at("arch"), ValueSource::machine);
  EXPECT_EQ(loaded.sources.at("net_interface"), ValueSource::machine);
  EXPECT_EQ(loaded.sources.at("node_name"), ValueSource::machine);
  EXPECT_EQ(loaded.config.master_ip, "10.0.0.1");  // a worker does not take its own address
  EXPECT_EQ(loaded.sources.at("master_ip"), ValueSource::env);
}

TEST(LoadConfigTest, ArchIsMappedFromEveryKnownUnameMachine) {
  for (const auto& [uname, arch] :
       std::vector<std::pair<std::string, std::string>>{{"x86_64", "amd64"},
                                                        {"aarch64", "arm64"},
                                                        {"armv6l", "arm"},
                                                        {"armv7l", "arm"},
                                                        {"armhf", "arm"},
                                                        {"ppc64le", "ppc64le"}}) {
    test::Setup setup;
    setup.machine.uname_machine = uname;
    EXPECT_EQ(setup.load().config.arch, arch) << uname;
  }
}

TEST(LoadConfigTest, MasterWithoutMasterIpUsesDefaultRouteAddress) {
  test::Setup setup;
  setup.inputs.env = {{"KNA_ROLE", "master"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.role, Role::master);
  EXPECT_EQ(loaded.config.master_ip, "192.168.1.5");
  EXPECT_EQ(loaded.sources.at("master_ip"), ValueSource::machine);
}

TEST(LoadConfigTest, ConfiguredValuesWinOverMachineFacts) {
  test::Setup setup;
  setup.inputs.env = {{"KNA_ROLE", "master"},
                      {"MASTER_IP", "10.9.9.9"},
                      {"ARCH", "ppc64le"},
                      {"NET_INTERFACE", "eth1"}};
  setup.inputs.flags = {{"node_name", "master-0"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.master_ip, "10.9.9.9");
  EXPECT_EQ(loaded.config.arch, "ppc64le");
  EXPECT_EQ(loaded.config.net_interface, "eth1");
  EXPECT_EQ(loaded.config.node_name, "master-0");
  EXPECT_EQ(loaded.sources.at("node_name"), ValueSource::flag);
}

TEST(LoadConfigTest, NodeNameFallsBackToResinThenBalenaUuidBeforeHostName) {
  test::Setup setup;
  setup.inputs.env["BALENA_DEVICE_UUID"] = "b0b0";
  EXPECT_EQ(setup.load().config.node_name, "b0b0");
  setup.inputs.env["RESIN_DEVICE_UUID"] = "a1a1";
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.node_name, "a1a1");
  EXPECT_EQ(loaded.sources.at("node_name"), ValueSource::env);
  setup.inputs.env["KNA_NODE_NAME"] = "named";
  EXPECT_EQ(setup.load().config.node_name, "named");
}

TEST(LoadConfigTest, MissingDefaultRouteIsFineWhenFlannelIsDisabled) {
  test::Setup setup;
  setup.machine.default_route_interface.clear();
  setup.inputs.flags = {{"stages.flannel.enabled", "false"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.net_interface, "");
  EXPECT_FALSE(loaded.config.stage(kStageFlannel).enabled);
}

TEST(LoadConfigTest, ProbeDeadlineFollowsTimeoutForServicesUnlessSetPerStage) {
  test::Setup setup;
  setup.file(R"({"stages": {"etcd": {"probe": {"deadline_ms": 7000}}}})");
  setup.inputs.env["TIMEOUT_FOR_SERVICES"] = "30";
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.stage(kStageKubelet).probe.deadline, Millis{30'000});
  EXPECT_EQ(loaded.sources.at("stages.kubelet.probe.deadline_ms"), ValueSource::env);
  EXPECT_EQ(loaded.config.stage(kStageEtcd).probe.deadline, Millis{7'000});
  EXPECT_EQ(loaded.sources.at("stages.etcd.probe.deadline_ms"), ValueSource::file);
}

TEST(LoadConfigTest, StatusSocketAndImageDirFollowRunAndStateDirUnlessSet) {
  test::Setup setup;
  setup.inputs.flags = {{"paths.run_dir", "/tmp/node2/run"},
                        {"paths.state_dir", "/tmp/node2/state"}};
  Config c = setup.load().config;
  EXPECT_EQ(c.paths.status_socket, "/tmp/node2/run/agent.sock");
  EXPECT_EQ(c.paths.image_dir, "/tmp/node2/state/images");

  setup.inputs.env["KNA_STATUS_SOCKET"] = "/tmp/elsewhere.sock";
  c = setup.load().config;
  EXPECT_EQ(c.paths.status_socket, "/tmp/elsewhere.sock");
}

TEST(LoadConfigTest, StageSettingsFromFileReachTheTypedConfig) {
  test::Setup setup;
  setup.file(R"({
    // comments are allowed
    "stages": {
      "kubelet": {
        "runtime": "process", "binary": "/usr/local/bin/kubelet", "image": "",
        "args": ["--v=4", "--fail-swap-on=false"], "env": {"HTTP_PROXY": "http://proxy:3128"},
        "backoff": {"initial_ms": 250, "multiplier": 1.5, "max_ms": 60000, "jitter": 0.2,
                    "reset_after_ms": 120000},
        "probe": {"interval_ms": 500, "timeout_ms": 1000, "deadline_ms": 90000,
                  "period_ms": 10000, "failure_threshold": 5},
        "stop_timeout_ms": 3000
      },
      "etcd": {"enabled": false}
    }
  })");
  const Config c = setup.load().config;
  const StageConfig& k = c.stage(kStageKubelet);
  EXPECT_EQ(k.runtime, RuntimeKind::process);
  EXPECT_EQ(k.binary, "/usr/local/bin/kubelet");
  EXPECT_EQ(k.extra_args, (std::vector<std::string>{"--v=4", "--fail-swap-on=false"}));
  EXPECT_EQ(k.env.at("HTTP_PROXY"), "http://proxy:3128");
  EXPECT_EQ(k.backoff.initial, Millis{250});
  EXPECT_DOUBLE_EQ(k.backoff.multiplier, 1.5);
  EXPECT_EQ(k.backoff.cap, Millis{60'000});
  EXPECT_DOUBLE_EQ(k.backoff.jitter, 0.2);
  EXPECT_EQ(k.backoff.reset_after, Millis{120'000});
  EXPECT_EQ(k.probe.interval, Millis{500});
  EXPECT_EQ(k.probe.timeout, Millis{1'000});
  EXPECT_EQ(k.probe.deadline, Millis{90'000});
  EXPECT_EQ(k.probe.period, Millis{10'000});
  EXPECT_EQ(k.probe.failure_threshold, 5);
  EXPECT_EQ(k.stop_timeout, Millis{3'000});
  EXPECT_FALSE(c.stage(kStageEtcd).enabled);
  EXPECT_EQ(c.stage(kStageEtcd).binary, "etcd");  // untouched fields keep their defaults
}

TEST(LoadConfigTest, SetParsesJsonForNonStringTargetsAndKeepsStringsAsGiven) {
  test::Setup setup;
  setup.inputs.flags = {{"stages.etcd.image", "kna/etcd:test"},
                        {"stages.etcd.args", R"(["--a","--b"])"},
                        {"stages.kube-proxy.image", "123"},
                        {"stages.etcd.backoff.initial_ms", "500"},
                        {"stages.kubelet.enabled", "no"},
                        {"paths.flannel_run_dir", "/tmp/x/flannel"},
                        {"stages.kubelet.env.NO_PROXY", "10.0.0.0/8"},
                        {"stages.kubelet.probe", R"({"period_ms": 2500})"}};
  const LoadedConfig loaded = setup.load();
  const Config& c = loaded.config;
  EXPECT_EQ(c.stage(kStageEtcd).image, "kna/etcd:test");
  EXPECT_EQ(c.stage(kStageEtcd).extra_args, (std::vector<std::string>{"--a", "--b"}));
  EXPECT_EQ(c.stage(kStageKubeProxy).image, "123");
  EXPECT_EQ(c.stage(kStageEtcd).backoff.initial, Millis{500});
  EXPECT_FALSE(c.stage(kStageKubelet).enabled);
  EXPECT_EQ(c.paths.flannel_run_dir, "/tmp/x/flannel");
  EXPECT_EQ(c.stage(kStageKubelet).env.at("NO_PROXY"), "10.0.0.0/8");
  EXPECT_EQ(c.stage(kStageKubelet).probe.period, Millis{2'500});
  EXPECT_EQ(loaded.sources.at("stages.kubelet.probe.period_ms"), ValueSource::flag);
  EXPECT_EQ(loaded.sources.at("stages.kubelet.probe.interval_ms"), ValueSource::default_value);
  EXPECT_EQ(loaded.sources.at("stages.kubelet.env.NO_PROXY"), ValueSource::flag);
}

TEST(LoadConfigTest, StageEnvEntriesFromFileAndFlagsAreMerged) {
  test::Setup setup;
  setup.file(R"({"stages": {"kubelet": {"env": {"A": "file", "B": "file"}}}})");
  setup.inputs.flags = {{"stages.kubelet.env.B", "flag"}};
  const LoadedConfig loaded = setup.load();
  const auto& env = loaded.config.stage(kStageKubelet).env;
  EXPECT_EQ(env.at("A"), "file");
  EXPECT_EQ(env.at("B"), "flag");
  EXPECT_EQ(loaded.sources.at("stages.kubelet.env.A"), ValueSource::file);
  EXPECT_EQ(loaded.sources.at("stages.kubelet.env.B"), ValueSource::flag);
}

TEST(LoadConfigTest, AcceptsPreReleaseVersionsAndOnFailureRetryCount) {
  test::Setup setup;
  setup.inputs.env = {{"MASTER_IP", "10.0.0.1"},
                      {"K8S_VERSION", "v1.3.0-alpha.5"},
                      {"FLANNEL_VERSION", "v0.6.1"},
                      {"ETCD_VERSION", "3.0.4"},
                      {"RESTART_POLICY", "on-failure:5"}};
  const Config c = setup.load().config;
  EXPECT_EQ(c.k8s_version, "v1.3.0-alpha.5");
  EXPECT_EQ(c.restart_policy, "on-failure:5");
}

TEST(LoadConfigTest, AbsentDefaultFileIsFine) {
  if (std::filesystem::exists(kDefaultConfigPath))
    GTEST_SKIP() << kDefaultConfigPath << " exists on this machine";
  test::Setup setup;
  setup.inputs.config_path.reset();
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.file_used, "");
}

TEST(LoadConfigTest, ExplicitlyNamedMissingFileIsAnError) {
  test::Setup setup;
  setup.inputs.config_path = setup.dir.path("nope.json");
  const auto problems = setup.problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(setup.dir.path("nope.json")), std::string::npos);
  EXPECT_NE(problems[0].find("does not exist"), std::string::npos);
}

TEST(LoadConfigTest, DirectoryGivenAsConfigFileIsAnError) {
  test::Setup setup;
  setup.inputs.config_path = setup.dir.path("");
  const auto problems = setup.problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("is a directory"), std::string::npos) << problems[0];
}

TEST(LoadConfigTest, EnvironmentMapHoldsThisProcessEnvironment) {
  ::setenv("KNA_CONFIG_TEST_VAR", "a=b", 1);
  const auto env = environment_map();
  ASSERT_TRUE(env.contains("KNA_CONFIG_TEST_VAR"));
  EXPECT_EQ(env.at("KNA_CONFIG_TEST_VAR"), "a=b");
  ::unsetenv("KNA_CONFIG_TEST_VAR");
}

TEST(LoadConfigTest, ValueSourceNames) {
  EXPECT_STREQ(to_string(ValueSource::default_value), "default");
  EXPECT_STREQ(to_string(ValueSource::file), "file");
  EXPECT_STREQ(to_string(ValueSource::env), "env");
  EXPECT_STREQ(to_string(ValueSource::flag), "flag");
  EXPECT_STREQ(to_string(ValueSource::machine), "machine");
}

}  // namespace
}  // namespace kna
