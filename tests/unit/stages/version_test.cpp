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

TEST(Version, KubeletProfileSwitchesToCriDockerdAtV124) {
  using Runtime = KubeletProfile::Runtime;
  EXPECT_EQ(kubelet_profile(parse_version("v1.3.6")).runtime, Runtime::dockershim);
  EXPECT_EQ(kubelet_profile(parse_version("v1.23.17")).runtime, Runtime::dockershim);
  EXPECT_EQ(kubelet_profile(parse_version("v1.24.0")).runtime, Runtime::cri_dockerd);
  EXPECT_EQ(kubelet_profile(std::nullopt).runtime, Runtime::dockershim);
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
