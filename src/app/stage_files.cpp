#include "app/stage_files.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "platform/atomic_file.hpp"
#include "platform/mounts.hpp"

namespace kna::app {

namespace {

bool same_on_disk(const StageFile& file) {
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0) return false;
  if ((st.st_mode & 07777) != file.mode) return false;
  std::ifstream in(file.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return in.good() || in.eof() ? text.str() == file.content : false;
}

}  // namespace

Status prepare_stage_host(const StageSpec& spec) {
  for (const auto& file : spec.files) {
    if (same_on_disk(file)) continue;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file.path).parent_path(), ec);
    if (ec) return Error{"cannot create the folder of " + file.path + ": " + ec.message()};
    if (auto written = write_file_atomically(file.path, file.content, file.mode); !written)
      return written.error();
    spdlog::info("{}: wrote {} ({} bytes, mode {:o})", spec.name, file.path, file.content.size(),
                 file.mode);
  }
  for (const auto& dir : spec.shared_dirs) {
    if (auto shared = make_shared_mount(dir); !shared) return shared.error();
  }
  return kOk;
}

}  // namespace kna::app
