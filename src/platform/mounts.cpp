#include "platform/mounts.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

namespace kna {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string decode_octal(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        std::all_of(field.begin() + static_cast<long>(i) + 1,
                    field.begin() + static_cast<long>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> parse_mount_points(std::string_view mountinfo) {
  std::vector<std::string> points;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string field;
    for (int n = 0; n < 5 && fields >> field; ++n) {
      if (n == 4) points.push_back(decode_octal(field));
    }
  }
  return points;
}

Status make_shared_mount(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  const std::string path = fs::canonical(dir, ec).string();
  if (ec) return Error{"cannot resolve " + dir + ": " + ec.message()};

  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  const auto points = parse_mount_points(text.str());
  if (std::find(points.begin(), points.end(), path) == points.end()) {
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return Error{"cannot bind-mount " + path + " onto itself: " + std::strerror(errno)};
    spdlog::info("bind-mounted {} onto itself", path);
  }
  if (::mount(nullptr, path.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) != 0)
    return Error{"cannot make " + path + " a shared mount: " + std::strerror(errno)};
  return kOk;
}

}  // namespace kna
