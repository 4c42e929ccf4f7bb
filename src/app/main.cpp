#include "app/cli.hpp"

int main(int argc, char** argv) {
  return kna::app::main_cli(argc, argv);
}
