#include "api/stage_logs.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "api/http.hpp"

namespace kna::api {
namespace {

constexpr std::size_t kMaxTailBytes = 1024 * 1024;  // what the tail of a log file is read from
constexpr auto kDockerAnswerTimeout = std::chrono::seconds(5);

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class FileStream final : public LogStream {
 public:
  FileStream(std::string path, std::string tail, std::uint64_t offset, bool follow)
      : path_(std::move(path)), tail_(std::move(tail)), offset_(offset), follow_(follow) {}
  int fd() const override { return -1; }
  bool read_some(std::string& out) override {
    if (!tail_.empty()) {
      out += tail_;
      tail_.clear();
      return follow_;
    }
    if (!follow_) return false;
    std::ifstream in(path_, std::ios::binary);
    if (!in) return true;  // between a rotation's copy and its new file: try again later
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    if (size < offset_) offset_ = 0;  // rotated: copied to .1 and truncated
    if (size == offset_) return true;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset_, 1 << 20));
    std::string chunk(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset_));
    in.read(chunk.data(), static_cast<std::streamsize>(n));
    chunk.resize(static_cast<std::size_t>(in.gcount()));
    offset_ += chunk.size();
    out += chunk;
    return true;
  }

 private:
  std::string path_;
  std::string tail_;
  std::uint64_t offset_;
  bool follow_;
};

Result<std::unique_ptr<LogStream>> open_file(const LogFile& file, std::size_t tail, bool follow) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    return Error{fmt::format(
        "no output yet: {} does not exist (the stage has not run with this state_dir)", file.path)};
  }
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  const auto window = std::min<std::uint64_t>(size, kMaxTailBytes);
  std::string text(static_cast<std::size_t>(window), '\0');
  in.seekg(static_cast<std::streamoff>(size - window));
  in.read(text.data(), static_cast<std::streamsize>(window));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return std::unique_ptr<LogStream>(
      std::make_unique<FileStream>(file.path, std::string(last_lines(text, tail)), size, follow));
}

class ContainerStream final : public LogStream {
 public:
  ContainerStream(int fd, std::string first) : fd_(fd), first_(std::move(first)) {}
  int fd() const override { return fd_.get(); }
  bool read_some(std::string& out) override {
    if (!first_.empty()) {
      demux_.feed(first_, out);
      first_.clear();
    }
    char buf[16 * 1024];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      demux_.feed(std::string_view(buf, static_cast<std::size_t>(n)), out);
      return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  }

 private:
  Fd fd_;
  std::string first_;
  LogDemuxer demux_;
};

// Reads until `done` says enough or the daemon closes, for at most kDockerAnswerTimeout.
template <typename Done>
bool read_until(int fd, std::string& buf, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kDockerAnswerTimeout;
  while (!done(buf)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return done(buf) || n == 0;
    buf.append(chunk, static_cast<std::size_t>(n));
    if (buf.size() > kMaxRequestBody) return true;
  }
  return true;
}

Result<std::unique_ptr<LogStream>> open_container(const ContainerLogs& c, std::size_t tail,
                                                  bool follow) {
  const bool safe_name =
      !c.container.empty() && std::all_of(c.container.begin(), c.container.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
      });
  if (!safe_name) return Error{fmt::format("\"{}\" is not a container name", c.container)};
  sockaddr_un addr{};
  if (c.docker_socket.size() >= sizeof addr.sun_path)
    return Error{fmt::format("the Docker socket path {} is too long", c.docker_socket)};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, c.docker_socket.c_str(), c.docker_socket.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error{fmt::format("cannot reach the Docker daemon on {}: {}", c.docker_socket,
                             std::strerror(errno))};
  // HTTP/1.0: the daemon sends the log unchunked and ends it by closing the connection.
  const std::string request = fmt::format(
      "GET /containers/{}/logs?stdout=1&stderr=1&tail={}{} HTTP/1.0\r\nHost: docker\r\n\r\n",
      c.container, tail, follow ? "&follow=1" : "");
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return Error{fmt::format("cannot ask the Docker daemon on {} for the logs: {}", c.docker_socket,
                             std::strerror(errno))};
  std::string buf;
  std::optional<std::size_t> head_end;
  if (!read_until(fd.get(), buf,
                  [&](const std::string& b) {
                    head_end = find_head_end(b);
                    return head_end.has_value();
                  }) ||
      !head_end) {
    return Error{fmt::format("the Docker daemon on {} did not answer for the logs of {}",
                             c.docker_socket, c.container)};
  }
  const std::string head = buf.substr(0, *head_end);
  std::string body = buf.substr(*head_end);
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1)
    return Error{fmt::format("the Docker daemon on {} answered something that is not HTTP",
                             c.docker_socket)};
  if (status != 200) {
    read_until(fd.get(), body, [](const std::string&) { return false; });
    return Error{fmt::format("the Docker daemon on {} answered HTTP {} for the logs of {}: {}",
                             c.docker_socket, status, c.container,
                             body.substr(0, std::min<std::size_t>(body.size(), 500)))};
  }
  return std::unique_ptr<LogStream>(std::make_unique<ContainerStream>(fd.release(), body));
}

}  // namespace

void LogDirectory::publish(std::map<std::string, LogSource> sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

Result<LogSource> LogDirectory::find(const std::string& stage) const {
  std::lock_guard lock(mu_);
  if (auto it = sources_.find(stage); it != sources_.end()) return it->second;
  std::string names;
  for (const auto& [name, source] : sources_) names += (names.empty() ? "" : ", ") + name;
  return Error{fmt::format("this agent runs no stage \"{}\"; its stages are {}", stage,
                           names.empty() ? "none" : names)};
}

std::string_view last_lines(std::string_view text, std::size_t lines) {
  if (lines == 0) return {};
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // the last line's own newline
  std::size_t start = end;
  for (std::size_t found = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++found == lines) break;
  }
  return text.substr(start);
}

void LogDemuxer::feed(std::string_view data, std::string& out) {
  while (!data.empty()) {
    if (raw_) {
      out.append(data);
      return;
    }
    if (frame_left_ > 0) {
      const auto n = std::min<std::size_t>(frame_left_, data.size());
      out.append(data.substr(0, n));
      data.remove_prefix(n);
      frame_left_ -= static_cast<std::uint32_t>(n);
      continue;
    }
    const auto need = std::min<std::size_t>(8 - pending_.size(), data.size());
    pending_.append(data.substr(0, need));
    data.remove_prefix(need);
    if (pending_.size() < 8) return;
    const auto* h = reinterpret_cast<const unsigned char*>(pending_.data());
    if (h[0] > 2 || h[1] != 0 || h[2] != 0 || h[3] != 0) {
      raw_ = true;  // a TTY container's log is not framed
      out.append(pending_);
      pending_.clear();
      continue;
    }
    frame_left_ = (std::uint32_t{h[4]} << 24) | (std::uint32_t{h[5]} << 16) |
                  (std::uint32_t{h[6]} << 8) | std::uint32_t{h[7]};
    pending_.clear();
  }
}

Result<std::unique_ptr<LogStream>> open_log_stream(const LogSource& source, std::size_t tail,
                                                   bool follow) {
  if (const auto* file = std::get_if<LogFile>(&source)) return open_file(*file, tail, follow);
  return open_container(std::get<ContainerLogs>(source), tail, follow);
}

}  // namespace kna::api
