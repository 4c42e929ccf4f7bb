// Stand-in for hyperkube, the multi-call binary of Kubernetes' components (not the real program):
// `hyperkube COMPONENT FLAGS...`, or called through a link named after the component.

#include <cstdio>
#include <cstring>
#include <string_view>

#include "kube/components.hpp"

namespace {

using Main = int (*)(int, char**);

struct Component {
  const char* names[2];  // `hyperkube NAME` and the binary's own name
  Main main;
};

constexpr Component kComponents[] = {
    {{"apiserver", "kube-apiserver"}, kna::standins::apiserver_main},
    {{"kubelet", "kubelet"}, kna::standins::kubelet_main},
    {{"proxy", "kube-proxy"}, kna::standins::proxy_main},
    {{"controller-manager", "kube-controller-manager"}, kna::standins::controller_manager_main},
    {{"scheduler", "kube-scheduler"}, kna::standins::scheduler_main},
};

Main find(std::string_view name) {
  for (const auto& c : kComponents)
    if (name == c.names[0] || name == c.names[1]) return c.main;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const char* slash = std::strrchr(argv[0], '/');
  if (Main m = find(slash != nullptr ? slash + 1 : argv[0])) return m(argc, argv);
  if (argc >= 2) {
    if (Main m = find(argv[1])) return m(argc - 1, argv + 1);
  }
  std::fprintf(stderr,
               "hyperkube (kube-node-agent stand-in): usage: hyperkube COMPONENT [FLAGS]\n"
               "components: apiserver, kubelet, proxy, controller-manager, scheduler\n");
  return 2;
}
