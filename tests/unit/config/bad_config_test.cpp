// Each invalid configuration must fail with one message that names the option, where the value
// came from, the bad value and what would be valid.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config_fixtures.hpp"

namespace kna {
namespace {

struct BadCase {
  std::string name;
  std::string file;                                        // config file content; "" = {}
  std::map<std::string, std::string> env;                  // added to MASTER_IP=10.0.0.1
  std::vector<std::pair<std::string, std::string>> flags;  // (dotted key, raw value)
  std::vector<std::string> expected;  // all in one message; "{file}" = the config file path
  MachineFacts machine = test::fake_machine();
  bool explicit_missing_file = false;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

MachineFacts machine_with(void (*change)(MachineFacts&)) {
  MachineFacts m = test::fake_machine();
  change(m);
  return m;
}

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> c;
  c.push_back({"role_unknown",
               "",
               {{"KNA_ROLE", "boss"}},
               {},
               {"role (env KNA_ROLE)", "\"boss\"", "not a role", "master, worker"}});
  c.push_back({"worker_without_master_ip",
               "",
               {{"MASTER_IP", ""}},
               {},
               {"master_ip (not set)",
                "MASTER_IP is required for a worker: set MASTER_IP, "
                "--master-ip or master_ip in the config file"}});
  c.push_back({"master_ip_octet_too_big",
               "",
               {},
               {{"master_ip", "10.0.0.300"}},
               {"master_ip (flag --master-ip)", "\"10.0.0.300\"", "not an IPv4 address",
                "four numbers 0-255"}});
  c.push_back({"master_ip_unspecified_address",
               "",
               {{"MASTER_IP", "0.0.0.0"}},
               {},
               {"master_ip (env MASTER_IP)", "\"0.0.0.0\"", "use a host's own address"}});
  c.push_back({"dns_server_ip_three_octets",
               R"({"dns_server_ip": "10.0.0"})",
               {},
               {},
               {"dns_server_ip (file {file})", "\"10.0.0\"", "not an IPv4 address"}});
  c.push_back({"dns_server_ip_inside_pod_network",
               "",
               {{"DNS_SERVER_IP", "10.1.0.10"}},
               {},
               {"dns_server_ip (env DNS_SERVER_IP)", "\"10.1.0.10\"",
                "inside flannel_network 10.1.0.0/16", "outside the pod network"}});
  c.push_back({"flannel_network_host_bits",
               "",
               {{"FLANNEL_NETWORK", "10.1.0.1/16"}},
               {},
               {"flannel_network (env FLANNEL_NETWORK)", "\"10.1.0.1/16\"",
                "host bits set; did you mean 10.1.0.0/16?"}});
  c.push_back({"flannel_network_without_prefix",
               R"({"flannel_network": "10.1.0.0"})",
               {},
               {},
               {"flannel_network (file {file})", "\"10.1.0.0\"", "CIDR", "such as 10.1.0.0/16"}});
  c.push_back({"flannel_network_prefix_too_long",
               "",
               {},
               {{"flannel_network", "10.1.0.0/30"}},
               {"flannel_network (flag --flannel-network)", "\"10.1.0.0/30\"", "prefix length 30",
                "use 8 to 28"}});
  c.push_back({"flannel_network_prefix_beyond_32",
               "",
               {{"FLANNEL_NETWORK", "10.0.0.0/40"}},
               {},
               {"flannel_network (env FLANNEL_NETWORK)", "prefix length 40", "use 8 to 28"}});
  c.push_back({"k8s_version_without_v",
               "",
               {{"K8S_VERSION", "1.2.4"}},
               {},
               {"k8s_version (env K8S_VERSION)", "\"1.2.4\"", "not a Kubernetes version", "v1.2.4",
                "v1.3.0-alpha.5"}});
  c.push_back({"k8s_version_two_parts",
               R"({"k8s_version": "v1.3"})",
               {},
               {},
               {"k8s_version (file {file})", "\"v1.3\"", "use the form v1.2.4"}});
  c.push_back({"etcd_version_word",
               "",
               {},
               {{"etcd_version", "latest"}},
               {"etcd_version (flag --etcd-version)", "\"latest\"", "2.2.5 or v3.0.4"}});
  c.push_back({"flannel_version_two_parts",
               R"({"flannel_version": "0.6"})",
               {},
               {},
               {"flannel_version (file {file})", "\"0.6\"", "0.5.5 or v0.6.1"}});
  c.push_back({"arch_unknown",
               "",
               {{"ARCH", "mips"}},
               {},
               {"arch (env ARCH)", "\"mips\"", "amd64, arm, arm64, ppc64le"}});
  c.push_back({"arch_from_unknown_machine",
               "",
               {},
               {},
               {"arch (machine: uname -m)", "\"riscv64\"",
                "set ARCH, --arch or arch in the config file", "amd64, arm, arm64, ppc64le"},
               machine_with([](MachineFacts& m) { m.uname_machine = "riscv64"; })});
  c.push_back(
      {"flannel_ipmasq_word",
       "",
       {{"FLANNEL_IPMASQ", "maybe"}},
       {},
       {"flannel_ipmasq (env FLANNEL_IPMASQ)", "\"maybe\"", "true, false, 1, 0, yes or no"}});
  c.push_back({"flannel_ipmasq_string_in_file",
               R"({"flannel_ipmasq": "true"})",
               {},
               {},
               {"flannel_ipmasq (file {file})", "expected a boolean", "got string \"true\""}});
  c.push_back({"unknown_key_misspelt",
               R"({"k8s_verison": "v1.2.4"})",
               {},
               {},
               {"k8s_verison (file {file})", "unknown option", "did you mean k8s_version?"}});
  c.push_back({"unknown_key_env_var_name",
               R"({"MASTER_IP": "10.0.0.1"})",
               {},
               {},
               {"MASTER_IP (file {file})", "unknown option", "did you mean master_ip?"}});
  c.push_back({"unknown_stage",
               "",
               {},
               {{"stages.etcdd.image", "x"}},
               {"stages.etcdd (flag --set stages.etcdd.image)", "unknown option",
                "did you mean stages.etcd?"}});
  c.push_back({"unknown_key_at_wrong_level",
               R"({"run_dir": "/run/x"})",
               {},
               {},
               {"run_dir (file {file})", "unknown option", "did you mean paths.run_dir?"}});
  c.push_back({"unknown_stage_field_lists_valid_ones",
               R"({"stages": {"etcd": {"backoff": {"startup": 5}}}})",
               {},
               {},
               {"stages.etcd.backoff.startup (file {file})", "unknown option",
                "valid here: initial_ms, multiplier, max_ms, jitter, reset_after_ms"}});
  c.push_back({"timeout_as_string_in_file",
               R"({"timeout_for_services": "20"})",
               {},
               {},
               {"timeout_for_services (file {file})", "expected an integer, got string \"20\""}});
  c.push_back({"timeout_zero",
               "",
               {{"TIMEOUT_FOR_SERVICES", "0"}},
               {},
               {"timeout_for_services (env TIMEOUT_FOR_SERVICES)", "0 is not a positive", "seconds",
                "1 to 86400"}});
  c.push_back(
      {"timeout_word",
       "",
       {{"TIMEOUT_FOR_SERVICES", "abc"}},
       {},
       {"timeout_for_services (env TIMEOUT_FOR_SERVICES)", "expected an integer", "got \"abc\""}});
  c.push_back({"timeout_fraction",
               "",
               {},
               {{"timeout_for_services", "2.5"}},
               {"timeout_for_services (flag --timeout-for-services)", "expected an integer",
                "got number 2.5"}});
  c.push_back({"image_number",
               R"({"stages": {"etcd": {"image": 5}}})",
               {},
               {},
               {"stages.etcd.image (file {file})", "expected a string, got number 5"}});
  c.push_back({"args_not_array",
               R"({"stages": {"kubelet": {"args": "--v=4"}}})",
               {},
               {},
               {"stages.kubelet.args (file {file})", "expected an array of strings",
                "got string \"--v=4\""}});
  c.push_back({"env_value_number",
               R"({"stages": {"kubelet": {"env": {"A": 1}}}})",
               {},
               {},
               {"stages.kubelet.env.A (file {file})", "expected a string, got number 1"}});
  c.push_back({"env_name_with_equals",
               R"({"stages": {"kubelet": {"env": {"A=B": "x"}}}})",
               {},
               {},
               {"stages.kubelet.env.A=B (file {file})", "\"A=B\"",
                "not an environment variable name", "without '='"}});
  c.push_back({"state_dir_relative",
               "",
               {},
               {{"paths.state_dir", "var/lib/kna"}},
               {"paths.state_dir (flag --state-dir)", "\"var/lib/kna\"", "not an absolute path",
                "such as /var/lib/kube-node-agent"}});
  c.push_back({"flannel_run_dir_relative",
               R"({"paths": {"flannel_run_dir": "run/flannel"}})",
               {},
               {},
               {"paths.flannel_run_dir (file {file})", "\"run/flannel\"", "not an absolute path",
                "such as /run/flannel"}});
  c.push_back(
      {"status_socket_too_long",
       "",
       {{"KNA_STATUS_SOCKET", "/" + std::string(120, 's')}},
       {},
       {"paths.status_socket (env KNA_STATUS_SOCKET)", "121 bytes long", "at most 107 bytes"}});
  c.push_back({"backoff_initial_zero",
               R"({"stages": {"etcd": {"backoff": {"initial_ms": 0}}}})",
               {},
               {},
               {"stages.etcd.backoff.initial_ms (file {file})", "0 is not positive",
                "first restart delay"}});
  c.push_back({"backoff_multiplier_below_one",
               "",
               {},
               {{"stages.etcd.backoff.multiplier", "0.5"}},
               {"stages.etcd.backoff.multiplier (flag --set stages.etcd.backoff.multiplier)",
                "0.5 is less than 1", "use 1 for a fixed delay"}});
  c.push_back({"backoff_cap_below_initial",
               R"({"stages": {"flannel": {"backoff": {"max_ms": 50}}}})",
               {},
               {},
               {"stages.flannel.backoff.max_ms (file {file})",
                "50 is less than backoff.initial_ms (100)", "at least the initial delay"}});
  c.push_back({"backoff_jitter_one",
               "",
               {},
               {{"stages.kubelet.backoff.jitter", "1"}},
               {"stages.kubelet.backoff.jitter (flag --set stages.kubelet.backoff.jitter)",
                "1.0 is out of range", "from 0 up to (not including) 1"}});
  c.push_back({"backoff_jitter_negative",
               R"({"stages": {"kubelet": {"backoff": {"jitter": -0.1}}}})",
               {},
               {},
               {"stages.kubelet.backoff.jitter (file {file})", "-0.1 is out of range"}});
  c.push_back({"backoff_reset_after_zero",
               "",
               {},
               {{"stages.etcd.backoff.reset_after_ms", "0"}},
               {"stages.etcd.backoff.reset_after_ms", "0 is not positive", "reset its backoff"}});
  c.push_back({"probe_interval_zero",
               R"({"stages": {"flannel": {"probe": {"interval_ms": 0}}}})",
               {},
               {},
               {"stages.flannel.probe.interval_ms (file {file})", "0 is not positive",
                "between readiness attempts"}});
  c.push_back({"probe_timeout_negative",
               "",
               {},
               {{"stages.etcd.probe.timeout_ms", "-5"}},
               {"stages.etcd.probe.timeout_ms (flag --set stages.etcd.probe.timeout_ms)",
                "-5 is not positive"}});
  c.push_back({"probe_deadline_zero",
               "",
               {},
               {{"stages.etcd.probe.deadline_ms", "0"}},
               {"stages.etcd.probe.deadline_ms", "0 is not positive", "to become ready"}});
  c.push_back({"probe_failure_threshold_negative",
               R"({"stages": {"kubelet": {"probe": {"failure_threshold": -1}}}})",
               {},
               {},
               {"stages.kubelet.probe.failure_threshold (file {file})", "-1 is not positive"}});
  c.push_back({"stop_timeout_negative",
               "",
               {},
               {{"stages.etcd.stop_timeout_ms", "-1"}},
               {"stages.etcd.stop_timeout_ms", "-1 is negative", "SIGKILL"}});
  c.push_back(
      {"runtime_unknown",
       R"({"stages": {"kubelet": {"runtime": "vm"}}})",
       {},
       {},
       {"stages.kubelet.runtime (file {file})", "\"vm\"", "not a runtime", "container, process"}});
  c.push_back({"binary_relative_with_slash",
               "",
               {},
               {{"stages.main-docker.binary", "bin/dockerd"}},
               {"stages.main-docker.binary (flag --set stages.main-docker.binary)",
                "\"bin/dockerd\"", "not an absolute path", "bare name looked up in PATH"}});
  c.push_back({"binary_empty_for_process",
               R"({"stages": {"cri-dockerd": {"binary": ""}}})",
               {},
               {},
               {"stages.cri-dockerd.binary (file {file})", "needs a binary"}});
  c.push_back({"image_with_space",
               "",
               {},
               {{"stages.etcd.image", "etcd latest"}},
               {"stages.etcd.image", "\"etcd latest\"", "not an image reference"}});
  c.push_back({"stage_enabled_number",
               "",
               {},
               {{"stages.etcd.enabled", "5"}},
               {"stages.etcd.enabled (flag --set stages.etcd.enabled)", "expected a boolean",
                "got \"5\""}});
  c.push_back({"flannel_backend_unknown",
               "",
               {{"FLANNEL_BACKEND", "wireguard"}},
               {},
               {"flannel_backend (env FLANNEL_BACKEND)", "\"wireguard\"",
                "udp, vxlan, host-gw, aws-vpc, gce, alloc"}});
  c.push_back({"flannel_etcd_api_unknown",
               "",
               {{"KNA_FLANNEL_ETCD_API", "v4"}},
               {},
               {"flannel_etcd_api (env KNA_FLANNEL_ETCD_API)", "\"v4\"", "v2, v3"}});
  c.push_back({"flannel_etcd_prefix_relative",
               R"({"flannel_etcd_prefix": "coreos.com/network"})",
               {},
               {},
               {"flannel_etcd_prefix (file {file})", "\"coreos.com/network\"",
                "such as /coreos.com/network"}});
  c.push_back({"restart_policy_unknown",
               "",
               {{"RESTART_POLICY", "sometimes"}},
               {},
               {"restart_policy (env RESTART_POLICY)", "\"sometimes\"",
                "no, always, unless-stopped, on-failure"}});
  c.push_back({"log_level_unknown",
               "",
               {{"KNA_LOG_LEVEL", "verbose"}},
               {},
               {"log.level (env KNA_LOG_LEVEL)", "\"verbose\"", "trace, debug, info, warn"}});
  c.push_back({"log_format_unknown",
               "",
               {},
               {{"log.format", "xml"}},
               {"log.format (flag --log-format)", "\"xml\"", "text, json"}});
  c.push_back({"node_name_underscore",
               "",
               {{"KNA_NODE_NAME", "my_node"}},
               {},
               {"node_name (env KNA_NODE_NAME)", "\"my_node\"", "DNS-1123 subdomain",
                "lowercase letters"}});
  c.push_back({"node_name_uppercase",
               R"({"node_name": "Node1"})",
               {},
               {},
               {"node_name (file {file})", "\"Node1\"", "lowercase", "did you mean \"node1\"?"}});
  c.push_back({"node_name_from_bad_uuid",
               "",
               {{"RESIN_DEVICE_UUID", "uuid_with_underscore"}},
               {},
               {"node_name (env RESIN_DEVICE_UUID)", "\"uuid_with_underscore\"", "DNS-1123"}});
  c.push_back({"dns_domain_uppercase",
               "",
               {{"DNS_DOMAIN", "Cluster.Local"}},
               {},
               {"dns_domain (env DNS_DOMAIN)", "\"Cluster.Local\"", "such as cluster.local"}});
  c.push_back({"net_interface_with_slash",
               "",
               {{"NET_INTERFACE", "eth0/1"}},
               {},
               {"net_interface (env NET_INTERFACE)", "\"eth0/1\"", "plausible interface name",
                "such as eth0"}});
  c.push_back({"net_interface_too_long",
               "",
               {},
               {{"net_interface", "averyveryverylongname0"}},
               {"net_interface (flag --net-interface)", "1 to 15 characters"}});
  c.push_back({"no_default_route_for_flannel",
               "",
               {},
               {},
               {"net_interface (machine: default route)", "no default route",
                "set NET_INTERFACE, --net-interface or net_interface in the config file"},
               machine_with([](MachineFacts& m) {
                 m.default_route_interface.clear();
                 m.default_route_address.clear();
               })});
  c.push_back(
      {"master_without_any_address",
       "",
       {{"KNA_ROLE", "master"}, {"MASTER_IP", ""}},
       {},
       {"master_ip (machine: address of the default route's interface)", "no IPv4 address found",
        "set MASTER_IP, --master-ip or master_ip in the config file"},
       machine_with([](MachineFacts& m) { m.default_route_address.clear(); })});
  c.push_back({"api_token_wrong_type_is_redacted",
               R"({"api_token": 123456})",
               {},
               {},
               {"api_token (file {file})", "expected a string, got number <redacted>"}});
  c.push_back({"malformed_json",
               "{\n  \"role\": \"worker\",\n  \"k8s_version\" \"v1.2.4\"\n}",
               {},
               {},
               {"config file {file} (flag --config)", "malformed JSON at line 3, column"}});
  c.push_back({"top_level_not_object",
               R"(["role", "worker"])",
               {},
               {},
               {"config file {file}", "expected a JSON object at the top level, got array"}});
  c.push_back({"service_range_not_cidr",
               "",
               {{"SERVICE_CLUSTER_IP_RANGE", "10.0.0.0"}},
               {},
               {"control_plane.service_cluster_ip_range (env SERVICE_CLUSTER_IP_RANGE)",
                "\"10.0.0.0\"", "not a network in CIDR notation", "such as 10.0.0.0/24"}});
  c.push_back({"service_range_wrong_type",
               R"({"control_plane": {"service_cluster_ip_range": 24}})",
               {},
               {},
               {"control_plane.service_cluster_ip_range (file {file})",
                "expected a string, got number 24"}});
  c.push_back({"service_range_without_dns_server_ip_on_master",
               "",
               {{"KNA_ROLE", "master"}, {"SERVICE_CLUSTER_IP_RANGE", "10.96.0.0/12"}},
               {},
               {"control_plane.service_cluster_ip_range (env SERVICE_CLUSTER_IP_RANGE)",
                "\"10.96.0.0/12\"", "does not contain dns_server_ip 10.0.0.10 (default)",
                "use a range that holds it, or a DNS_SERVER_IP inside 10.96.0.0/12"}});
  c.push_back({"dns_server_ip_outside_default_service_range_on_master",
               R"({"role": "master", "dns_server_ip": "10.3.0.10"})",
               {},
               {},
               {"control_plane.service_cluster_ip_range (default)", "\"10.0.0.1/24\"",
                "does not contain dns_server_ip 10.3.0.10 (file {file})",
                "DNS_SERVER_IP inside 10.0.0.0/24"}});
  c.push_back({"dns_server_ip_is_the_kubernetes_service_address",
               "",
               {{"KNA_ROLE", "master"}, {"DNS_SERVER_IP", "10.0.0.1"}},
               {},
               {"control_plane.service_cluster_ip_range (default)",
                "cannot give dns_server_ip 10.0.0.1 (env DNS_SERVER_IP)", "first address",
                "use another DNS_SERVER_IP inside 10.0.0.0/24, such as 10.0.0.10"}});
  c.push_back(
      {"service_range_overlapping_pod_network",
       "",
       {{"KNA_ROLE", "master"}},
       {{"control_plane.service_cluster_ip_range", "10.0.0.0/8"}},
       {"control_plane.service_cluster_ip_range (flag --set "
        "control_plane.service_cluster_ip_range)",
        "\"10.0.0.0/8\"", "overlaps flannel_network 10.1.0.0/16", "use a range outside it"}});
  c.push_back({"tls_master_without_its_pki",
               "",
               {{"KNA_ROLE", "master"}, {"K8S_VERSION", "v1.20.0"}, {"KNA_PKI_DIR", "/no/pki"}},
               {},
               {"control_plane.pki_dir (env KNA_PKI_DIR)", "\"/no/pki\"",
                "is not the PKI a TLS master needs: it lacks (or cannot read) ca.crt, ca.key, "
                "apiserver.crt, apiserver.key, sa.key, sa.pub.",
                "Make it with `kubeadm init phase certs all --cert-dir /no/pki"}});
  c.push_back({"master_of_a_v120_pre_release_on_the_insecure_port",
               R"({"role": "master", "k8s_version": "v1.20.0-alpha.1",
                   "cluster": {"api_server": "http://10.0.0.1:8080"}})",
               {},
               {},
               {"cluster.api_server (file {file})", "\"http://10.0.0.1:8080\"",
                "a master of \"v1.20.0-alpha.1\" serves its API server over TLS only",
                "use https://MASTER_IP:6443"}});
  c.push_back({"kubeconfig_relative",
               "",
               {},
               {{"paths.kubeconfig", "kubeconfig"}},
               {"paths.kubeconfig (flag --set paths.kubeconfig)", "\"kubeconfig\"",
                "not an absolute path", "such as /var/lib/kube-node-agent/kubeconfig"}});
  c.push_back({"control_plane_image_with_space",
               R"({"control_plane": {"apiserver_image": "kube apiserver"}})",
               {},
               {},
               {"control_plane.apiserver_image (file {file})", "\"kube apiserver\"",
                "not an image reference"}});
  c.push_back({"control_plane_key_misspelt",
               R"({"control_plane": {"apiserver_imag": "x"}})",
               {},
               {},
               {"control_plane.apiserver_imag (file {file})", "unknown option",
                "did you mean control_plane.apiserver_image?"}});
  // Found by the config_layers fuzzer: a byte of another encoding used to be accepted, and the
  // agent then threw while showing the value.
  c.push_back({"env_value_not_utf8",
               "",
               {{"ARCH", "arm\xb4"}},
               {},
               {"arch (env ARCH)", "not UTF-8 text", "set it again as plain text"}});
  c.push_back({"device_uuid_not_utf8",
               "",
               {{"RESIN_DEVICE_UUID",
                 "\xb4"
                 "f2a1c0e7d5b"}},
               {},
               {"node_name (env RESIN_DEVICE_UUID)", "not UTF-8 text"}});
  c.push_back({"flag_value_not_utf8",
               "",
               {},
               {{"stages.kubelet.image", "registry.local/hyperkube\xc3("}},
               {"stages.kubelet.image (flag --set stages.kubelet.image)", "not UTF-8 text"}});
  BadCase missing{"explicit_file_missing",
                  "",
                  {},
                  {},
                  {"config file {file} (flag --config)", "does not exist"}};
  missing.explicit_missing_file = true;
  c.push_back(missing);
  return c;
}

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, FailsWithOneMessageNamingOptionSourceValueAndHint) {
  const BadCase& bad = GetParam();
  test::Setup setup;
  setup.machine = bad.machine;
  if (!bad.file.empty()) setup.file(bad.file);
  if (bad.explicit_missing_file) setup.inputs.config_path = setup.dir.path("missing.json");
  for (const auto& [k, v] : bad.env) setup.inputs.env[k] = v;
  setup.inputs.flags = bad.flags;

  const auto problems = setup.problems();
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  for (std::string want : bad.expected) {
    if (auto at = want.find("{file}"); at != std::string::npos)
      want.replace(at, 6, *setup.inputs.config_path);
    EXPECT_NE(problems[0].find(want), std::string::npos)
        << "missing \"" << want << "\" in: " << problems[0];
  }
  if (bad.name == "api_token_wrong_type_is_redacted") {
    EXPECT_EQ(problems[0].find("123456"), std::string::npos) << problems[0];
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfig, ::testing::ValuesIn(bad_cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(BadConfigTable, HasAtLeastThirtyFiveCases) {
  EXPECT_GE(bad_cases().size(), 35u);
}

TEST(ConfigErrorTest, CollectsEveryProblemNotJustTheFirst) {
  test::Setup setup;
  setup.file(R"({"role": "boss", "k8s_version": "1.2", "paths": {"run_dir": "run"}})");
  setup.inputs.env["ARCH"] = "mips";
  setup.inputs.flags = {{"log.level", "loud"}};
  const auto problems = setup.problems();
  ASSERT_EQ(problems.size(), 5u) << ::testing::PrintToString(problems);
  for (const char* key : {"role ", "k8s_version ", "paths.run_dir ", "arch ", "log.level "}) {
    EXPECT_TRUE(std::any_of(problems.begin(), problems.end(), [key](const std::string& p) {
      return p.starts_with(key);
    })) << key;
  }
}

TEST(ConfigErrorTest, ExitCodeIsExConfigAndWhatJoinsProblemsByLine) {
  const ConfigError error({"first problem", "second problem"});
  EXPECT_EQ(error.exit_code(), 78);
  EXPECT_EQ(error.exit_code(), kExitConfig);
  EXPECT_STREQ(error.what(), "first problem\nsecond problem");
  EXPECT_EQ(error.problems().size(), 2u);
}

TEST(ConfigErrorTest, TypeErrorKeepsLoadingTheOtherValuesOfTheFile) {
  test::Setup setup;
  setup.file(R"({"timeout_for_services": "20", "role": "boss"})");
  const auto problems = setup.problems();
  EXPECT_EQ(problems.size(), 2u) << ::testing::PrintToString(problems);
}

}  // namespace
}  // namespace kna
