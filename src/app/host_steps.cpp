#include "app/host_steps.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "platform/atomic_file.hpp"
#include "platform/mounts.hpp"
#include "platform/net_links.hpp"

namespace kna::app {

namespace {

bool same_on_disk(const WriteFile& file) {
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0) return false;
  if ((st.st_mode & 07777) != file.mode) return false;
  std::ifstream in(file.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return in.good() || in.eof() ? text.str() == file.content : false;
}

}  // namespace

Status write_file(const std::string& stage, const WriteFile& step) {
  if (same_on_disk(step)) return kOk;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(step.path).parent_path(), ec);
  if (ec) return Error{"cannot create the folder of " + step.path + ": " + ec.message()};
  if (auto written = write_file_atomically(step.path, step.content, step.mode); !written)
    return written.error();
  spdlog::info("{}: wrote {} ({} bytes, mode {:o})", stage, step.path, step.content.size(),
               step.mode);
  return kOk;
}

Status share_mount(const std::string& stage, const SharedMount& step) {
  (void)stage;  // make_shared_mount logs a bind itself
  return make_shared_mount(step.dir);
}

bool bridge_is_stale(bool exists, const std::optional<std::string>& cidr,
                     const std::string& keep_cidr) {
  return exists && cidr != keep_cidr;
}

Status delete_stale_bridge(const std::string& stage, const DeleteStaleBridge& step) {
  const auto cidr = link_ipv4_cidr(step.link);
  if (!bridge_is_stale(link_exists(step.link), cidr, step.keep_cidr)) return kOk;
  spdlog::info("{}: deleting {} ({}) so that {} applies", stage, step.link,
               cidr.value_or("no IPv4 address"), step.keep_cidr);
  return delete_link(step.link);
}

Status make_dirs(const std::string& stage, const MakeDirs& step) {
  for (const auto& dir : step.dirs) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) continue;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
    spdlog::info("{}: created {}", stage, dir);
  }
  return kOk;
}

Status run_host_step(const std::string& stage, const HostStep& step) {
  struct Run {
    const std::string& stage;
    Status operator()(const WriteFile& s) const { return write_file(stage, s); }
    Status operator()(const SharedMount& s) const { return share_mount(stage, s); }
    Status operator()(const DeleteStaleBridge& s) const { return delete_stale_bridge(stage, s); }
    Status operator()(const MakeDirs& s) const { return make_dirs(stage, s); }
  };
  return std::visit(Run{stage}, step);
}

}  // namespace kna::app
