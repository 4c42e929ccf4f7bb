#pragma once
// Values exchanged with the Docker Engine API (what the agent reads of the daemon's answers), and
// the typed error every DockerClient call throws.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kna {

class DockerError : public std::runtime_error {
 public:
  enum class Kind {
    not_found,     // 404: no such container or image
    conflict,      // 409: e.g. the container name is taken
    unavailable,   // no daemon at the socket, the connection broke, or the client was stopped
    timeout,       // the daemon did not answer in time (a hung socket)
    bad_response,  // an answer that is not what the API documents
    daemon_error,  // any other 4xx/5xx, or an error reported inside a streamed answer
  };

  // `what` is the whole sentence for logs; `daemon_message` the daemon's own words, if any.
  DockerError(Kind kind, std::string what, std::string daemon_message = {}, int http_status = 0)
      : std::runtime_error(std::move(what)),
        kind_(kind),
        daemon_message_(std::move(daemon_message)),
        http_status_(http_status) {}

  Kind kind() const { return kind_; }
  const std::string& daemon_message() const { return daemon_message_; }
  int http_status() const { return http_status_; }  // 0 when there was no HTTP answer

 private:
  Kind kind_;
  std::string daemon_message_;
  int http_status_;
};

const char* to_string(DockerError::Kind kind);

struct DockerVersion {
  std::string version;      // "20.10.24+dfsg1"
  std::string api_version;  // the daemon's newest, "1.41"
  std::string min_api_version;
  std::string os;
  std::string arch;
};

struct ImageInfo {
  std::string id;  // "sha256:…"
  std::vector<std::string> repo_tags;
};

// One line of a pull's progress stream.
struct PullProgress {
  std::string id;      // layer id, or empty for lines about the whole image
  std::string status;  // "Downloading", "Pull complete", …
  std::int64_t current{0};
  std::int64_t total{0};  // 0: unknown
};

struct ContainerState {
  std::string status;  // "created", "running", "exited", …
  bool running{false};
  int pid{0};
  int exit_code{0};
  bool oom_killed{false};
  std::string error;
  std::string started_at;  // RFC 3339, as the daemon wrote it
  std::string finished_at;
};

struct ContainerInfo {
  std::string id;    // full 64 hex
  std::string name;  // without the leading '/'
  std::string image;
  std::map<std::string, std::string> labels;
  ContainerState state;
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // without the leading '/'
  std::string image;
  std::string state;   // "running", "exited", …
  std::string status;  // "Up 3 seconds"
  std::map<std::string, std::string> labels;
};

// One line of /events.
struct DockerEvent {
  std::string type;                               // "container"
  std::string action;                             // "die", "start", "destroy", "oom", …
  std::string id;                                 // the actor's id: the container id
  std::map<std::string, std::string> attributes;  // labels, name, image, exitCode, signal
  std::int64_t time_nano{0};

  // The die event's exitCode attribute, when present and numeric.
  std::optional<int> exit_code() const;
};

}  // namespace kna
