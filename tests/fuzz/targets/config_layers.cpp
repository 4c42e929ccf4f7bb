// The environment and the command line layered over a configuration file
// (src/config/flags.cpp, load.cpp, layers.cpp, validate.cpp): the input's lines are flags and
// environment variables (config_input.hpp), the file is empty ("{}"). Any of them is loaded or
// refused with ConfigError; whatever is accepted must hold what load() checks.

#include "config_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static kna::fuzz::MemFile file;
  file.write("{}");
  if (const auto inputs = kna::fuzz::config_inputs(kna::fuzz::text(data, size), file.path()))
    kna::fuzz::load(*inputs);
  return 0;
}
