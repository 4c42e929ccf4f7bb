#pragma once
// The pure half of the Docker client: request bodies and query strings built from our types, and
// the daemon's answers parsed into them. No I/O, so every mapping is unit-tested exactly.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kna/docker.hpp"
#include "kna/spec.hpp"

namespace kna::docker {

// The newest Engine API this client speaks.
inline constexpr const char* kMaxApiVersion = "1.41";

// min(ours, daemon's), comparing "major.minor" numerically; `ours` when the daemon's is not a
// version (the daemon then decides).
std::string negotiate_api_version(std::string_view daemon, std::string_view ours = kMaxApiVersion);

// Percent-encodes everything but RFC 3986's unreserved characters (for query values).
std::string url_encode(std::string_view text);

// {"label":["k=v",…]} for ?filters=, URL-encoded. Empty input gives an empty string.
std::string label_filters(const std::map<std::string, std::string>& labels);
// Any filter set ({"type":["container"],…}), URL-encoded.
std::string encode_filters(const std::map<std::string, std::vector<std::string>>& filters);

// The body of POST /containers/create for `spec` (name and socket are not part of it).
nlohmann::json create_body(const ContainerSpec& spec);
// "src:dst", "src:dst:ro", "src:dst:ro,rshared".
std::string bind_string(const Mount& mount);

// Splits "repo[:tag]" or "repo@digest" for /images/create?fromImage=&tag=. A colon followed by a
// '/' belongs to a registry port, not a tag. No tag gives "latest"; a digest gives an empty tag.
std::pair<std::string, std::string> split_image_ref(std::string_view ref);

// The error for an HTTP answer with status >= 400: kind from the status, message from the body's
// {"message": …} (or the raw body), prefixed by `context` ("create container x").
DockerError error_from_response(int status, std::string_view body, std::string_view context);
// The {"error"/"errorDetail"} of one line of a streamed answer (pull, load), if it is one.
std::optional<std::string> stream_error(const nlohmann::json& line);

DockerVersion parse_version(const nlohmann::json& j);
ImageInfo parse_image(const nlohmann::json& j);
ContainerInfo parse_container(const nlohmann::json& j);
ContainerSummary parse_container_summary(const nlohmann::json& j);
PullProgress parse_pull_progress(const nlohmann::json& j);
// One line of a pull's progress stream: nullopt when it is not a JSON object. An error the daemon
// reports in it throws daemon_error, prefixed by `context`.
std::optional<PullProgress> parse_pull_line(std::string_view line, std::string_view context);
// The images a load's answer names ("Loaded image: x", "Loaded image ID: sha256:…" lines). An
// error the daemon reports in it throws daemon_error, prefixed by `context`.
std::vector<std::string> parse_load_answer(std::string_view body, std::string_view context);
// One event line; nullopt when the line is not a JSON object.
std::optional<DockerEvent> parse_event(std::string_view line);

// Nanoseconds since the epoch of an RFC 3339 time as dockerd writes it
// ("2024-05-01T10:00:00.123456789Z", or with a ±hh:mm offset); nullopt for anything else and for
// Go's zero time ("0001-01-01T00:00:00Z", a container that never started).
std::optional<std::int64_t> parse_rfc3339_nanos(std::string_view text);

// Splits a streamed body (/events, pull and load progress) into lines: a piece of the stream may
// hold part of a line or several lines.
class LineSplitter {
 public:
  // Appends `chunk`; returns the lines it completed, without '\n' (or "\r\n"), empty ones skipped.
  // A line longer than `max_line` throws bad_response (a stream that is not line-based).
  std::vector<std::string> feed(std::string_view chunk);
  const std::string& pending() const { return partial_; }

  static constexpr std::size_t max_line = 8 * 1024 * 1024;

 private:
  std::string partial_;
};

// The text of /containers/{id}/logs of a container without a TTY: the stream is framed as
// [stream type, 0, 0, 0, big-endian size(4)] + payload. An incomplete last frame is kept as is.
std::string demux_logs(std::string_view raw);

}  // namespace kna::docker
