#pragma once
// A stage's output for `kube-node-agent logs STAGE [-f]`: a process stage's log file
// (<state_dir>/logs/<stage>.log, which the process runtime writes and rotates) or a container
// stage's logs from its Docker daemon. Read on an API connection's thread, never on the loop.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "kna/error.hpp"

namespace kna::api {

struct LogFile {
  std::string path;
};
struct ContainerLogs {
  std::string docker_socket;
  std::string container;  // name or id
};
using LogSource = std::variant<LogFile, ContainerLogs>;

// Where each stage's output is: published by the loop (at start and after a reload), read by the
// API's connection threads.
class LogDirectory {
 public:
  void publish(std::map<std::string, LogSource> sources);
  // An error names the stages there are.
  Result<LogSource> find(const std::string& stage) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, LogSource> sources_;
};

class LogStream {
 public:
  virtual ~LogStream() = default;
  // A descriptor that becomes readable when there is more, or -1: poll read_some() now and then.
  virtual int fd() const = 0;
  // Appends what is there now to `out`; false once the stream has ended (a file when not
  // following, a container's log when the daemon closed it).
  virtual bool read_some(std::string& out) = 0;
};

// The last `tail` lines, then (follow) what is written after them. An error names what is missing.
Result<std::unique_ptr<LogStream>> open_log_stream(const LogSource& source, std::size_t tail,
                                                   bool follow);

// The last `lines` lines of `text` (all of it when it has fewer).
std::string_view last_lines(std::string_view text, std::size_t lines);

// Docker's multiplexed log stream (8-byte frame headers) turned back into text, fed in pieces as
// they arrive. A stream that is not framed (a TTY container) passes through as it is.
class LogDemuxer {
 public:
  void feed(std::string_view data, std::string& out);

 private:
  std::string pending_;
  std::uint32_t frame_left_{0};
  bool raw_{false};
};

}  // namespace kna::api
