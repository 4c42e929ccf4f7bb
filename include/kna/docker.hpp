#pragma once
// Docker, as the agent uses it: the values it reads from a daemon, the typed error every call
// throws, and the interface the container runtime, the image store and the event watcher drive.
// src/clients/docker_client.hpp is the real one (the Engine API over a unix socket); tests use an
// in-memory daemon (tests/support/fake_docker.hpp) that can hold a pull or a load open.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kna/spec.hpp"
#include "kna/time.hpp"

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

// One connection to one daemon. Blocking: call it from worker threads, never from the event
// loop. Every method may be called from several threads at once. Every failure throws DockerError;
// "no such container/image" answers of the inspect calls are nullopt instead.
class Docker {
 public:
  virtual ~Docker() = default;

  // The daemon's socket, for logs.
  virtual const std::string& socket_path() const = 0;

  // --- images
  virtual std::optional<ImageInfo> inspect_image(const std::string& ref) = 0;
  // Blocks until the pull ends; `on_progress` runs on the calling thread for every progress line.
  // An error reported inside the stream throws daemon_error.
  virtual void pull_image(const std::string& ref,
                          const std::function<void(const PullProgress&)>& on_progress) = 0;
  // Gives the tarball to the daemon; returns what it loaded ("Loaded image: x" lines' names).
  virtual std::vector<std::string> load_image(const std::string& tar_path) = 0;

  // --- containers
  // The new container's id. A taken name throws conflict; a missing image not_found.
  virtual std::string create_container(const ContainerSpec& spec) = 0;
  virtual void start_container(const std::string& id) = 0;  // already running is fine
  virtual std::optional<ContainerInfo> inspect_container(const std::string& id_or_name) = 0;
  // SIGTERM, SIGKILL after `timeout`; returns once the container has stopped. Stopped is fine.
  virtual void stop_container(const std::string& id, std::chrono::seconds timeout) = 0;
  virtual void kill_container(const std::string& id, const std::string& signal) = 0;
  virtual void remove_container(const std::string& id, bool force) = 0;
  // Every container (running or not, unless `all` is false) carrying all of `labels`.
  virtual std::vector<ContainerSummary> list_containers(
      const std::map<std::string, std::string>& labels, bool all) = 0;

  // --- events
  // GET /events?<query> until the daemon ends the stream (returns), the connection breaks or
  // stop() is called (throws unavailable), or `on_data` returns false (returns). `on_open` runs
  // once the daemon has accepted the stream; `on_data` gets the body (one JSON object per line)
  // in arbitrary pieces.
  virtual void stream_events(const std::string& query, const std::function<void()>& on_open,
                             const std::function<bool(std::string_view)>& on_data) = 0;

  // Thread-safe: aborts every call in flight on this connection (they throw unavailable),
  // returns once none is left, and makes later calls throw unavailable at once. Cancelling a
  // launch or shutting down; other connections to the same daemon are not affected.
  virtual void stop() = 0;
  virtual bool stopped() const = 0;
};

// Where a connection goes and how long it waits.
struct DockerEndpoint {
  std::string socket_path;
  Millis connect_timeout{5'000};
  Millis read_timeout{60'000};  // per request; stop, pull, load and streams get longer ones
};

// Opens a connection (no I/O happens until the first call).
using DockerConnector = std::function<std::shared_ptr<Docker>(const DockerEndpoint&)>;

}  // namespace kna
