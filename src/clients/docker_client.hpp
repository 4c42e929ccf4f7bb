#pragma once
// The real Docker (include/kna/docker.hpp): a blocking Docker Engine API client for one daemon's
// unix socket. Every call opens its own connection, so one client may be used from several worker
// threads at once; never call it on the event loop. Every failure throws DockerError with a kind
// and the daemon's message; "no such container/image" answers of inspect calls are nullopt.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kna/docker.hpp"
#include "kna/spec.hpp"
#include "kna/time.hpp"

namespace httplib {
class Client;
}

namespace kna {

struct DockerClientOptions {
  std::string socket_path;  // e.g. /var/run/docker-bootstrap.sock
  Millis connect_timeout{5'000};
  Millis read_timeout{60'000};  // per request; stop, pull, load and streams get longer ones
  std::string max_api_version{"1.41"};
};

class DockerClient : public Docker {
 public:
  explicit DockerClient(DockerClientOptions options);
  ~DockerClient() override;
  DockerClient(const DockerClient&) = delete;
  DockerClient& operator=(const DockerClient&) = delete;

  const std::string& socket_path() const override { return options_.socket_path; }

  // min(ours, the daemon's) from /_ping's API-Version header, or /version when the header is
  // missing. Asked once, then cached (a failure is not cached). Every other call uses it as the
  // path prefix /v1.xx.
  std::string api_version();

  void ping();  // GET /_ping answers OK
  DockerVersion version();

  // --- images
  std::optional<ImageInfo> inspect_image(const std::string& ref) override;
  std::vector<ImageInfo> list_images();
  // Blocks until the pull ends; `on_progress` runs on this thread for every progress line. An
  // error inside the stream (HTTP 200, then {"error":…}) throws daemon_error.
  void pull_image(const std::string& ref,
                  const std::function<void(const PullProgress&)>& on_progress = {}) override;
  // POST /images/load, streaming the file; returns what the daemon loaded ("Loaded image: x").
  std::vector<std::string> load_image(const std::string& tar_path) override;
  void tag_image(const std::string& source, const std::string& repo, const std::string& tag);

  // --- containers
  // Returns the new container's id. A taken name throws conflict; a missing image not_found.
  std::string create_container(const ContainerSpec& spec) override;
  void start_container(const std::string& id) override;  // already running is fine
  std::optional<ContainerInfo> inspect_container(const std::string& id_or_name) override;
  // docker stop: SIGTERM, SIGKILL after `timeout`; returns once the container has stopped (the
  // request waits as long as that takes). Already stopped is fine.
  void stop_container(const std::string& id, std::chrono::seconds timeout) override;
  void kill_container(const std::string& id, const std::string& signal = "SIGKILL") override;
  void remove_container(const std::string& id, bool force = true) override;
  // Every container (running or not) carrying all of `labels`.
  std::vector<ContainerSummary> list_containers(const std::map<std::string, std::string>& labels,
                                                bool all = true) override;
  // The last `tail` lines of stdout and stderr together (each stream in order; the order between
  // the two streams is the daemon's).
  std::string container_logs(const std::string& id, int tail = 100);

  // --- events
  // GET /events?<query> (query already encoded) until the daemon ends the stream, the
  // connection breaks, `on_data` returns false or stop() is called. `on_open` runs once the
  // daemon has accepted the stream; `on_data` gets the body as it arrives, in arbitrary pieces.
  // Returns normally when the daemon ended the stream; throws otherwise.
  void stream_events(const std::string& query, const std::function<void()>& on_open,
                     const std::function<bool(std::string_view)>& on_data) override;

  // Thread-safe: aborts every request in flight (they throw unavailable), returns once none is
  // left, and makes later calls throw unavailable at once. For shutting down.
  void stop() override;
  bool stopped() const override;

  // Sends a request and returns its body when the status is < 400 (throws otherwise). `path` is
  // unversioned ("/containers/json"); the API prefix is added. For calls not wrapped above.
  std::string request(const std::string& method, const std::string& path,
                      const std::string& body = {}, Millis timeout = Millis{0});

 private:
  class InFlight;  // one request's httplib client, registered so that stop() can abort it

  std::string versioned(const std::string& path);
  std::string call(const std::string& method, const std::string& path, const std::string& body,
                   Millis timeout, const std::string& context);
  // A request whose answer is read as it arrives. `path` is complete (versioned, with query).
  void stream(const std::string& method, const std::string& path, Millis timeout,
              const std::string& context, const std::function<void()>& on_open,
              const std::function<bool(std::string_view)>& on_data);
  // stream() split into lines.
  void stream_lines(const std::string& method, const std::string& path, Millis timeout,
                    const std::string& context,
                    const std::function<void(std::string_view line)>& on_line);
  [[noreturn]] void throw_transport(int error, const std::string& context,
                                    std::chrono::steady_clock::duration elapsed,
                                    Millis timeout) const;

  DockerClientOptions options_;
  mutable std::mutex mu_;
  std::string api_version_;  // empty until negotiated
  std::condition_variable released_;
  std::set<httplib::Client*> in_flight_;
  bool stopped_{false};
};

// The real connector: a DockerClient for the endpoint, at our newest API version.
std::shared_ptr<Docker> connect_docker(const DockerEndpoint& endpoint);

}  // namespace kna
