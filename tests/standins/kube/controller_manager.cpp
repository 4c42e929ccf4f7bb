// Stand-in (placeholder until written): exits with an error.
#include <cstdio>

#include "kube/components.hpp"

namespace kna::standins {

int controller_manager_main(int, char**) {
  std::fprintf(stderr, "controller_manager stand-in: not written yet\n");
  return 1;
}

}  // namespace kna::standins
