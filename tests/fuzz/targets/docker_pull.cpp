// A pull's progress stream as DockerClient::pull_image reads it (src/clients/docker_json.cpp):
// pieces of the body split into lines, the last one even without its newline, each decoded into
// progress. An error the daemon reports in the stream, or a line too long to be one, ends the pull
// with DockerError; nothing else may escape.

#include "clients/docker_json.hpp"
#include "fuzz.hpp"

namespace {

using kna::DockerError;
using kna::fuzz::check;
namespace docker = kna::docker;

void read_line(std::string_view line) {
  docker::parse_pull_line(line, "pull image x");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  docker::LineSplitter splitter;
  try {
    for (const auto chunk : kna::fuzz::chunks(kna::fuzz::text(data, size)))
      for (const auto& line : splitter.feed(chunk)) read_line(line);
    if (!splitter.pending().empty()) read_line(splitter.pending());
  } catch (const DockerError& e) {
    check(
        e.kind() == DockerError::Kind::daemon_error || e.kind() == DockerError::Kind::bad_response,
        "a pull ends with the daemon's error or a bad response");
    check(std::string_view(e.what()).starts_with("pull image x: ") ||
              e.kind() == DockerError::Kind::bad_response,
          "the daemon's error names the pull");
  }
  return 0;
}
