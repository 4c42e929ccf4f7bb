// The JSON configuration file (src/config/load.cpp, layers.cpp, validate.cpp): any file is loaded
// over the defaults and validated, or refused with ConfigError naming each problem; whatever is
// accepted must hold what config_input.hpp's load() checks.

#include "config_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static kna::fuzz::MemFile file;
  file.write(kna::fuzz::text(data, size));
  kna::ConfigInputs inputs;
  inputs.config_path = file.path();
  kna::fuzz::load(inputs);
  return 0;
}
