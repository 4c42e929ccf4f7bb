#include "api/client.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <httplib.h>

namespace kna::api {

namespace {

Status check_socket(const std::string& socket_path) {
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0 && errno == ENOENT) {
    return Error{
        fmt::format("no agent is running: {} does not exist (start one with "
                    "`kube-node-agent run`, or pass --status-socket)",
                    socket_path)};
  }
  if (::access(socket_path.c_str(), R_OK | W_OK) != 0 && errno == EACCES) {
    return Error{fmt::format(
        "permission denied on {}: the agent's socket is open to root and to the group set in "
        "api.socket_group (run as root, or join that group)",
        socket_path)};
  }
  return kOk;
}

std::unique_ptr<httplib::Client> connect(const std::string& socket_path, Millis timeout,
                                         Millis read_timeout) {
  auto client = std::make_unique<httplib::Client>(socket_path);
  client->set_address_family(AF_UNIX);
  client->set_default_headers({{"Host", "localhost"}});
  client->set_connection_timeout(timeout.count() / 1000, (timeout.count() % 1000) * 1000);
  client->set_read_timeout(read_timeout.count() / 1000, (read_timeout.count() % 1000) * 1000);
  client->set_write_timeout(timeout.count() / 1000, (timeout.count() % 1000) * 1000);
  return client;
}

Error failed(const std::string& socket_path, const std::string& what, httplib::Error err) {
  if (err == httplib::Error::Connection) {
    return Error{fmt::format("no agent answers on {}: the socket is stale (is the agent running?)",
                             socket_path)};
  }
  return Error{fmt::format("the agent on {} did not answer {}: {}", socket_path, what,
                           httplib::to_string(err))};
}

Error refused(const std::string& socket_path, const std::string& what, int status,
              const std::string& body) {
  std::string text = body;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (status == 403) {
    return Error{fmt::format("the agent on {} refused {}: {}", socket_path, what, text)};
  }
  return Error{
      fmt::format("the agent on {} answered {} with HTTP {}: {}", socket_path, what, status, text)};
}

}  // namespace

Result<std::string> get_from_agent(const std::string& socket_path, const std::string& path,
                                   Millis timeout) {
  if (auto ok = check_socket(socket_path); !ok) return ok.error();
  auto res = connect(socket_path, timeout, timeout)->Get(path.c_str());
  if (!res) return failed(socket_path, "GET " + path, res.error());
  if (res->status != 200) return refused(socket_path, "GET " + path, res->status, res->body);
  return res->body;
}

Result<std::string> post_to_agent(const std::string& socket_path, const std::string& path,
                                  Millis timeout) {
  if (auto ok = check_socket(socket_path); !ok) return ok.error();
  auto res = connect(socket_path, timeout, timeout)->Post(path.c_str(), "", "text/plain");
  if (!res) return failed(socket_path, "POST " + path, res.error());
  if (res->status / 100 != 2) return refused(socket_path, "POST " + path, res->status, res->body);
  return res->body;
}

Status stream_from_agent(const std::string& socket_path, const std::string& path, Millis timeout,
                         const std::function<bool(std::string_view)>& sink) {
  if (auto ok = check_socket(socket_path); !ok) return ok.error();
  // A followed log may be quiet for hours: the read timeout only ends a dead connection.
  auto client = connect(socket_path, timeout, Millis(24LL * 3600 * 1000));
  std::string error_body;
  int status = 0;
  auto res = client->Get(
      path.c_str(),
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, std::size_t n) {
        if (status != 200) {
          error_body.append(data, n);
          return true;
        }
        return sink(std::string_view(data, n));
      });
  if (!res && res.error() == httplib::Error::Canceled) return kOk;  // the sink had enough
  if (!res) return failed(socket_path, "GET " + path, res.error());
  if (res->status != 200) return refused(socket_path, "GET " + path, res->status, error_body);
  return kOk;
}

Result<AgentReport> fetch_status(const std::string& socket_path, Millis timeout) {
  auto body = get_from_agent(socket_path, "/v1/status", timeout);
  if (!body) return body.error();
  auto j = nlohmann::json::parse(body.value(), nullptr, false);
  if (j.is_discarded()) {
    return Error{
        fmt::format("the agent on {} answered with something that is not JSON", socket_path)};
  }
  return report_from_json(j);
}

}  // namespace kna::api
