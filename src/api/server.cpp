#include "api/server.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <list>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/unix_socket.hpp"
#include "core/thread_name.hpp"

namespace kna::api {

void StatusBoard::publish(const AgentReport& report) {
  std::string text = to_json(report).dump(2);
  std::string not_ready;
  for (const auto& s : report.stages) {
    if (s.state == "ready") continue;
    if (!not_ready.empty()) not_ready += ", ";
    not_ready += s.name + " (" + s.state + ")";
  }
  std::lock_guard lock(mu_);
  json_ = std::move(text);
  ready_ = report.ready;
  not_ready_ = std::move(not_ready);
}

std::string StatusBoard::status_json() const {
  std::lock_guard lock(mu_);
  return json_;
}

bool StatusBoard::ready() const {
  std::lock_guard lock(mu_);
  return ready_;
}

std::string StatusBoard::not_ready_summary() const {
  std::lock_guard lock(mu_);
  return not_ready_;
}

namespace {

constexpr std::string_view kStagesPrefix = "/v1/stages/";
constexpr std::size_t kMaxTail = 100'000;
constexpr int kFollowPollMs = 250;
constexpr auto kBusyPause = std::chrono::milliseconds(100);

HttpResponse method_not_allowed(std::string_view allowed) {
  auto r = text_response(405, fmt::format("use {} here", allowed));
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}

// "/v1/stages/kubelet/restart" → {"kubelet", "restart"}; nothing for other paths.
std::optional<std::pair<std::string, std::string>> stage_route(const std::string& path) {
  if (!path.starts_with(kStagesPrefix)) return std::nullopt;
  const std::string_view rest = std::string_view(path).substr(kStagesPrefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view verb = rest.substr(slash + 1);
  if (verb.find('/') != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(rest.substr(0, slash)), std::string(verb));
}

bool is_get(const HttpRequest& r) {
  return r.method == "GET" || r.method == "HEAD";
}

}  // namespace

HttpResponse route_simple(const HttpRequest& req, const StatusBoard& board,
                          const ApiHandlers& handlers, const Peer& peer, const AccessPolicy& policy,
                          bool tcp) {
  const std::string& path = req.path;
  if (tcp && path != "/metrics" && path != "/healthz") {
    return text_response(404, fmt::format("{} is not served here: this address serves /metrics "
                                          "and /healthz; the control API is on the unix socket",
                                          path));
  }
  if (path == "/healthz") {
    return is_get(req) ? text_response(200, "ok") : method_not_allowed("GET");
  }
  if (path == "/readyz") {
    if (!is_get(req)) return method_not_allowed("GET");
    if (board.ready()) return text_response(200, "ready");
    return text_response(503, "not ready: " + board.not_ready_summary());
  }
  if (path == "/v1/status") {
    if (!is_get(req)) return method_not_allowed("GET");
    return HttpResponse{200, "application/json", board.status_json(), {}};
  }
  if (path == "/metrics") {
    if (!is_get(req)) return method_not_allowed("GET");
    return HttpResponse{200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        handlers.metrics ? handlers.metrics() : std::string(),
                        {}};
  }
  if (auto stage = stage_route(path)) {
    const auto& [name, verb] = *stage;
    if (verb == "restart") {
      if (req.method != "POST") return method_not_allowed("POST");
      if (auto why = refusal(peer, policy)) {
        spdlog::warn("api: refused to restart {} for {}: {}", name, peer.describe(), *why);
        return text_response(403, *why);
      }
      spdlog::info("api: restart of {} requested by {}", name, peer.describe());
      if (!handlers.restart) return text_response(503, "this agent cannot restart stages");
      return handlers.restart(name, peer);
    }
    if (verb == "logs") {
      if (!is_get(req)) return method_not_allowed("GET");
      return text_response(500, "the logs are streamed, not routed here");
    }
  }
  return text_response(404, fmt::format("no such path: {} (try /v1/status, /healthz, /readyz, "
                                        "/metrics, /v1/stages/STAGE/restart or "
                                        "/v1/stages/STAGE/logs)",
                                        path));
}

namespace {

using Clock = std::chrono::steady_clock;

Result<gid_t> resolve_group(const std::string& group) {
  gid_t gid = 0;
  const auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), gid);
  if (ec == std::errc() && end == group.data() + group.size()) return gid;
  std::vector<char> buf(16 * 1024);
  ::group entry{};
  ::group* found = nullptr;
  int rc = 0;
  while ((rc = ::getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 4);
  if (rc != 0 || found == nullptr) {
    return Error{
        fmt::format("api.socket_group: there is no group {} on this machine: create it "
                    "(groupadd {}) or unset api.socket_group",
                    group, group)};
  }
  return found->gr_gid;
}

Result<sockaddr_in> parse_tcp_address(const std::string& address) {
  const auto colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? address : address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const std::string ip = host.empty() ? "0.0.0.0" : host == "localhost" ? "127.0.0.1" : host;
  if (colon == std::string::npos || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port == 0 || port > 65535 ||
      ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    return Error{
        fmt::format("metrics.address {} is not IPV4:PORT (e.g. 127.0.0.1:9101, or :9101 "
                    "for every address)",
                    address)};
  }
  return addr;
}

}  // namespace

struct ApiServer::Impl {
  struct Connection {
    int fd;
    bool tcp;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  const ApiOptions& options;
  const StatusBoard& board;
  ApiHandlers handlers;
  AccessPolicy policy;
  int unix_fd{-1};
  int tcp_fd{-1};
  int stop_fd{-1};  // an eventfd, written once on stop: every poll() here watches it
  std::thread acceptor;
  std::list<Connection> connections;  // acceptor thread only, until stop() joins it
  bool started{false};

  Impl(const ApiOptions& o, const StatusBoard& b, ApiHandlers h)
      : options(o), board(b), handlers(std::move(h)) {}

  bool stopping() const {
    pollfd p{stop_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Waits until `fd` is ready for `events`, stop is asked or `deadline` passes.
  bool wait_for(int fd, short events, Clock::time_point deadline) const {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
      const int n = ::poll(p, 2, static_cast<int>(std::min<long long>(left, 60'000)));
      if (n < 0 && errno != EINTR) return false;
      if (p[1].revents) return false;
      if (n > 0 && p[0].revents) return true;
    }
  }

  bool write_all(int fd, std::string_view data) const {
    while (!data.empty()) {
      if (!wait_for(fd, POLLOUT, Clock::now() + options.write_timeout)) return false;
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void answer(int fd, const HttpResponse& response) const { write_all(fd, serialize(response)); }

  void serve(int fd, bool tcp) {
    const Peer peer = tcp ? Peer{} : peer_of(fd);
    const auto deadline = Clock::now() + options.read_timeout;
    std::string received;
    std::optional<std::size_t> head_end;
    while (!(head_end = find_head_end(received))) {
      if (received.size() > kMaxRequestHead) {
        answer(fd, text_response(431, fmt::format("the request head is longer than {} bytes",
                                                  kMaxRequestHead)));
        return;
      }
      if (!wait_for(fd, POLLIN, deadline)) {
        if (!stopping() && !received.empty())
          answer(fd, text_response(408, "the request did not arrive in time"));
        return;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return;  // the client went away
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return;
      }
      received.append(buf, static_cast<std::size_t>(n));
    }
    if (*head_end > kMaxRequestHead) {
      answer(fd, text_response(431, fmt::format("the request head is longer than {} bytes",
                                                kMaxRequestHead)));
      return;
    }
    auto parsed = parse_request_head(std::string_view(received).substr(0, *head_end));
    if (!parsed) {
      answer(fd, text_response(400, parsed.error().message));
      return;
    }
    const HttpRequest& req = parsed.value();
    if (req.content_length > kMaxRequestBody) {
      answer(fd, text_response(413, fmt::format("the request body is longer than {} bytes",
                                                kMaxRequestBody)));
      return;
    }
    // The body carries nothing this API reads; it is received so that the answer is not reset.
    std::size_t body = received.size() - *head_end;
    while (body < req.content_length) {
      if (!wait_for(fd, POLLIN, deadline)) {
        answer(fd, text_response(408, "the request body did not arrive in time"));
        return;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return;
      if (n > 0) body += static_cast<std::size_t>(n);
    }
    const auto route = stage_route(req.path);
    if (!tcp && route && route->second == "logs" && is_get(req)) {
      stream_logs(fd, req, route->first, peer);
      return;
    }
    auto response = route_simple(req, board, handlers, peer, policy, tcp);
    if (req.method == "HEAD") response.body.clear();
    answer(fd, response);
  }

  void stream_logs(int fd, const HttpRequest& req, const std::string& stage, const Peer& peer) {
    if (auto why = refusal(peer, policy)) {
      spdlog::warn("api: refused the logs of {} to {}: {}", stage, peer.describe(), *why);
      answer(fd, text_response(403, *why));
      return;
    }
    std::size_t tail = 100;
    if (auto t = req.param("tail")) {
      const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), tail);
      if (ec != std::errc() || end != t->data() + t->size() || tail > kMaxTail) {
        answer(fd, text_response(400, fmt::format("tail={} is not a number of lines from 0 to {}",
                                                  *t, kMaxTail)));
        return;
      }
    }
    const auto f = req.param("follow");
    const bool follow = f && (*f == "1" || *f == "true");
    if (!handlers.log_source) {
      answer(fd, text_response(503, "this agent serves no logs"));
      return;
    }
    auto source = handlers.log_source(stage);
    if (!source) {
      answer(fd, text_response(404, source.error().message));
      return;
    }
    auto stream = open_log_stream(source.value(), tail, follow);
    if (!stream) {
      answer(fd, text_response(
                     503, "cannot read the output of " + stage + ": " + stream.error().message));
      return;
    }
    spdlog::info("api: logs of {}{} for {}", stage, follow ? " (following)" : "", peer.describe());
    if (!write_all(fd, serialize_stream_head(200, "text/plain; charset=utf-8"))) return;
    if (req.method == "HEAD") return;
    LogStream& s = *stream.value();
    std::string out;
    for (;;) {
      out.clear();
      const bool more = s.read_some(out);
      if (!out.empty() && !write_all(fd, out)) return;
      if (!more) return;
      pollfd p[3] = {{fd, POLLRDHUP, 0}, {stop_fd, POLLIN, 0}, {s.fd(), POLLIN, 0}};
      const int n = ::poll(p, s.fd() >= 0 ? 3 : 2, kFollowPollMs);
      if (n < 0 && errno != EINTR) return;
      if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) return;  // the client went away
      if (p[1].revents) return;                                    // stopping
    }
  }

  void reap(bool all) {
    for (auto it = connections.begin(); it != connections.end();) {
      if (!all && !it->done.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      ::close(it->fd);
      it = connections.erase(it);
    }
  }

  void accept_loop() {
    for (;;) {
      pollfd p[3] = {{stop_fd, POLLIN, 0}, {unix_fd, POLLIN, 0}, {tcp_fd, POLLIN, 0}};
      // A finished connection's thread is joined within a second; with none open, nothing to do
      // until a client or stop() comes (no wakeup a second on an idle node).
      const int n = ::poll(p, tcp_fd >= 0 ? 3 : 2, connections.empty() ? -1 : 1000);
      reap(false);
      if (n < 0 && errno != EINTR) {
        spdlog::error("api: poll: {}", std::strerror(errno));
        return;
      }
      if (p[0].revents) return;
      for (int i = 1; i < 3; ++i) {
        if (!(p[i].revents & POLLIN)) continue;
        const int fd = ::accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
          // Out of descriptors: the connection waits in the backlog; do not spin on it.
          if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(kBusyPause);
          continue;
        }
        if (connections.size() >= options.max_connections) {
          // Answered at once, without a thread: the others keep theirs.
          const std::string busy = serialize(text_response(
              503,
              fmt::format("{} requests are in progress already: try again", connections.size())));
          (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          ::close(fd);
          continue;
        }
        auto& c = connections.emplace_back();
        c.fd = fd;
        c.tcp = i == 2;
        try {
          c.thread = std::thread([this, &c] {
            name_this_thread("kna-api-conn");
            serve(c.fd, c.tcp);
            ::shutdown(c.fd, SHUT_RDWR);
            c.done = true;
          });
        } catch (const std::system_error& e) {  // no thread to be had: this client is dropped
          spdlog::warn("api: cannot start a thread for a connection: {}", e.what());
          ::close(fd);
          connections.pop_back();
        }
      }
    }
  }

  Status bind_unix() {
    const std::string& path = options.socket_path;
    namespace fs = std::filesystem;
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Error{"status socket path " + path + " is longer than " +
                   std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                   " bytes, the limit of a unix socket: set paths.status_socket to a shorter path"};
    }
    std::optional<gid_t> gid;
    if (!options.socket_group.empty()) {
      auto g = resolve_group(options.socket_group);
      if (!g) return g.error();
      gid = g.value();
    }
    policy = AccessPolicy{::geteuid(), gid, options.socket_group};
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) {
      if (socket_is_live(path)) {
        return Error{"another agent already answers on " + path +
                     ": stop it first, or give this one another paths.status_socket"};
      }
      if (!fs::is_socket(fs::symlink_status(path, ec))) {
        return Error{path +
                     " exists and is not a socket: remove it or choose another "
                     "paths.status_socket"};
      }
      fs::remove(path, ec);  // stale: left behind by an agent that died
      spdlog::info("api: replaced stale socket {}", path);
    }
    unix_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (unix_fd < 0) return Error{fmt::format("socket(AF_UNIX): {}", std::strerror(errno))};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    // Created with the owner's bits only (the umask is the process's, restored at once), then
    // given its group and mode: it is never open to more than the configuration says.
    const mode_t old_umask = ::umask(0777 & ~(options.socket_mode & 0700));
    const int bound = ::bind(unix_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_umask);
    if (bound != 0) {
      return Error{"cannot listen on " + path + ": " + std::strerror(bind_errno) +
                   " (does its folder exist and is it writable?)"};
    }
    if (gid && ::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
      return Error{fmt::format("cannot give {} to group {}: {}", path, options.socket_group,
                               std::strerror(errno))};
    }
    if (::chmod(path.c_str(), options.socket_mode) != 0) {
      return Error{fmt::format("cannot set mode {:04o} on {}: {}", options.socket_mode, path,
                               std::strerror(errno))};
    }
    if (::listen(unix_fd, 64) != 0)
      return Error{fmt::format("cannot listen on {}: {}", path, std::strerror(errno))};
    return kOk;
  }

  Status bind_tcp() {
    auto addr = parse_tcp_address(options.metrics_address);
    if (!addr) return addr.error();
    tcp_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (tcp_fd < 0 ||
        ::bind(tcp_fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof addr.value()) !=
            0 ||
        ::listen(tcp_fd, 64) != 0) {
      return Error{
          fmt::format("cannot listen on metrics.address {}: {} (is another program "
                      "using that port?)",
                      options.metrics_address, std::strerror(errno))};
    }
    return kOk;
  }

  void close_all() {
    for (int* fd : {&unix_fd, &tcp_fd, &stop_fd}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
};

ApiServer::ApiServer(ApiOptions options, const StatusBoard& board, ApiHandlers handlers)
    : options_(std::move(options)),
      impl_(std::make_unique<Impl>(options_, board, std::move(handlers))) {}

ApiServer::ApiServer(std::string socket_path, const StatusBoard& board,
                     std::function<std::string()> metrics)
    : ApiServer(
          [&] {
            ApiOptions o;
            o.socket_path = std::move(socket_path);
            return o;
          }(),
          board, ApiHandlers{std::move(metrics), {}, {}}) {}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::start() {
  Impl& s = *impl_;
  if (s.started) return kOk;
  s.stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  Status bound = s.bind_unix();
  const bool created = s.unix_fd >= 0 && bound.ok();
  if (bound && !options_.metrics_address.empty()) bound = s.bind_tcp();
  if (!bound) {
    s.close_all();
    if (created) std::filesystem::remove(options_.socket_path);
    return bound;
  }
  s.acceptor = std::thread([&s] {
    name_this_thread("kna-api");
    s.accept_loop();
  });
  s.started = true;
  spdlog::info("api: serving on {} (mode {:04o}{})", options_.socket_path, options_.socket_mode,
               options_.socket_group.empty() ? "" : ", group " + options_.socket_group);
  if (s.tcp_fd >= 0)
    spdlog::info("api: metrics also on http://{}/metrics", options_.metrics_address);
  return kOk;
}

void ApiServer::stop() {
  if (!impl_ || !impl_->started) return;
  Impl& s = *impl_;
  s.started = false;
  const std::uint64_t one = 1;
  (void)!::write(s.stop_fd, &one, sizeof one);
  if (s.acceptor.joinable()) s.acceptor.join();
  s.reap(true);
  s.close_all();
  std::error_code ec;
  std::filesystem::remove(options_.socket_path, ec);
}

}  // namespace kna::api
