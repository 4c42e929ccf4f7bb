// The catalogue renders flannel's network config itself (it cannot see the clients): it must be
// the same key and the same bytes as the clients' rendering, which flannel's tests pin down.

#include <gtest/gtest.h>

#include "clients/flannel_config.hpp"
#include "stages/flannel_network.hpp"

namespace kna {
namespace {

TEST(FlannelNetwork, TheCatalogueRendersWhatTheClientsRender) {
  for (const auto* prefix : {"/coreos.com/network", "/coreos.com/network/", "/kna/net//"})
    EXPECT_EQ(stages::network_config_key(prefix), flannel_config_key(prefix)) << prefix;
  for (const auto* backend : {"udp", "vxlan", "host-gw"})
    for (const auto* network : {"10.1.0.0/16", "172.16.0.0/12"})
      EXPECT_EQ(stages::network_config_json(network, backend),
                flannel_network_config(network, backend))
          << network << " " << backend;
}

}  // namespace
}  // namespace kna
