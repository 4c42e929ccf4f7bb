// `kube-node-agent reset`: the actions, in order — refuse while an agent answers; stop the
// agent's host processes; per dockerd (main, then bootstrap) remove the node's containers while it
// still answers, stop it, then the containerd and shims it leaves; unmount; delete links; remove
// files; prune the folders left empty.

#include "app/reset.hpp"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "api/client.hpp"
#include "app/reset_proc.hpp"
#include "clients/docker_client.hpp"
#include "kna/catalogue.hpp"
#include "kna/config_load.hpp"
#include "platform/atomic_file.hpp"
#include "platform/boot_id.hpp"
#include "platform/net_links.hpp"
#include "runtime/pidfile.hpp"
#include "runtime/process_record.hpp"
#include "stages/dockerd.hpp"

namespace kna::app {

namespace {

namespace fs = std::filesystem;

// The pod label dockershim, cri-dockerd (and the test kubelet) put on a pod's containers.
constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";

// Collects what was undone and what could not be, printing each as it happens.
class Report {
 public:
  Report(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}
  void did(const std::string& line) {
    out_ << line << "\n" << std::flush;
    ++done_;
  }
  void note(const std::string& line) { out_ << line << "\n" << std::flush; }
  void failed(const std::string& line) {
    err_ << "kube-node-agent: could not undo: " << line << "\n" << std::flush;
    failures_.push_back(line);
  }
  int done() const { return done_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  std::ostream& out_;
  std::ostream& err_;
  int done_{0};
  std::vector<std::string> failures_;
};

Millis stop_budget(const Config& cfg, const std::string& stage) {
  auto it = cfg.stages.find(stage);
  return it == cfg.stages.end() ? Millis{10'000} : it->second.stop_timeout;
}

// "stopped dockerd pid 123 (bootstrap-docker)"
void report_stop(Report& report, Stopped how, int pid, const std::string& program,
                 const std::string& context) {
  const std::string who = program + " pid " + std::to_string(pid) + " (" + context + ")";
  switch (how) {
    case Stopped::gone:
      return;
    case Stopped::terminated:
      report.did("stopped " + who);
      return;
    case Stopped::killed:
      report.did("stopped " + who + " with SIGKILL");
      return;
    case Stopped::survived:
      report.failed(who + ": it survived SIGKILL");
      return;
  }
}

// --- host processes of the stages (kube-proxy, a kubelet or flanneld run as processes)

void stop_stage_processes(const Config& cfg, const ResetTargets& targets,
                          const ResetOptions& options, Report& report) {
  const std::string dir = cfg.paths.run_dir + "/processes";
  std::vector<std::string> stages = targets.process_stages;
  // A stage recorded but no longer planned (kube-proxy moved into a container) is stopped too; the
  // dockerds are stopped after their containers are removed, below.
  for (const auto& s : recorded_stages(dir))
    if (std::find(stages.begin(), stages.end(), s) == stages.end() && s != kStageMainDocker &&
        s != kStageBootstrapDocker)
      stages.push_back(s);
  const auto boot = boot_id();
  if (!boot) return;  // records are kept only with a boot id
  for (const auto& stage : stages) {
    const RecordCheck check = check_process_record(dir, stage, boot.value());
    if (check.kind != RecordCheck::Kind::ours) continue;
    const int pid = check.record.pid;
    const std::string program = program_of(pid);
    report_stop(report, stop_process(pid, SIGTERM, stop_budget(cfg, stage), options.kill_wait), pid,
                program, stage);
  }
}

// --- the docker daemons

// The pids of this dockerd: its pid file and its record when they prove it is ours, and any
// process whose command line names its socket, exec root or data root and that carries the
// agent's stage marker (a dockerd the agent did not start is never stopped: with default paths
// the distribution's dockerd uses the same socket and folders).
std::vector<int> dockerd_pids(const Config& cfg, const ResetDockerd& d) {
  std::set<int> pids;
  const PidfileCheck file = inspect_pidfile(d.pidfile, d.stage);
  if (file.kind == PidfileCheck::Kind::ours) pids.insert(file.pid);
  if (const auto boot = boot_id()) {
    const RecordCheck record =
        check_process_record(cfg.paths.run_dir + "/processes", d.stage, boot.value());
    if (record.kind == RecordCheck::Kind::ours) pids.insert(record.record.pid);
  }
  for (int pid : all_pids()) {
    if (pid == ::getpid() || pids.count(pid) != 0) continue;
    if (is_dockerd_of(cmdline_of(pid), d.socket, d.exec_root, d.data_root) &&
        has_stage_marker(pid, d.stage))
      pids.insert(pid);
  }
  std::erase_if(pids, [](int pid) { return !process_alive(pid); });
  return {pids.begin(), pids.end()};
}

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

// While the daemon answers: removes (forced: running ones are killed) every container the agent
// made and then, in the main daemon, every container of a pod (after the kubelet, which would
// make them anew). True when it answered.
bool remove_containers(const ResetDockerd& d, Report& report) {
  DockerClientOptions o;
  o.socket_path = d.socket;
  o.connect_timeout = Millis{2'000};
  o.read_timeout = Millis{30'000};
  DockerClient docker(o);
  try {
    docker.ping();
  } catch (const std::exception&) {  // DockerError: no daemon there, or none that answers
    return false;
  }
  int left = 0;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<ContainerSummary> all;
    try {
      all = docker.list_containers({}, true);
    } catch (const std::exception& e) {
      report.failed("the containers of " + d.stage + ": " + e.what());
      return true;
    }
    left = 0;
    for (const auto& c : all) {
      const auto agent = c.labels.find(kLabelAgent);
      const bool ours = agent != c.labels.end() && agent->second == "true";
      const bool pod = d.runs_pods && c.labels.count(kPodNameLabel) != 0;
      const std::string name = c.names.empty() ? short_id(c.id) : c.names.front();
      if (!ours && !(pod && pass == 1)) {
        left += pod ? 0 : 1;
        continue;
      }
      try {
        docker.remove_container(c.id, true);
        report.did("removed container " + name + " (" + short_id(c.id) + ", " + c.state +
                   ") from " + d.stage);
      } catch (const std::exception& e) {
        report.failed("container " + name + " in " + d.stage + ": " + e.what());
      }
    }
  }
  if (left > 0)
    report.note(d.stage + " holds " + std::to_string(left) +
                " container(s) neither the agent's nor a pod's: left in " + d.data_root +
                " (stopped with the daemon)");
  return true;
}

// Containers a dockerd that is gone left in its data root: they cannot run without it.
void note_orphan_containers(const ResetDockerd& d, bool data, Report& report) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator(d.data_root + "/containers", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  if (n == 0) return;
  report.note(d.stage + " is not running: its " + std::to_string(n) + " container(s) in " +
              d.data_root + " cannot run without it" +
              (data ? " and go with the data root" : "; reset --data removes them"));
}

// A dockerd with live-restore on leaves its containers running when it stops: turn it off first
// (what the agent does before an ordered stop), so that the daemon ends whatever is left.
void live_restore_off(const ResetDockerd& d, const std::vector<int>& pids) {
  std::error_code ec;
  if (!fs::exists(d.daemon_json, ec)) return;
  if (!write_file_atomically(d.daemon_json, stages::kLiveRestoreOff, 0644)) return;
  for (int pid : pids) ::kill(pid, SIGHUP);
  std::this_thread::sleep_for(Millis{500});  // dockerd reloads asynchronously
}

// containerd and the shims under the daemon's exec root, once the daemon is gone. A shim still
// alive means containers that outlived a killed daemon: their processes go first.
void stop_helpers(const ResetDockerd& d, const ResetOptions& options, Report& report) {
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int> helpers;
    for (int pid : all_pids())
      if (pid != ::getpid() && process_alive(pid) &&
          names_path_under(cmdline_of(pid), d.exec_root) && has_stage_marker(pid, d.stage))
        helpers.push_back(pid);
    if (helpers.empty()) return;
    for (int pid : helpers) {
      const std::string program = program_of(pid);
      if (program.find("shim") != std::string::npos) {
        for (int child : children_of(pid)) {
          const std::string child_program = program_of(child);
          report_stop(report, stop_process(child, SIGKILL, options.kill_wait, options.kill_wait),
                      child, child_program, "a container of " + d.stage);
        }
      }
      report_stop(report, stop_process(pid, SIGTERM, Millis{5'000}, options.kill_wait), pid,
                  program, d.stage);
    }
  }
}

void reset_dockerd(const Config& cfg, const ResetDockerd& d, const ResetOptions& options,
                   Report& report) {
  const std::vector<int> pids = dockerd_pids(cfg, d);
  const bool answered = remove_containers(d, report);
  if (!answered && pids.empty()) note_orphan_containers(d, options.data, report);
  if (answered) live_restore_off(d, pids);
  for (int pid : pids) {
    const std::string program = program_of(pid);
    report_stop(report, stop_process(pid, SIGTERM, stop_budget(cfg, d.stage), options.kill_wait),
                pid, program, d.stage);
  }
  stop_helpers(d, options, report);
}

bool answers(const std::string& socket) {
  DockerClientOptions o;
  o.socket_path = socket;
  o.connect_timeout = Millis{1'000};
  o.read_timeout = Millis{2'000};
  try {
    DockerClient(o).ping();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A daemon answers on the socket that is not the agent's (none of ours runs, or it still answers
// after ours was stopped): the distribution's dockerd on the default paths. Its containers,
// socket, pid file, folders and the mounts under them are left alone, and reset says so.
void spare_foreign_dockerd(const ResetDockerd& d, ResetTargets& targets, Report& report) {
  auto spared = [&](const std::string& path) {
    return path == d.socket || path == d.pidfile || path_is_under(path, d.data_root) ||
           path_is_under(path, d.exec_root);
  };
  std::erase_if(targets.remove, spared);
  std::erase_if(targets.prune, spared);
  std::erase_if(targets.mount_roots, spared);
  std::erase_if(targets.own_mounts, spared);
  report.failed("a dockerd the agent did not start answers on " + d.socket + ": " + d.data_root +
                ", " + d.exec_root + " and their mounts are left alone; stop that daemon first");
}

// --- mounts, links, files

std::string mountinfo_now() {
  return read_file("/proc/self/mountinfo").value_or("");
}

void unmount_all(const ResetTargets& targets, Report& report) {
  // Unmounting one point can take others with it (propagation) or reveal one underneath: go
  // again until a pass finds nothing.
  std::set<std::string> failed;
  for (int pass = 0; pass < 4; ++pass) {
    const auto points = mounts_to_unmount(mountinfo_now(), targets.mount_roots, targets.own_mounts);
    bool progress = false;
    for (const auto& point : points) {
      if (failed.count(point) != 0) continue;
      if (::umount2(point.c_str(), 0) == 0) {
        report.did("unmounted " + point);
        progress = true;
        continue;
      }
      const int first = errno;
      if (first == EINVAL || first == ENOENT) continue;  // gone with another one meanwhile
      if (::umount2(point.c_str(), MNT_DETACH) == 0) {
        report.did("unmounted " + point + " (detached: " + std::strerror(first) + ")");
        progress = true;
        continue;
      }
      failed.insert(point);
      report.failed("mount " + point + ": " + std::strerror(errno));
    }
    if (!progress) break;
  }
}

void delete_links(const ResetTargets& targets, Report& report) {
  for (const auto& link : targets.links) {
    if (!link_exists(link)) continue;
    if (auto deleted = delete_link(link); deleted)
      report.did("deleted link " + link);
    else
      report.failed("link " + link + ": " + deleted.error().message);
  }
}

// The first mount point at or below `path`, if any: removing through it would delete what the
// mounted filesystem holds.
std::string mount_below(const std::string& path, const std::string& mountinfo) {
  for (const auto& point : mounts_to_unmount(mountinfo, {path}, {path})) return point;
  return {};
}

void remove_files(const ResetTargets& targets, Report& report) {
  const std::string mounts = mountinfo_now();
  for (const auto& path : targets.remove) {
    std::error_code ec;
    const auto st = fs::symlink_status(path, ec);
    if (ec || !fs::exists(st)) continue;
    if (fs::is_directory(st)) {
      if (auto point = mount_below(path, mounts); !point.empty()) {
        report.failed(path + ": " + point + " is still mounted");
        continue;
      }
    }
    fs::remove_all(path, ec);
    if (ec)
      report.failed(path + ": " + ec.message());
    else
      report.did("removed " + path);
  }
  for (const auto& dir : targets.prune) {
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(dir, ec)) || !fs::is_empty(dir, ec) || ec) continue;
    if (fs::remove(dir, ec))
      report.did("removed empty folder " + dir);
    else if (ec)
      report.failed(dir + ": " + ec.message());
  }
}

}  // namespace

int run_reset(const Config& cfg, const ResetOptions& options, std::ostream& out,
              std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  if (auto agent = api::fetch_status(cfg.paths.status_socket, options.agent_timeout); agent) {
    err << "kube-node-agent: an agent (pid " << agent.value().pid
        << ") runs on this configuration: stop it first (systemctl stop kube-node-agent / "
           "SIGTERM)\n";
    return kExitUnavailable;
  }
  ResetTargets targets = reset_targets(cfg, options.data);
  Report report(out, err);
  stop_stage_processes(cfg, targets, options, report);
  const auto dockerds = targets.dockerds;
  for (const auto& d : dockerds) {
    if (dockerd_pids(cfg, d).empty() && answers(d.socket)) {
      spare_foreign_dockerd(d, targets, report);
      continue;
    }
    reset_dockerd(cfg, d, options, report);
    if (answers(d.socket)) spare_foreign_dockerd(d, targets, report);
  }
  unmount_all(targets, report);
  delete_links(targets, report);
  remove_files(targets, report);

  const auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  if (report.done() == 0 && report.failures().empty()) {
    out << "nothing to undo\n";
    return 0;
  }
  out << "undid " << report.done() << " thing(s) in " << took.count() << " ms";
  if (!report.failures().empty()) out << "; " << report.failures().size() << " could not be undone";
  out << "\n";
  return report.failures().empty() ? 0 : kExitResetIncomplete;
}

}  // namespace kna::app
