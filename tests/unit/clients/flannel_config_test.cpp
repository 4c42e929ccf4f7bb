#include "clients/flannel_config.hpp"

#include <gtest/gtest.h>

namespace kna {
namespace {

TEST(FlannelConfig, ValueIsDockerMultinodesJsonWithNetworkFirst) {
  EXPECT_EQ(flannel_network_config("10.1.0.0/16", "udp"),
            R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})");
}

TEST(FlannelConfig, KeyIsConfigUnderThePrefix) {
  EXPECT_EQ(flannel_config_key("/coreos.com/network"), "/coreos.com/network/config");
  EXPECT_EQ(flannel_config_key("/coreos.com/network/"), "/coreos.com/network/config");
}

TEST(FlannelConfig, OutcomeDescribesWhatChanged) {
  NetworkConfigOutcome outcome{NetworkConfigChange::updated, "/n/config", "{new}", "{old}"};
  EXPECT_EQ(outcome.describe(), "updated /n/config = {new} (was {old})");
  outcome.change = NetworkConfigChange::created;
  EXPECT_EQ(outcome.describe(), "created /n/config = {new}");
}

}  // namespace
}  // namespace kna
