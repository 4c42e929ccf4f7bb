#include "platform/self_exec.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace kna {

Result<SelfExec> capture_self() {
  SelfExec self;
  std::error_code ec;
  self.executable = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Error{fmt::format("cannot read /proc/self/exe: {}", ec.message())};
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  while (start < all.size()) {
    auto end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    self.argv.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  if (self.argv.empty()) return Error{"cannot read /proc/self/cmdline"};
  return self;
}

Error exec_self(const SelfExec& self) {
  std::vector<char*> argv;
  for (const auto& a : self.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(self.executable.c_str(), argv.data());
  return Error{fmt::format("cannot execute {}: {}", self.executable, std::strerror(errno))};
}

}  // namespace kna
