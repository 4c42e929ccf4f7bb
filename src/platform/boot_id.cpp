#include "platform/boot_id.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace kna {

Result<std::string> boot_id(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{fmt::format("cannot read boot id from {}: {}", path, std::strerror(errno))};
  std::string id;
  std::getline(in, id);
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r' || id.back() == ' ')) id.pop_back();
  if (id.empty()) return Error{fmt::format("cannot read boot id from {}: the file is empty", path)};
  return id;
}

}  // namespace kna
