#pragma once
// The little HTTP/1.1 the agent's API speaks: a request head parsed from bytes a local client sent
// (untrusted: fuzzed, tests/fuzz), and a response written back. One request per connection; the
// server closes it after the answer.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kna/error.hpp"

namespace kna::api {

inline constexpr std::size_t kMaxRequestHead = 8 * 1024;  // request line and headers
inline constexpr std::size_t kMaxRequestBody = 64 * 1024;

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // "/v1/stages/kubelet/logs", percent-decoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::size_t content_length{0};

  std::optional<std::string> header(std::string_view name) const;  // `name` lower-case
  std::optional<std::string> param(std::string_view name) const;
};

// The head (everything before the blank line, which is not included). An error names what is
// wrong, for a 400 answer.
Result<HttpRequest> parse_request_head(std::string_view head);

// Where the head ends in what was received so far (the offset just past "\r\n\r\n" or "\n\n"), or
// nullopt while it has not ended.
std::optional<std::size_t> find_head_end(std::string_view received);

struct HttpResponse {
  int status{200};
  std::string content_type{"text/plain; charset=utf-8"};
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones, e.g. Allow
};

// A text answer; `message` gets a trailing newline if it has none.
HttpResponse text_response(int status, std::string message);

// Status line, headers (Content-Length, Connection: close) and body.
std::string serialize(const HttpResponse& response);
// The head of a streamed answer (no Content-Length: the body ends when the connection closes).
std::string serialize_stream_head(int status, std::string_view content_type);

const char* reason_phrase(int status);

}  // namespace kna::api
