// Stand-in (placeholder until written): exits with an error.
#include <cstdio>

#include "kube/components.hpp"

namespace kna::standins {

int proxy_main(int, char**) {
  std::fprintf(stderr, "proxy stand-in: not written yet\n");
  return 1;
}

}  // namespace kna::standins
