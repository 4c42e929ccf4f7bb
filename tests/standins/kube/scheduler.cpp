// Stand-in (placeholder until written): exits with an error.
#include <cstdio>

#include "kube/components.hpp"

namespace kna::standins {

int scheduler_main(int, char**) {
  std::fprintf(stderr, "scheduler stand-in: not written yet\n");
  return 1;
}

}  // namespace kna::standins
