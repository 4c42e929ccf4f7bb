#include "clients/http_unix.hpp"

#include <sys/socket.h>

namespace kna::http {

std::unique_ptr<httplib::Client> unix_client(const std::string& socket_path, Millis connect_timeout,
                                             Millis read_timeout) {
  auto client = std::make_unique<httplib::Client>(socket_path);
  client->set_address_family(AF_UNIX);
  client->set_default_headers({{"Host", "localhost"}});
  client->set_keep_alive(false);
  client->set_connection_timeout(connect_timeout);
  client->set_read_timeout(read_timeout);
  client->set_write_timeout(read_timeout);
  return client;
}

}  // namespace kna::http
