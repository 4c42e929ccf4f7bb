#pragma once
// The kubelet stand-in's static pods: every second it reads the manifest folder and makes the
// containers in dockerd match it: creates missing ones, restarts dead ones with back-off, removes
// those whose manifest changed or went away, and adopts the ones a previous run left.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "kube/kubelet_manifest.hpp"

namespace kna {
class DockerClient;
}

namespace kna::standins {

class StopFlag;

class StaticPods {
 public:
  // `docker` must outlive this object.
  StaticPods(std::string manifest_dir, std::string node, std::string version, DockerClient& docker);

  void run(const StopFlag& stop);  // sync() every second until stop
  void sync();                     // one pass; logs problems, never throws

 private:
  using Clock = std::chrono::steady_clock;

  // Restart back-off: 1 s doubling to 10 s, reset after 10 s up. The real kubelet starts at 10 s
  // and caps at 5 min; shorter here so that tests and the demo recover quickly.
  static constexpr std::chrono::milliseconds kFirstDelay{1'000};
  static constexpr std::chrono::milliseconds kMaxDelay{10'000};

  // What the stand-in remembers of one wanted container between passes.
  struct Tracked {
    std::chrono::milliseconds delay{kFirstDelay};  // the next back-off
    std::optional<Clock::time_point> retry;        // no attempt before this
    std::optional<Clock::time_point> started;
    bool known{false};  // seen or started by this run
    bool exit_logged{false};
    bool foreign_logged{false};
  };

  // nullopt when the folder cannot be read (the pass is skipped rather than removing every pod).
  std::optional<std::map<std::string, DesiredContainer>> read_manifests();
  void remove_unwanted(const std::map<std::string, DesiredContainer>& wanted);
  void ensure(const DesiredContainer& want, Tracked& tracked, Clock::time_point now);
  void create(const DesiredContainer& want, Tracked& tracked, Clock::time_point now);
  void start(const DesiredContainer& want, const std::string& id, Tracked& tracked,
             Clock::time_point now);
  static void back_off(Tracked& tracked, Clock::time_point now);

  std::string dir_;
  std::string node_;
  std::string version_;  // the kubelet's
  DockerClient& docker_;
  std::map<std::string, Tracked> tracked_;        // by container name
  std::set<std::string> ignored_files_;           // logged once each
  std::map<std::string, std::string> bad_files_;  // file → the content last reported as bad
  std::string dir_problem_;
  std::string docker_problem_;
};

}  // namespace kna::standins
