#pragma once
// cpp-httplib clients that talk HTTP over a daemon's unix socket (dockerd). Include only from .cpp
// files: httplib.h is slow to compile.

#include <memory>
#include <string>

#include <httplib.h>

#include "kna/time.hpp"

namespace kna::http {

// A fresh client for one request (or one stream): AF_UNIX, and Host "localhost" because dockerd
// rejects httplib's default Host header for a socket path. Blocking; never use it on the loop.
std::unique_ptr<httplib::Client> unix_client(const std::string& socket_path, Millis connect_timeout,
                                             Millis read_timeout);

}  // namespace kna::http
