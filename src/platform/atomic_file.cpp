#include "platform/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace kna {

namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Error failure(const std::string& path, const char* step) {
  return Error{fmt::format("cannot write \"{}\": {}: {}", path, step, std::strerror(errno))};
}

}  // namespace

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

Status write_file_atomically(const std::string& path, std::string_view content, unsigned mode) {
  std::string tmp_name = path + ".tmp.XXXXXX";
  std::vector<char> tmp(tmp_name.begin(), tmp_name.end());
  tmp.push_back('\0');
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd == -1) return failure(path, "create temporary file");
  tmp_name = tmp.data();

  auto give_up = [&](const char* step) {
    Error e = failure(path, step);
    ::close(fd);
    ::unlink(tmp_name.c_str());
    return e;
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) == -1) return give_up("chmod");
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n == -1) {
      if (errno == EINTR) continue;
      return give_up("write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) == -1) return give_up("fsync");
  if (::close(fd) == -1) {
    Error e = failure(path, "close");
    ::unlink(tmp_name.c_str());
    return e;
  }
  if (::rename(tmp_name.c_str(), path.c_str()) == -1) {
    Error e = failure(path, "rename");
    ::unlink(tmp_name.c_str());
    return e;
  }
  // The rename itself is durable only once the directory is.
  const int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir == -1) return failure(path, "open directory");
  const int synced = ::fsync(dir);
  const int saved = errno;
  ::close(dir);
  errno = saved;
  if (synced == -1) return failure(path, "fsync directory");
  return std::monostate{};
}

}  // namespace kna
