#include "platform/container_init.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "platform/mounts.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrivileged =
    "cgroups cannot be mounted: run the container with --privileged (balena: privileged: true)";

class SystemMounts final : public MountOps {
 public:
  Status mount(const std::string& source, const std::string& target, const std::string& type,
               unsigned long flags, const std::string& data) override {
    if (::mount(source.c_str(), target.c_str(), type.empty() ? nullptr : type.c_str(), flags,
                data.empty() ? nullptr : data.c_str()) == 0)
      return kOk;
    const int err = errno;
    std::string message =
        fmt::format("mount {} ({}{}) on {}: {}", source, type.empty() ? "-" : type,
                    data.empty() ? "" : ", " + data, target, std::strerror(err));
    if (err == EPERM || err == EACCES) message = std::string(kPrivileged) + " (" + message + ")";
    return Error{message};
  }
  bool is_mount_point(const std::string& path) override {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    const auto points = parse_mount_points(text.str());
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(path, ec).string();
    return std::find(points.begin(), points.end(), ec ? path : canonical) != points.end();
  }
};

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{fmt::format("cannot read {}: {}", path, std::strerror(errno))};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines "ID:CONTROLLERS:PATH" of /proc/PID/cgroup.
struct CgroupLine {
  std::string controllers;  // "cpu,cpuacct", "name=systemd", "" for the v2 line
  std::string path;
};

std::vector<CgroupLine> parse_cgroup_file(const std::string& text) {
  std::vector<CgroupLine> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    out.push_back({line.substr(first + 1, second - first - 1), line.substr(second + 1)});
  }
  return out;
}

Status make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{fmt::format("cannot create {}: {}", dir, ec.message())};
  return kOk;
}

Status write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{fmt::format("cannot open {}: {}", path, std::strerror(errno))};
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return Error{fmt::format("cannot write \"{}\" to {}: {}", text, path, std::strerror(err))};
  return kOk;
}

Result<InitSteps> setup_v1(const CgroupTree& tree, MountOps& mounts) {
  InitSteps steps;
  auto listed = read_text_file(tree.proc + "/1/cgroup");
  if (!listed) return listed.error();
  if (!mounts.is_mount_point(tree.cgroup_root)) {
    if (auto made = make_dir(tree.cgroup_root); !made) return made.error();
    if (auto m = mounts.mount("cgroup", tree.cgroup_root, "tmpfs", 0, "uid=0,gid=0,mode=0755"); !m)
      return m.error();
    steps.push_back("mounted a tmpfs at " + tree.cgroup_root);
  }
  for (const auto& line : parse_cgroup_file(listed.value())) {
    if (line.controllers.empty()) continue;  // the v2 line of a hybrid layout
    const bool named = line.controllers.rfind("name=", 0) == 0;
    const std::string dir =
        tree.cgroup_root + "/" + (named ? line.controllers.substr(5) : line.controllers);
    if (!mounts.is_mount_point(dir)) {
      if (auto made = make_dir(dir); !made) return made.error();
      const std::string options = named ? "none," + line.controllers : line.controllers;
      if (auto m = mounts.mount("cgroup", dir, "cgroup", 0, options); !m) return m.error();
      steps.push_back(fmt::format("mounted the cgroup hierarchy {} at {}", line.controllers, dir));
    }
    // "cpu,cpuacct": dockerd and the kubelet look for cpu and cpuacct too.
    if (line.controllers.find(',') == std::string::npos || named) continue;
    std::istringstream each(line.controllers);
    for (std::string controller; std::getline(each, controller, ',');) {
      const std::string link = tree.cgroup_root + "/" + controller;
      std::error_code ec;
      if (fs::exists(fs::symlink_status(link, ec))) continue;
      fs::create_directory_symlink(line.controllers, link, ec);
      if (ec) return Error{fmt::format("cannot link {}: {}", link, ec.message())};
      steps.push_back(fmt::format("linked {} to {}", link, line.controllers));
    }
  }
  return steps;
}

Result<InitSteps> setup_v2(const CgroupTree& tree) {
  InitSteps steps;
  // Our own group: the root of the container's cgroup namespace, or where we were put.
  auto self = read_text_file(tree.proc + "/self/cgroup");
  if (!self) return self.error();
  std::string own_path = "/";
  for (const auto& line : parse_cgroup_file(self.value()))
    if (line.controllers.empty()) own_path = line.path;
  const std::string own = tree.cgroup_root + (own_path == "/" ? "" : own_path);
  const std::string init = own + "/init";

  auto procs = read_text_file(own + "/cgroup.procs");
  if (!procs) return procs.error();
  std::istringstream pids(procs.value());
  std::vector<std::string> to_move;
  for (std::string pid; std::getline(pids, pid);)
    if (!pid.empty()) to_move.push_back(pid);
  if (!to_move.empty()) {
    if (auto made = make_dir(init); !made) return made.error();
    const int fd = ::open((init + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Error{
          fmt::format("{}: cannot open {}/cgroup.procs: {}",
                      err == EACCES || err == EROFS || err == EPERM ? kPrivileged : "cgroup v2",
                      init, std::strerror(err))};
    }
    int moved = 0;
    for (const auto& pid : to_move) {
      // One pid per write; a process that ended meanwhile (ESRCH) is no matter.
      if (::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size())) {
        ++moved;
      } else if (errno != ESRCH) {
        const int err = errno;
        ::close(fd);
        return Error{
            fmt::format("cannot move process {} into {}: {}", pid, init, std::strerror(err))};
      }
    }
    ::close(fd);
    steps.push_back(fmt::format("moved {} processes into {}", moved, init));
  }

  auto controllers = read_text_file(own + "/cgroup.controllers");
  if (!controllers) return controllers.error();
  std::istringstream names(controllers.value());
  std::string enable;
  for (std::string name; names >> name;) enable += (enable.empty() ? "+" : " +") + name;
  if (!enable.empty()) {
    if (auto w = write_text(own + "/cgroup.subtree_control", enable); !w) return w.error();
    steps.push_back(fmt::format("enabled {} in {}/cgroup.subtree_control", enable, own));
  }
  return steps;
}

}  // namespace

MountOps& system_mounts() {
  static SystemMounts mounts;
  return mounts;
}

Result<InitSteps> setup_cgroups(const CgroupTree& tree, MountOps& mounts) {
  std::error_code ec;
  if (fs::exists(tree.cgroup_root + "/cgroup.controllers", ec)) return setup_v2(tree);
  // No cgroup file system at all: v2 only when PID 1 lists nothing but the v2 line.
  if (!mounts.is_mount_point(tree.cgroup_root)) {
    auto listed = read_text_file(tree.proc + "/1/cgroup");
    if (!listed) return listed.error();
    const auto lines = parse_cgroup_file(listed.value());
    const bool v2_only = std::all_of(lines.begin(), lines.end(),
                                     [](const CgroupLine& l) { return l.controllers.empty(); });
    if (v2_only && !lines.empty()) {
      if (auto made = make_dir(tree.cgroup_root); !made) return made.error();
      if (auto m = mounts.mount("cgroup2", tree.cgroup_root, "cgroup2", 0, ""); !m)
        return m.error();
      auto rest = setup_v2(tree);
      if (!rest) return rest.error();
      rest.value().insert(rest.value().begin(), "mounted cgroup2 at " + tree.cgroup_root);
      return rest;
    }
  }
  return setup_v1(tree, mounts);
}

Status make_root_shared(MountOps& mounts) {
  return mounts.mount("none", "/", "", MS_REC | MS_SHARED, "");
}

Status set_host_name(const std::string& name) {
  if (::sethostname(name.c_str(), name.size()) == 0) return kOk;
  return Error{fmt::format("cannot set the host name to {}: {}", name, std::strerror(errno))};
}

}  // namespace kna
