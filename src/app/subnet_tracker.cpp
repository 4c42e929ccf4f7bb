#include "app/subnet_tracker.hpp"

#include <spdlog/spdlog.h>

#include "app/facts.hpp"
#include "runtime/file_watch.hpp"

namespace kna::app {
namespace {

std::string describe(const FlannelSubnet& s) {
  return s.subnet + " mtu " + std::to_string(s.mtu);
}

}  // namespace

struct SubnetTracker::Watch {
  Watch(boost::asio::io_context& io, const std::string& dir, std::function<void()> cb)
      : watcher(io, dir, "subnet.env", std::move(cb)) {}
  FileWatcher watcher;
};

SubnetTracker::SubnetTracker(boost::asio::io_context& io, const Config& cfg,
                             std::function<void(const std::string&)> restart_main_docker)
    : cfg_(cfg),
      restart_(std::move(restart_main_docker)),
      watch_(std::make_unique<Watch>(io, cfg.paths.flannel_run_dir, [this] { on_change(); })) {}

SubnetTracker::~SubnetTracker() = default;

Status SubnetTracker::start() {
  return watch_->watcher.start();
}

void SubnetTracker::stop() {
  watch_->watcher.stop();
}

Result<FlannelSubnet> SubnetTracker::subnet_for_launch() {
  auto subnet = read_subnet(cfg_);
  if (!subnet) return subnet.error();
  launched_ = subnet.value();
  return subnet;
}

void SubnetTracker::on_change() {
  auto subnet = read_subnet(cfg_);
  if (!subnet) {
    // flannel's probe marks the stage unready; say it here once, not on every event.
    if (subnet.error().message != last_error_) {
      last_error_ = subnet.error().message;
      spdlog::error("flannel: {}", last_error_);
    }
    return;
  }
  last_error_.clear();
  if (!launched_ || *launched_ == subnet.value()) return;
  const std::string reason =
      "flannel's subnet changed from " + describe(*launched_) + " to " + describe(subnet.value());
  spdlog::warn("main-docker: {}", reason);
  launched_.reset();  // the restart's launch records the new one
  restart_(reason);
}

}  // namespace kna::app
