// Single-value checks and the parsing of machine facts.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/checks.hpp"
#include "config/layers.hpp"
#include "config/machine.hpp"
#include "kna/ipv4.hpp"

namespace kna::config {
namespace {

TEST(ChecksTest, Ipv4AcceptsDottedQuadsOnly) {
  EXPECT_EQ(parse_ipv4("10.0.0.10"), 0x0a00000aU);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffU);
  for (const char* bad : {"", "10.0.0", "10.0.0.0.1", "10.0.0.256", "10.0.0.01", "a.b.c.d",
                          "10.0.0.1/8", "10..0.1", " 10.0.0.1", "10.0.0.1."})
    EXPECT_FALSE(parse_ipv4(bad).has_value()) << bad;
}

TEST(ChecksTest, CidrSplitsAddressAndPrefix) {
  auto n = parse_cidr("10.1.0.1/16");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->prefix, 16);
  EXPECT_EQ(format_ipv4(n->network()), "10.1.0.0");
  for (const char* bad : {"10.1.0.0", "10.1.0.0/", "10.1.0.0/x", "10.1.0.0/123", "/16"})
    EXPECT_FALSE(parse_cidr(bad).has_value()) << bad;
  EXPECT_EQ((Ipv4Cidr{0, 0}.mask()), 0U);
  EXPECT_EQ((Ipv4Cidr{0, 32}.mask()), 0xffffffffU);
}

TEST(ChecksTest, VersionsFollowTheirComponentsConventions) {
  EXPECT_TRUE(is_kubernetes_version("v1.2.4"));
  EXPECT_TRUE(is_kubernetes_version("v1.3.0-alpha.5"));
  EXPECT_FALSE(is_kubernetes_version("1.2.4"));
  EXPECT_FALSE(is_kubernetes_version("v1.2"));
  EXPECT_FALSE(is_kubernetes_version("v1.2.4-"));
  EXPECT_TRUE(is_component_version("2.2.5"));
  EXPECT_TRUE(is_component_version("v0.6.1"));
  EXPECT_FALSE(is_component_version("latest"));
}

TEST(ChecksTest, Dns1123SubdomainIsLowercaseLabelsSeparatedByDots) {
  EXPECT_TRUE(is_dns1123_subdomain("node-1"));
  EXPECT_TRUE(is_dns1123_subdomain("a.b-c.d"));
  EXPECT_TRUE(is_dns1123_subdomain("5f1c2b"));
  // std::string, not const char*: a pointer into a temporary would dangle inside the list.
  for (const std::string& bad : std::vector<std::string>{"", "Node", "-node", "node-", "a..b",
                                                         "my_node", "a.", std::string(254, 'a')})
    EXPECT_FALSE(is_dns1123_subdomain(bad)) << bad;
}

TEST(ChecksTest, InterfaceNamesAreWhatTheKernelAccepts) {
  EXPECT_TRUE(is_interface_name("eth0"));
  EXPECT_TRUE(is_interface_name("enp0s31f6"));
  EXPECT_TRUE(is_interface_name("wlan0.100"));
  for (const char* bad : {"", ".", "..", "eth0/1", "eth0:1", "eth 0", "sixteen-chars-xx"})
    EXPECT_FALSE(is_interface_name(bad)) << bad;
}

TEST(ChecksTest, BooleanWords) {
  EXPECT_EQ(parse_bool_word("Yes"), true);
  EXPECT_EQ(parse_bool_word("0"), false);
  EXPECT_FALSE(parse_bool_word("on").has_value());
}

TEST(ChecksTest, ClosestMatchSuggestsOnlyNearNames) {
  const std::vector<std::string> keys{"k8s_version", "etcd_version", "master_ip"};
  EXPECT_EQ(closest_match("k8s_verison", keys), "k8s_version");
  EXPECT_EQ(closest_match("master-ip", keys), "master_ip");
  EXPECT_EQ(closest_match("MASTER_IP", keys), "master_ip");
  EXPECT_EQ(closest_match("completely_different", keys), "");
}

TEST(MachineTest, DefaultRouteInterfaceHasZeroDestinationAndLowestMetric) {
  const char* table =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
      "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth1\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"  // not up
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
  EXPECT_EQ(default_route_interface(table), "eth0");
  EXPECT_EQ(default_route_interface("Iface\tDestination\n"), "");
  EXPECT_EQ(default_route_interface(""), "");
}

TEST(MachineTest, ArchFromUname) {
  EXPECT_EQ(arch_from_uname("x86_64"), "amd64");
  EXPECT_EQ(arch_from_uname("aarch64"), "arm64");
  EXPECT_EQ(arch_from_uname("armv7l"), "arm");
  EXPECT_EQ(arch_from_uname("armv6l"), "arm");
  EXPECT_EQ(arch_from_uname("ppc64le"), "ppc64le");
  EXPECT_EQ(arch_from_uname("s390x"), "");
}

TEST(MachineTest, DetectMachineReadsThisHost) {
  const MachineFacts facts = detect_machine();
  EXPECT_FALSE(facts.uname_machine.empty());
  EXPECT_FALSE(facts.hostname.empty());
  // A default route's interface, when there is one, normally carries an IPv4 address.
  if (!facts.default_route_interface.empty() && facts.default_route_address.empty()) {
    GTEST_SKIP() << "default route interface " << facts.default_route_interface
                 << " has no IPv4 address";
  }
  if (!facts.default_route_address.empty()) {
    EXPECT_TRUE(parse_ipv4(facts.default_route_address).has_value());
  }
}

}  // namespace
}  // namespace kna::config
