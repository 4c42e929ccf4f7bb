#include "clients/docker_client.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clients/docker_json.hpp"
#include "clients/http_unix.hpp"
#include "core/request_count.hpp"

namespace kna {

namespace {

using nlohmann::json;
using Kind = DockerError::Kind;

// Streams that may stay idle for hours (events) must not end on the read timeout.
constexpr Millis kStreamTimeout = std::chrono::hours(24);
constexpr Millis kPullTimeout = std::chrono::minutes(5);   // between two progress lines
constexpr Millis kLoadTimeout = std::chrono::minutes(10);  // the daemon answers after the whole tar

json parse_json(const std::string& body, const std::string& context) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    throw DockerError(Kind::bad_response,
                      fmt::format("{}: the daemon's answer is not JSON: {:.200}", context, body));
  }
  return j;
}

// Parsers throw nlohmann exceptions on a wrong type; those are bad answers, not our bugs.
template <typename F>
auto parsed(const std::string& context, F&& f) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    throw DockerError(Kind::bad_response,
                      fmt::format("{}: unexpected answer from the daemon: {}", context, e.what()));
  }
}

}  // namespace

class DockerClient::InFlight {
 public:
  InFlight(DockerClient& owner, Millis read_timeout) : owner_(owner) {
    count_request(kTargetDocker);
    auto client =
        http::unix_client(owner.options_.socket_path, owner.options_.connect_timeout, read_timeout);
    std::lock_guard lock(owner_.mu_);
    if (owner_.stopped_) {
      throw DockerError(Kind::unavailable, fmt::format("docker client for {} was stopped",
                                                       owner.options_.socket_path));
    }
    client_ = std::move(client);
    owner_.in_flight_.insert(client_.get());
  }
  ~InFlight() {
    std::lock_guard lock(owner_.mu_);
    owner_.in_flight_.erase(client_.get());
    owner_.released_.notify_all();
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

  httplib::Client* operator->() const { return client_.get(); }

 private:
  DockerClient& owner_;
  std::unique_ptr<httplib::Client> client_;
};

DockerClient::DockerClient(DockerClientOptions options) : options_(std::move(options)) {}

DockerClient::~DockerClient() {
  stop();
}

void DockerClient::stop() {
  std::unique_lock lock(mu_);
  stopped_ = true;
  // httplib's stop() only reaches a request once its socket is connected: a request about to
  // connect is caught by the next round.
  while (!in_flight_.empty()) {
    for (auto* client : in_flight_) client->stop();
    released_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

bool DockerClient::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

void DockerClient::throw_transport(int error, const std::string& context,
                                   std::chrono::steady_clock::duration elapsed,
                                   Millis timeout) const {
  const auto& socket = options_.socket_path;
  if (stopped()) {
    throw DockerError(Kind::unavailable, fmt::format("{}: the docker client was stopped", context));
  }
  switch (static_cast<httplib::Error>(error)) {
    case httplib::Error::Connection: {
      std::error_code ec;
      if (!std::filesystem::exists(socket, ec)) {
        throw DockerError(
            Kind::unavailable,
            fmt::format("{}: no docker daemon at {}: the socket does not exist", context, socket));
      }
      throw DockerError(
          Kind::unavailable,
          fmt::format("{}: cannot connect to the docker daemon at {}", context, socket));
    }
    case httplib::Error::ConnectionTimeout:
      throw DockerError(Kind::timeout,
                        fmt::format("{}: connecting to the docker daemon at {} "
                                    "timed out after {}ms",
                                    context, socket, options_.connect_timeout.count()));
    case httplib::Error::Read:
      // httplib reports a read timeout and a closed connection alike; the time taken tells them
      // apart.
      if (elapsed >= timeout * 9 / 10) {
        throw DockerError(Kind::timeout,
                          fmt::format("{}: the docker daemon at {} did not answer within {}ms",
                                      context, socket, timeout.count()));
      }
      throw DockerError(
          Kind::unavailable,
          fmt::format("{}: the docker daemon at {} closed the connection", context, socket));
    default:
      throw DockerError(
          Kind::unavailable,
          fmt::format("{}: talking to the docker daemon at {} failed: {}", context, socket,
                      httplib::to_string(static_cast<httplib::Error>(error))));
  }
}

std::string DockerClient::api_version() {
  {
    std::lock_guard lock(mu_);
    if (!api_version_.empty()) return api_version_;
  }
  const std::string context = "negotiate the API version";
  std::string daemon;
  {
    InFlight client(*this, options_.read_timeout);
    const auto start = std::chrono::steady_clock::now();
    auto res = client->Get("/_ping");
    if (!res) {
      throw_transport(static_cast<int>(res.error()), context,
                      std::chrono::steady_clock::now() - start, options_.read_timeout);
    }
    daemon = res->get_header_value("API-Version");
  }
  if (daemon.empty()) {
    // Daemons older than API 1.25 do not send the header.
    const std::string body = call("GET", "/version", "", Millis{0}, context);
    daemon = parsed(context,
                    [&] { return docker::parse_version(parse_json(body, context)).api_version; });
  }
  const std::string version = docker::negotiate_api_version(daemon, options_.max_api_version);
  std::lock_guard lock(mu_);
  if (api_version_.empty()) {
    api_version_ = version;
    spdlog::debug("docker {}: using API {} (daemon {})", options_.socket_path, version, daemon);
  }
  return api_version_;
}

std::string DockerClient::versioned(const std::string& path) {
  return "/v" + api_version() + path;
}

std::string DockerClient::call(const std::string& method, const std::string& path,
                               const std::string& body, Millis timeout,
                               const std::string& context) {
  const Millis t = timeout.count() > 0 ? timeout : options_.read_timeout;
  // /_ping and /version are what negotiation itself asks; everything else is versioned.
  const std::string full = (path == "/_ping" || path == "/version") ? path : versioned(path);
  InFlight client(*this, t);
  const auto start = std::chrono::steady_clock::now();
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    res = client->Get(full);
  } else if (method == "POST") {
    res = body.empty() ? client->Post(full) : client->Post(full, body, "application/json");
  } else if (method == "DELETE") {
    res = client->Delete(full);
  } else {
    throw DockerError(Kind::bad_response,
                      fmt::format("{}: unsupported method {}", context, method));
  }
  if (!res) {
    throw_transport(static_cast<int>(res.error()), context,
                    std::chrono::steady_clock::now() - start, t);
  }
  if (res->status >= 400) throw docker::error_from_response(res->status, res->body, context);
  return res->body;
}

std::string DockerClient::request(const std::string& method, const std::string& path,
                                  const std::string& body, Millis timeout) {
  return call(method, path, body, timeout, method + " " + path);
}

void DockerClient::stream(const std::string& method, const std::string& path, Millis timeout,
                          const std::string& context, const std::function<void()>& on_open,
                          const std::function<bool(std::string_view)>& on_data) {
  InFlight client(*this, timeout);
  httplib::Request req;
  req.method = method;
  req.path = path;
  int status = 0;
  std::string error_body;
  bool cancelled = false;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    if (status < 400 && on_open) on_open();
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (status >= 400) {
      error_body.append(data, size);
      return true;
    }
    if (!on_data(std::string_view(data, size))) {
      cancelled = true;
      return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const auto start = std::chrono::steady_clock::now();
  const bool ok = client->send(req, res, error);
  if (res.status >= 400) {
    throw docker::error_from_response(res.status, error_body.empty() ? res.body : error_body,
                                      context);
  }
  if (cancelled) return;
  if (!ok) {
    throw_transport(static_cast<int>(error), context, std::chrono::steady_clock::now() - start,
                    timeout);
  }
}

void DockerClient::stream_lines(const std::string& method, const std::string& path, Millis timeout,
                                const std::string& context,
                                const std::function<void(std::string_view line)>& on_line) {
  docker::LineSplitter splitter;
  stream(method, path, timeout, context, {}, [&](std::string_view data) {
    for (const auto& line : splitter.feed(data)) on_line(line);
    return true;
  });
  if (!splitter.pending().empty()) on_line(splitter.pending());
}

void DockerClient::ping() {
  const std::string body = call("GET", "/_ping", "", Millis{0}, "ping");
  if (body != "OK") {
    throw DockerError(Kind::bad_response,
                      fmt::format("ping: the daemon answered {:.100} instead of OK", body));
  }
}

DockerVersion DockerClient::version() {
  const std::string context = "version";
  const std::string body = call("GET", "/version", "", Millis{0}, context);
  return parsed(context, [&] { return docker::parse_version(parse_json(body, context)); });
}

std::optional<ImageInfo> DockerClient::inspect_image(const std::string& ref) {
  const std::string context = fmt::format("inspect image {}", ref);
  try {
    const std::string body = call("GET", "/images/" + ref + "/json", "", Millis{0}, context);
    return parsed(context, [&] { return docker::parse_image(parse_json(body, context)); });
  } catch (const DockerError& e) {
    if (e.kind() == Kind::not_found) return std::nullopt;
    throw;
  }
}

std::vector<ImageInfo> DockerClient::list_images() {
  const std::string context = "list images";
  const std::string body = call("GET", "/images/json", "", Millis{0}, context);
  return parsed(context, [&] {
    std::vector<ImageInfo> out;
    for (const auto& j : parse_json(body, context)) out.push_back(docker::parse_image(j));
    return out;
  });
}

void DockerClient::pull_image(const std::string& ref,
                              const std::function<void(const PullProgress&)>& on_progress) {
  const std::string context = fmt::format("pull image {}", ref);
  const auto [name, tag] = docker::split_image_ref(ref);
  std::string path = versioned("/images/create?fromImage=" + docker::url_encode(name));
  if (!tag.empty()) path += "&tag=" + docker::url_encode(tag);
  stream_lines("POST", path, kPullTimeout, context, [&](std::string_view line) {
    const auto progress = docker::parse_pull_line(line, context);
    if (progress && on_progress) on_progress(*progress);
  });
}

std::vector<std::string> DockerClient::load_image(const std::string& tar_path) {
  const std::string context = fmt::format("load images from {}", tar_path);
  auto file = std::make_shared<std::ifstream>(tar_path, std::ios::binary);
  if (!*file) {
    throw DockerError(Kind::not_found, fmt::format("{}: cannot read the file", context));
  }
  const std::string path = versioned("/images/load?quiet=1");
  std::string body;
  {
    InFlight client(*this, kLoadTimeout);
    const auto start = std::chrono::steady_clock::now();
    // Streamed in chunks, as `docker load` does, read front to back: no Content-Length, because
    // httplib's is a size_t and a tarball can pass 4 GiB where size_t is 32 bits (armhf).
    auto res = client->Post(
        path, {},
        [file](size_t, httplib::DataSink& sink) {
          char buf[64 * 1024];
          file->read(buf, static_cast<std::streamsize>(sizeof buf));
          const auto got = file->gcount();
          if (got > 0 && !sink.write(buf, static_cast<size_t>(got))) return false;
          if (file->eof()) {
            sink.done();
            return true;
          }
          return got > 0;  // a read error ends the request: the daemon sees a short body
        },
        "application/x-tar");
    if (!res) {
      throw_transport(static_cast<int>(res.error()), context,
                      std::chrono::steady_clock::now() - start, kLoadTimeout);
    }
    if (res->status >= 400) throw docker::error_from_response(res->status, res->body, context);
    body = std::move(res->body);
  }
  return docker::parse_load_answer(body, context);
}

void DockerClient::tag_image(const std::string& source, const std::string& repo,
                             const std::string& tag) {
  call("POST",
       "/images/" + source + "/tag?repo=" + docker::url_encode(repo) +
           "&tag=" + docker::url_encode(tag),
       "", Millis{0}, fmt::format("tag image {} as {}:{}", source, repo, tag));
}

std::string DockerClient::create_container(const ContainerSpec& spec) {
  const std::string context = fmt::format("create container {}", spec.name);
  std::string path = "/containers/create";
  if (!spec.name.empty()) path += "?name=" + docker::url_encode(spec.name);
  const std::string body = call("POST", path, docker::create_body(spec).dump(), Millis{0}, context);
  return parsed(context, [&] {
    auto j = parse_json(body, context);
    for (const auto& w : j.value("Warnings", json::array())) {
      if (w.is_string()) spdlog::warn("docker: {}: {}", context, w.get<std::string>());
    }
    std::string id = j.at("Id").get<std::string>();
    if (id.empty()) throw DockerError(Kind::bad_response, context + ": empty Id");
    return id;
  });
}

void DockerClient::start_container(const std::string& id) {
  call("POST", "/containers/" + id + "/start", "", Millis{0},
       fmt::format("start container {}", id));
}

std::optional<ContainerInfo> DockerClient::inspect_container(const std::string& id_or_name) {
  const std::string context = fmt::format("inspect container {}", id_or_name);
  try {
    const std::string body =
        call("GET", "/containers/" + id_or_name + "/json", "", Millis{0}, context);
    return parsed(context, [&] { return docker::parse_container(parse_json(body, context)); });
  } catch (const DockerError& e) {
    if (e.kind() == Kind::not_found) return std::nullopt;
    throw;
  }
}

void DockerClient::stop_container(const std::string& id, std::chrono::seconds timeout) {
  // The daemon answers only once the container has stopped: up to `timeout`, then the kill.
  const Millis wait = options_.read_timeout + timeout;
  call("POST", fmt::format("/containers/{}/stop?t={}", id, timeout.count()), "", wait,
       fmt::format("stop container {}", id));
}

void DockerClient::kill_container(const std::string& id, const std::string& signal) {
  call("POST", "/containers/" + id + "/kill?signal=" + docker::url_encode(signal), "", Millis{0},
       fmt::format("kill container {}", id));
}

void DockerClient::remove_container(const std::string& id, bool force) {
  try {
    call("DELETE", fmt::format("/containers/{}?v=1&force={}", id, force ? 1 : 0), "", Millis{0},
         fmt::format("remove container {}", id));
  } catch (const DockerError& e) {
    if (e.kind() != Kind::not_found) throw;  // already gone is what we wanted
  }
}

std::vector<ContainerSummary> DockerClient::list_containers(
    const std::map<std::string, std::string>& labels, bool all) {
  const std::string context = "list containers";
  std::string path = fmt::format("/containers/json?all={}", all ? 1 : 0);
  if (!labels.empty()) path += "&filters=" + docker::label_filters(labels);
  const std::string body = call("GET", path, "", Millis{0}, context);
  return parsed(context, [&] {
    std::vector<ContainerSummary> out;
    for (const auto& j : parse_json(body, context)) {
      out.push_back(docker::parse_container_summary(j));
    }
    return out;
  });
}

std::string DockerClient::container_logs(const std::string& id, int tail) {
  const std::string body =
      call("GET", fmt::format("/containers/{}/logs?stdout=1&stderr=1&tail={}", id, tail), "",
           Millis{0}, fmt::format("logs of container {}", id));
  return docker::demux_logs(body);
}

void DockerClient::stream_events(const std::string& query, const std::function<void()>& on_open,
                                 const std::function<bool(std::string_view)>& on_data) {
  std::string path = versioned("/events");
  if (!query.empty()) path += "?" + query;
  stream("GET", path, kStreamTimeout, "events", on_open, on_data);
}

}  // namespace kna

namespace kna {

std::shared_ptr<Docker> connect_docker(const DockerEndpoint& endpoint) {
  return std::make_shared<DockerClient>(
      DockerClientOptions{endpoint.socket_path, endpoint.connect_timeout, endpoint.read_timeout,
                          docker::kMaxApiVersion});
}

}  // namespace kna
