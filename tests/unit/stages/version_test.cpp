#include <gtest/gtest.h>

#include "stages/version.hpp"

namespace kna::stages {
namespace {

TEST(Version, ParsesTheStylesInUse) {
  const auto k8s = parse_version("v1.3.0-alpha.5");
  ASSERT_TRUE(k8s);
  EXPECT_EQ(k8s->major, 1);
  EXPECT_EQ(k8s->minor, 3);
  EXPECT_EQ(k8s->patch, 0);
  EXPECT_EQ(k8s->pre_release, "alpha.5");
  const auto etcd = parse_version("2.2.5");
  ASSERT_TRUE(etcd);
  EXPECT_EQ(etcd->major, 2);
  EXPECT_EQ(etcd->patch, 5);
  const auto short_form = parse_version("3.4");
  ASSERT_TRUE(short_form);
  EXPECT_EQ(short_form->minor, 4);
  EXPECT_EQ(short_form->patch, 0);
}

TEST(Version, RejectsWhatIsNotAVersion) {
  for (const char* text : {"", "v", "latest", "1", "v1.", "1.2.3.4", "1.x.3", "v1.3.6-", "1..2"})
    EXPECT_FALSE(parse_version(text)) << text;
}

TEST(Version, AtLeastComparesMajorThenMinor) {
  EXPECT_TRUE(at_least(parse_version("3.4.0"), 3, 4));
  EXPECT_TRUE(at_least(parse_version("3.10.1"), 3, 4));
  EXPECT_TRUE(at_least(parse_version("4.0.0"), 3, 4));
  EXPECT_FALSE(at_least(parse_version("3.3.25"), 3, 4));
  EXPECT_FALSE(at_least(parse_version("2.9.0"), 3, 4));
  EXPECT_FALSE(at_least(std::nullopt, 0, 0));
}

TEST(Version, KubeletProfileFollowsTheFlagHistory) {
  using Api = KubeletProfile::Api;
  using Pods = KubeletProfile::StaticPods;
  using Runtime = KubeletProfile::Runtime;
  struct Case {
    const char* version;
    KubeletProfile expected;
  };
  const KubeletProfile oldest{Api::api_servers, false, Pods::config_dir, true, Runtime::dockershim};
  const Case cases[] = {
      {"v1.2.4", oldest},
      {"v1.3.6", oldest},
      {"v1.5.8", oldest},
      {"v1.6.0-alpha.1",
       {Api::kubeconfig, true, Pods::pod_manifest_path, true, Runtime::dockershim}},
      {"v1.6.13", {Api::kubeconfig, true, Pods::pod_manifest_path, true, Runtime::dockershim}},
      {"v1.7.16", {Api::kubeconfig, true, Pods::pod_manifest_path, true, Runtime::dockershim}},
      {"v1.8.0", {Api::kubeconfig, false, Pods::pod_manifest_path, true, Runtime::dockershim}},
      {"v1.14.10", {Api::kubeconfig, false, Pods::pod_manifest_path, true, Runtime::dockershim}},
      {"v1.15.0", {Api::kubeconfig, false, Pods::pod_manifest_path, false, Runtime::dockershim}},
      {"v1.23.17", {Api::kubeconfig, false, Pods::pod_manifest_path, false, Runtime::dockershim}},
      {"v1.24.0", {Api::kubeconfig, false, Pods::pod_manifest_path, false, Runtime::cri_dockerd}},
      {"v2.0.0", {Api::kubeconfig, false, Pods::pod_manifest_path, false, Runtime::cri_dockerd}},
      // Unparsable: the oldest profile, as docker-multinode's scripts would have run it.
      {"latest", oldest},
      {"", oldest},
      {"1.6", {Api::kubeconfig, true, Pods::pod_manifest_path, true, Runtime::dockershim}},
  };
  for (const auto& c : cases) {
    const auto profile = kubelet_profile(parse_version(c.version));
    EXPECT_EQ(profile.api, c.expected.api) << c.version;
    EXPECT_EQ(profile.require_kubeconfig, c.expected.require_kubeconfig) << c.version;
    EXPECT_EQ(profile.static_pods, c.expected.static_pods) << c.version;
    EXPECT_EQ(profile.allow_privileged, c.expected.allow_privileged) << c.version;
    EXPECT_EQ(profile.runtime, c.expected.runtime) << c.version;
  }
}

TEST(Version, KubeProxyProfileFollowsTheFlagHistory) {
  using Api = KubeProxyProfile::Api;
  const std::pair<const char*, KubeProxyProfile> cases[] = {
      {"v1.2.4", {Api::master_url, 10249}}, {"v1.5.8", {Api::master_url, 10249}},
      {"v1.6.0", {Api::kubeconfig, 10249}}, {"v1.6.13", {Api::kubeconfig, 10249}},
      {"v1.7.0", {Api::kubeconfig, 10256}}, {"v1.24.3", {Api::kubeconfig, 10256}},
      {"latest", {Api::master_url, 10249}}, {"v1.x", {Api::master_url, 10249}},
  };
  for (const auto& [version, expected] : cases) {
    const auto profile = kube_proxy_profile(parse_version(version));
    EXPECT_EQ(profile.api, expected.api) << version;
    EXPECT_EQ(profile.healthz_port, expected.healthz_port) << version;
  }
}

TEST(Version, ControlPlaneUsesHyperkubeUntilV118) {
  EXPECT_TRUE(uses_hyperkube_control_plane(parse_version("v1.3.6")));
  EXPECT_TRUE(uses_hyperkube_control_plane(parse_version("v1.18.20")));
  EXPECT_FALSE(uses_hyperkube_control_plane(parse_version("v1.19.0")));
  EXPECT_FALSE(uses_hyperkube_control_plane(parse_version("v1.19.0-rc.1")));
  EXPECT_TRUE(uses_hyperkube_control_plane(parse_version("latest")));
}

TEST(Version, StorageBackendIsEtcd3OnlyWithEtcd3AndKubernetes16) {
  struct Case {
    const char* etcd;
    const char* k8s;
    const char* backend;
  };
  const Case cases[] = {
      {"2.2.5", "v1.3.6", "etcd2"},     {"2.2.5", "v1.6.0", "etcd2"},
      {"3.0.4", "v1.5.8", "etcd2"},     {"3.0.4", "v1.6.0", "etcd3"},
      {"v3.4.23", "v1.19.16", "etcd3"}, {"3.4.23", "v1.3.6", "etcd2"},
      {"latest", "v1.6.0", "etcd2"},    {"3.0.4", "latest", "etcd2"},
  };
  for (const auto& c : cases) {
    Config cfg = default_config();
    cfg.etcd_version = c.etcd;
    cfg.k8s_version = c.k8s;
    EXPECT_EQ(apiserver_storage_backend(cfg), c.backend) << c.etcd << " " << c.k8s;
  }
}

TEST(Version, EtcdNeedsEnableV2OnlyFrom34WithTheV2Api) {
  Config cfg = default_config();
  cfg.etcd_version = "3.4.23";
  EXPECT_TRUE(etcd_needs_enable_v2(cfg));
  cfg.flannel_etcd_api = EtcdApi::v3;
  EXPECT_FALSE(etcd_needs_enable_v2(cfg));
  cfg.flannel_etcd_api = EtcdApi::v2;
  cfg.etcd_version = "v3.3.0";
  EXPECT_FALSE(etcd_needs_enable_v2(cfg));
}

}  // namespace
}  // namespace kna::stages
