// Stand-in (placeholder until written): exits with an error.
#include <cstdio>

#include "kube/components.hpp"

namespace kna::standins {

int apiserver_main(int, char**) {
  std::fprintf(stderr, "apiserver stand-in: not written yet\n");
  return 1;
}

}  // namespace kna::standins
