// The Docker Engine API's JSON answers (src/clients/docker_json.cpp) as DockerClient reads them:
// one body through every decoder (version, image and container inspect, the image and container
// lists, an error answer) and the raw log framing. A decoder may refuse an answer only with
// DockerError, the type every Docker call documents; anything else escaping is a crash.

#include <nlohmann/json.hpp>

#include "clients/docker_json.hpp"
#include "fuzz.hpp"

namespace {

using kna::DockerError;
using kna::fuzz::check;
using nlohmann::json;
namespace docker = kna::docker;

template <typename F>
void refused_only_by_docker_error(F&& decode) {
  try {
    decode();
  } catch (const DockerError& e) {
    check(e.kind() == DockerError::Kind::bad_response, "a refused answer is a bad_response");
  }
}

void decode_answer(const json& body) {
  const auto version = docker::parse_version(body);
  const std::string negotiated = docker::negotiate_api_version(version.api_version);
  check(negotiated == version.api_version || negotiated == docker::kMaxApiVersion,
        "the negotiated API version is the daemon's or ours");
  refused_only_by_docker_error([&] {
    const auto container = docker::parse_container(body);
    check(!container.id.empty(), "an inspected container has an id");
    check(container.name.empty() || container.name.front() != '/', "names lose their '/'");
    docker::parse_rfc3339_nanos(container.state.started_at);
    docker::parse_rfc3339_nanos(container.state.finished_at);
  });
  docker::parse_image(body);
  // The lists: the client decodes whatever the body iterates over.
  for (const auto& item : body) {
    docker::parse_image(item);
    for (const auto& name : docker::parse_container_summary(item).names)
      check(name.empty() || name.front() != '/', "listed names lose their '/'");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = kna::fuzz::text(data, size);
  if (const auto body = json::parse(input, nullptr, false); !body.is_discarded())
    decode_answer(body);

  for (const int status : {400, 404, 409, 500}) {
    const auto error = docker::error_from_response(status, input, "fuzz");
    check(std::string_view(error.what()).starts_with("fuzz: "), "an error names its context");
    check(error.http_status() == status, "an error answer keeps its status");
    check((status == 404) == (error.kind() == DockerError::Kind::not_found),
          "404, and only 404, is not_found");
  }

  check(docker::demux_logs(input).size() <= size, "demuxed logs are never longer than the raw");
  if (docker::parse_rfc3339_nanos(input))
    check(size >= 20, "a time has at least the 20 characters of 1970-01-01T00:00:00Z");
  return 0;
}
