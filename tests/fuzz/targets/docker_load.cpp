// What dockerd answers to POST /images/load, as DockerClient::load_image reads it
// (src/clients/docker_json.cpp): the names of the images loaded, or the daemon's error as
// DockerError; nothing else may escape.

#include "clients/docker_json.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::DockerError;
  using kna::fuzz::check;
  try {
    for (const auto& name : kna::docker::parse_load_answer(kna::fuzz::text(data, size), "load x")) {
      check(!name.empty(), "a loaded image has a name");
      check(name.back() != '\n' && name.back() != ' ', "a name loses the line's trailing space");
    }
  } catch (const DockerError& e) {
    check(e.kind() == DockerError::Kind::daemon_error, "a load fails with the daemon's error");
    check(std::string_view(e.what()).starts_with("load x: "), "the error names the load");
  }
  return 0;
}
