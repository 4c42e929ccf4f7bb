#include "api/client.hpp"

#include <sys/socket.h>

#include <filesystem>

#include <fmt/format.h>
#include <httplib.h>

namespace kna::api {

Result<std::string> get_from_agent(const std::string& socket_path, const std::string& path,
                                   Millis timeout) {
  std::error_code ec;
  if (!std::filesystem::exists(socket_path, ec)) {
    return Error{
        fmt::format("no agent is running: {} does not exist (start one with "
                    "`kube-node-agent run`, or pass --status-socket)",
                    socket_path)};
  }
  httplib::Client client(socket_path);
  client.set_address_family(AF_UNIX);
  client.set_default_headers({{"Host", "localhost"}});
  const auto secs = timeout.count() / 1000;
  const auto usecs = (timeout.count() % 1000) * 1000;
  client.set_connection_timeout(secs, usecs);
  client.set_read_timeout(secs, usecs);
  client.set_write_timeout(secs, usecs);
  auto res = client.Get(path.c_str());
  if (!res) {
    const auto err = res.error();
    if (err == httplib::Error::Connection) {
      return Error{
          fmt::format("no agent answers on {}: the socket is stale (is the agent "
                      "running?)",
                      socket_path)};
    }
    return Error{fmt::format("the agent on {} did not answer GET {}: {}", socket_path, path,
                             httplib::to_string(err))};
  }
  if (res->status != 200) {
    return Error{fmt::format("the agent on {} answered GET {} with HTTP {}: {}", socket_path, path,
                             res->status, res->body)};
  }
  return res->body;
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
