#include "clients/http_error.hpp"

#include <fmt/format.h>

namespace kna {

std::string describe_http_error(httplib::Error error, Millis timeout) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return fmt::format("no connection within {}ms", timeout.count());
    case httplib::Error::Read:
      return fmt::format("no complete answer within {}ms", timeout.count());
    case httplib::Error::Write:
      return "cannot send the request";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
      return "TLS handshake failed";
    default:
      return fmt::format("request failed ({})", httplib::to_string(error));
  }
}

}  // namespace kna
