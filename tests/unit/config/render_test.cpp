// The effective configuration as text and JSON (with sources, secrets redacted), and the
// docker-multinode style startup report.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/report.hpp"
#include "config_fixtures.hpp"

namespace kna {
namespace {

LoadedConfig loaded_with_secrets() {
  test::Setup setup;
  setup.file(R"({"stages": {"kubelet": {"env": {"DB_PASSWORD": "pw1", "api_key": "k1",
                 "AWS_SECRET_ACCESS_KEY": "s1", "AUTH_TOKEN": "t1", "HTTP_PROXY": "http://p"}}}})");
  setup.inputs.env["KNA_API_TOKEN"] = "tok-123";
  setup.inputs.flags = {{"k8s_version", "v1.2.4"}};
  return setup.load();
}

TEST(RenderConfigTest, TextShowsOneLinePerOptionWithSourceAndTheFile) {
  const LoadedConfig loaded = loaded_with_secrets();
  const std::string text = render_config_text(loaded);
  EXPECT_NE(text.find("# configuration file: " + loaded.file_used + "\n"), std::string::npos);
  EXPECT_NE(text.find("k8s_version          = \"v1.2.4\"  (flag)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("master_ip            = \"10.0.0.1\"  (env)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("arch                 = \"amd64\"  (machine)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[paths]\n"), std::string::npos);
  EXPECT_NE(text.find("[stages.bootstrap-docker]\n"), std::string::npos);
  EXPECT_NE(text.find("stages.kubelet.env.HTTP_PROXY"), std::string::npos);
  EXPECT_NE(text.find("\"http://p\"  (file)"), std::string::npos);
  EXPECT_LT(text.find("[stages.bootstrap-docker]"), text.find("[stages.kube-proxy]"));
}

TEST(RenderConfigTest, TextRedactsApiTokenAndSecretLookingStageEnv) {
  const std::string text = render_config_text(loaded_with_secrets());
  for (const char* secret : {"tok-123", "pw1", "k1\"", "s1\"", "t1\""})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked:\n" << text;
  EXPECT_NE(text.find("api_token"), std::string::npos);
  EXPECT_NE(text.find("\"<redacted>\"  (env)"), std::string::npos);
}

TEST(RenderConfigTest, JsonHoldsFileAndValueWithSourcePerDottedKey) {
  const LoadedConfig loaded = loaded_with_secrets();
  const nlohmann::json j = render_config_json(loaded);
  EXPECT_EQ(j.at("file"), loaded.file_used);
  const auto& v = j.at("values");
  EXPECT_EQ(v.at("k8s_version").at("value"), "v1.2.4");
  EXPECT_EQ(v.at("k8s_version").at("source"), "flag");
  EXPECT_EQ(v.at("timeout_for_services").at("value"), 20);
  EXPECT_EQ(v.at("timeout_for_services").at("source"), "default");
  EXPECT_EQ(v.at("paths.run_dir").at("value"), "/run/kube-node-agent");
  EXPECT_EQ(v.at("stages.etcd.args").at("value"), nlohmann::json::array());
  EXPECT_EQ(v.at("stages.etcd.backoff.multiplier").at("value"), 2.0);
  EXPECT_EQ(v.at("node_name").at("source"), "machine");
  EXPECT_EQ(v.at("api_token").at("value"), "<redacted>");
  EXPECT_EQ(v.at("stages.kubelet.env.DB_PASSWORD").at("value"), "<redacted>");
  EXPECT_EQ(v.at("stages.kubelet.env.api_key").at("value"), "<redacted>");
  EXPECT_EQ(v.at("stages.kubelet.env.AUTH_TOKEN").at("value"), "<redacted>");
  EXPECT_EQ(v.at("stages.kubelet.env.HTTP_PROXY").at("value"), "http://p");
  EXPECT_EQ(v.at("stages.kubelet.env.HTTP_PROXY").at("source"), "file");
  EXPECT_EQ(j.dump().find("tok-123"), std::string::npos);
}

TEST(RenderConfigTest, JsonFileIsNullAndEmptyTokenIsShownWhenNothingWasRead) {
  LoadedConfig loaded;
  loaded.config = default_config();
  const nlohmann::json j = render_config_json(loaded);
  EXPECT_TRUE(j.at("file").is_null());
  EXPECT_EQ(j.at("values").at("api_token").at("value"), "");
  EXPECT_EQ(j.at("values").at("role").at("source"), "default");
  EXPECT_NE(render_config_text(loaded).find("# configuration file: none"), std::string::npos);
}

TEST(StartupReportTest, PrintsEveryDockerMultinodeOptionLikeTheScripts) {
  Config c = default_config();
  c.k8s_version = "v1.2.4";
  c.master_ip = "10.0.0.1";
  c.arch = "arm";
  c.net_interface = "eth0";
  c.flannel_ipmasq = false;
  const auto lines = startup_report(c);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "K8S_VERSION is set to: v1.2.4", "ETCD_VERSION is set to: 2.2.5",
                       "FLANNEL_VERSION is set to: 0.5.5", "FLANNEL_IPMASQ is set to: false",
                       "FLANNEL_NETWORK is set to: 10.1.0.0/16", "FLANNEL_BACKEND is set to: udp",
                       "DNS_DOMAIN is set to: cluster.local", "DNS_SERVER_IP is set to: 10.0.0.10",
                       "RESTART_POLICY is set to: unless-stopped", "MASTER_IP is set to: 10.0.0.1",
                       "ARCH is set to: arm", "NET_INTERFACE is set to: eth0",
                       "TIMEOUT_FOR_SERVICES is set to: 20"}));
}

}  // namespace
}  // namespace kna
