#include "api/http.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace kna::api {
namespace {

constexpr std::size_t kMaxHeaders = 64;

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' is a space in a query. Refuses a bad escape and a NUL.
Result<std::string> decode(std::string_view s, bool query) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Error{"a bad percent escape in the request target"};
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && query) {
      c = ' ';
    }
    if (c == '\0') return Error{"a NUL byte in the request target"};
    out += c;
  }
  return out;
}

// The next line of `rest` (without its CR LF or LF), and `rest` moved past it.
std::string_view next_line(std::string_view& rest) {
  const auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

Status parse_query(std::string_view q, HttpRequest& req) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = decode(pair.substr(0, eq), true);
    if (!name) return name.error();
    auto value = decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!value) return value.error();
    req.query.emplace_back(std::move(name.value()), std::move(value.value()));
  }
  return kOk;
}

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return std::nullopt;
}

std::optional<std::string> HttpRequest::param(std::string_view name) const {
  for (const auto& [n, v] : query)
    if (n == name) return v;
  return std::nullopt;
}

std::optional<std::size_t> find_head_end(std::string_view received) {
  for (std::size_t i = received.find('\n'); i != std::string_view::npos;
       i = received.find('\n', i + 1)) {
    if (i + 1 < received.size() && received[i + 1] == '\n') return i + 2;
    if (i + 2 < received.size() && received[i + 1] == '\r' && received[i + 2] == '\n') return i + 3;
  }
  return std::nullopt;
}

Result<HttpRequest> parse_request_head(std::string_view head) {
  if (head.size() > kMaxRequestHead)
    return Error{fmt::format("the request head is longer than {} bytes", kMaxRequestHead)};
  HttpRequest req;
  std::string_view rest = head;
  const std::string_view line = next_line(rest);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return Error{"the request line is not \"METHOD /path HTTP/1.1\""};
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return Error{"the request method is not a token"};
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return Error{"only HTTP/1.0 and HTTP/1.1 are spoken here"};
  if (target.empty() || target.front() != '/')
    return Error{"the request target is not a path starting with /"};
  req.method = std::string(method);
  const auto qmark = target.find('?');
  auto path = decode(target.substr(0, qmark), false);
  if (!path) return path.error();
  req.path = std::move(path.value());
  if (qmark != std::string_view::npos) {
    if (auto q = parse_query(target.substr(qmark + 1), req); !q) return q.error();
  }

  bool have_length = false;
  while (!rest.empty()) {
    const std::string_view h = next_line(rest);
    if (h.empty()) break;
    if (h.front() == ' ' || h.front() == '\t') return Error{"folded header lines are refused"};
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon)))
      return Error{"a header line is not \"Name: value\""};
    if (req.headers.size() == kMaxHeaders)
      return Error{fmt::format("more than {} headers", kMaxHeaders)};
    std::string name = lower(h.substr(0, colon));
    const std::string_view value = trim(h.substr(colon + 1));
    if (name == "transfer-encoding") return Error{"chunked request bodies are not accepted"};
    if (name == "content-length") {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || value.empty())
        return Error{"Content-Length is not a number"};
      if (have_length && n != req.content_length)
        return Error{"two different Content-Length headers"};
      have_length = true;
      req.content_length = n;
    }
    req.headers.emplace_back(std::move(name), std::string(value));
  }
  return req;
}

HttpResponse text_response(int status, std::string message) {
  if (message.empty() || message.back() != '\n') message += '\n';
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(message), {}};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string serialize(const HttpResponse& r) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                                r.status, reason_phrase(r.status), r.content_type, r.body.size());
  for (const auto& [name, value] : r.headers) out += fmt::format("{}: {}\r\n", name, value);
  out += "Connection: close\r\n\r\n";
  out += r.body;
  return out;
}

std::string serialize_stream_head(int status, std::string_view content_type) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nConnection: close\r\n\r\n", status,
                     reason_phrase(status), content_type);
}

}  // namespace kna::api
