#include <string>

#include <gtest/gtest.h>

#include "kna/catalogue.hpp"

namespace kna {
namespace {

constexpr const char* kFlanneldFile =
    "FLANNEL_NETWORK=10.1.0.0/16\n"
    "FLANNEL_SUBNET=10.1.33.1/24\n"
    "FLANNEL_MTU=1472\n"
    "FLANNEL_IPMASQ=true\n";

TEST(SubnetEnv, ParsesWhatFlanneldWrites) {
  const auto parsed = parse_subnet_env(kFlanneldFile);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed.value(), (FlannelSubnet{"10.1.0.0/16", "10.1.33.1/24", 1472, true}));
}

TEST(SubnetEnv, AcceptsAnyKeyOrderBlankLinesAndNoFinalNewline) {
  const auto parsed = parse_subnet_env(
      "\nFLANNEL_IPMASQ=false\n  \nFLANNEL_MTU=8951\n\t\nFLANNEL_SUBNET=172.16.5.1/28\n"
      "FLANNEL_NETWORK=172.16.0.0/12");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed.value(), (FlannelSubnet{"172.16.0.0/12", "172.16.5.1/28", 8951, false}));
}

TEST(SubnetEnv, AcceptsTheMtuBounds) {
  for (const int mtu : {68, 65535}) {
    const auto parsed =
        parse_subnet_env("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.33.1/24\nFLANNEL_MTU=" +
                         std::to_string(mtu) + "\nFLANNEL_IPMASQ=true\n");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed.value().mtu, mtu);
  }
}

TEST(SubnetEnv, FormatWritesFlanneldsFileAndParsesBack) {
  const FlannelSubnet subnet{"10.1.0.0/16", "10.1.33.1/24", 1472, true};
  EXPECT_EQ(format_subnet_env(subnet), kFlanneldFile);
  const FlannelSubnet other{"192.168.0.0/16", "192.168.7.1/24", 1450, false};
  const auto parsed = parse_subnet_env(format_subnet_env(other));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed.value(), other);
}

struct BadInput {
  const char* what;
  std::string text;
  std::string message;  // the whole expected error
};

void PrintTo(const BadInput& b, std::ostream* os) {
  *os << b.what;
}

class SubnetEnvRejects : public testing::TestWithParam<BadInput> {};

TEST_P(SubnetEnvRejects, WithALineNumberedMessage) {
  const auto parsed = parse_subnet_env(GetParam().text);
  ASSERT_FALSE(parsed) << "accepted: " << GetParam().text;
  EXPECT_EQ(parsed.error().message, GetParam().message);
}

const std::string kNet = "FLANNEL_NETWORK=10.1.0.0/16\n";
const std::string kSub = "FLANNEL_SUBNET=10.1.33.1/24\n";
const std::string kMtu = "FLANNEL_MTU=1472\n";
const std::string kMasq = "FLANNEL_IPMASQ=true\n";

INSTANTIATE_TEST_SUITE_P(
    BadFiles, SubnetEnvRejects,
    testing::Values(
        BadInput{"empty", "",
                 "subnet.env is empty (expected FLANNEL_NETWORK, FLANNEL_SUBNET, "
                 "FLANNEL_MTU and FLANNEL_IPMASQ)"},
        BadInput{"only blank lines", "\n\n",
                 "subnet.env is empty (expected FLANNEL_NETWORK, "
                 "FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ)"},
        BadInput{"missing keys", kNet + kSub,
                 "subnet.env is missing FLANNEL_MTU and FLANNEL_IPMASQ"},
        BadInput{"missing one key", kNet + kSub + kMtu, "subnet.env is missing FLANNEL_IPMASQ"},
        BadInput{"mtu not a number", kNet + kSub + "FLANNEL_MTU=abc\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is 'abc', not a number between 68 and 65535"},
        BadInput{"mtu too small", kNet + kSub + "FLANNEL_MTU=67\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is '67', not a number between 68 and 65535"},
        BadInput{"mtu too large", kNet + kSub + "FLANNEL_MTU=65536\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is '65536', not a number between 68 and 65535"},
        BadInput{"mtu signed", kNet + kSub + "FLANNEL_MTU=+1472\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is '+1472', not a number between 68 and 65535"},
        BadInput{"mtu empty", kNet + kSub + "FLANNEL_MTU=\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is '', not a number between 68 and 65535"},
        BadInput{"ipmasq yes", kNet + kSub + kMtu + "FLANNEL_IPMASQ=yes\n",
                 "subnet.env line 4: FLANNEL_IPMASQ is 'yes', not true or false"},
        BadInput{"ipmasq capitalised", kNet + kSub + kMtu + "FLANNEL_IPMASQ=True\n",
                 "subnet.env line 4: FLANNEL_IPMASQ is 'True', not true or false"},
        BadInput{"unknown key", kNet + "FLANNEL_BACKEND=udp\n" + kSub + kMtu + kMasq,
                 "subnet.env line 2: unknown key 'FLANNEL_BACKEND' (subnet.env holds "
                 "FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ)"},
        BadInput{"lower-case key", "flannel_network=10.1.0.0/16\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: unknown key 'flannel_network' (subnet.env holds "
                 "FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ)"},
        BadInput{"duplicate key", kNet + kSub + kMtu + "FLANNEL_MTU=1450\n" + kMasq,
                 "subnet.env line 4: FLANNEL_MTU appears twice (also on line 3)"},
        BadInput{"missing equals", kNet + "FLANNEL_SUBNET 10.1.33.1/24\n" + kMtu + kMasq,
                 "subnet.env line 2: 'FLANNEL_SUBNET 10.1.33.1/24' is not KEY=VALUE (no '=')"},
        BadInput{"empty key", kNet + "=10.1.33.1/24\n" + kMtu + kMasq,
                 "subnet.env line 2: '=10.1.33.1/24' has no key before '='"},
        BadInput{"space before equals", kNet + kSub + "FLANNEL_MTU =1472\n" + kMasq,
                 "subnet.env line 3: spaces around the key 'FLANNEL_MTU' are not allowed (write "
                 "KEY=VALUE)"},
        BadInput{"space in value", kNet + kSub + "FLANNEL_MTU= 1472\n" + kMasq,
                 "subnet.env line 3: FLANNEL_MTU is ' 1472', not a number between 68 and 65535"},
        BadInput{"carriage return line end",
                 "FLANNEL_NETWORK=10.1.0.0/16\r\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: ends with a carriage return (\\r); flanneld writes plain \\n "
                 "line endings"},
        BadInput{"carriage return inside", kNet + kSub + kMtu + "FLANNEL_IP\rMASQ=true\n",
                 "subnet.env line 4: contains a carriage return (\\r)"},
        BadInput{"network not a cidr", "FLANNEL_NETWORK=10.1.0.0\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: FLANNEL_NETWORK is '10.1.0.0', not an IPv4 network with "
                 "prefix such as 10.1.0.0/16"},
        BadInput{"network octet too large", "FLANNEL_NETWORK=10.256.0.0/16\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: FLANNEL_NETWORK is '10.256.0.0/16', not an IPv4 network "
                 "with prefix such as 10.1.0.0/16"},
        BadInput{"network prefix too long", "FLANNEL_NETWORK=10.1.0.0/33\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: FLANNEL_NETWORK is '10.1.0.0/33', not an IPv4 network with "
                 "prefix such as 10.1.0.0/16"},
        BadInput{"network host bits", "FLANNEL_NETWORK=10.1.0.1/16\n" + kSub + kMtu + kMasq,
                 "subnet.env line 1: FLANNEL_NETWORK is '10.1.0.1/16', which has host bits set "
                 "(expected a network such as 10.1.0.0/16)"},
        BadInput{"subnet leading zero", kNet + "FLANNEL_SUBNET=10.1.033.1/24\n" + kMtu + kMasq,
                 "subnet.env line 2: FLANNEL_SUBNET is '10.1.033.1/24', not an IPv4 address with "
                 "prefix such as 10.1.33.1/24"},
        BadInput{"subnet without prefix", kNet + "FLANNEL_SUBNET=10.1.33.1\n" + kMtu + kMasq,
                 "subnet.env line 2: FLANNEL_SUBNET is '10.1.33.1', not an IPv4 address with "
                 "prefix such as 10.1.33.1/24"},
        BadInput{"subnet quoted", kNet + "FLANNEL_SUBNET=\"10.1.33.1/24\"\n" + kMtu + kMasq,
                 "subnet.env line 2: FLANNEL_SUBNET is '\"10.1.33.1/24\"', not an IPv4 address "
                 "with prefix such as 10.1.33.1/24"},
        BadInput{"subnet is a network address",
                 kNet + "FLANNEL_SUBNET=10.1.33.0/24\n" + kMtu + kMasq,
                 "subnet.env line 2: FLANNEL_SUBNET is '10.1.33.0/24', a network address; "
                 "expected the bridge address such as 10.1.33.1/24"},
        BadInput{"subnet outside network", kMasq + kNet + "FLANNEL_SUBNET=10.2.33.1/24\n" + kMtu,
                 "subnet.env line 3: FLANNEL_SUBNET 10.2.33.1/24 is not inside FLANNEL_NETWORK "
                 "10.1.0.0/16 (line 2)"},
        BadInput{"subnet wider than network", kNet + "FLANNEL_SUBNET=10.1.0.1/8\n" + kMtu + kMasq,
                 "subnet.env line 2: FLANNEL_SUBNET 10.1.0.1/8 is not inside FLANNEL_NETWORK "
                 "10.1.0.0/16 (line 1)"},
        BadInput{"shell export", "export " + kNet + kSub + kMtu + kMasq,
                 "subnet.env line 1: unknown key 'export FLANNEL_NETWORK' (subnet.env holds "
                 "FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ)"},
        BadInput{"comment line", "# written by flanneld\n" + kNet + kSub + kMtu + kMasq,
                 "subnet.env line 1: '# written by flanneld' is not KEY=VALUE (no '=')"}));

}  // namespace
}  // namespace kna
