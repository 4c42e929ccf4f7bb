#pragma once
// One wording for a failed cpp-httplib request, shared by the HTTP probe and the API clients.

#include <string>

#include <httplib.h>

#include "kna/time.hpp"

namespace kna {

// "cannot connect", "no complete answer within 2000ms", ...
std::string describe_http_error(httplib::Error error, Millis timeout);

}  // namespace kna
