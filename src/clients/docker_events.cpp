#include "clients/docker_events.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clients/docker_json.hpp"
#include "core/thread_name.hpp"
#include "kna/catalogue.hpp"

namespace kna {

std::map<std::string, std::vector<std::string>> DockerEventsOptions::default_filters() {
  return {{"type", {"container"}},
          {"label", {std::string(kLabelAgent) + "=true"}},
          {"event", {"die", "start", "destroy", "oom"}}};
}

DockerEvents::DockerEvents(DockerEventsOptions options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {
  const DockerEndpoint endpoint{options_.socket_path, options_.connect_timeout};
  client_ = options_.connect ? options_.connect(endpoint) : connect_docker(endpoint);
}

DockerEvents::~DockerEvents() {
  stop();
}

void DockerEvents::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    name_this_thread("kna-events");
    run();
  });
}

void DockerEvents::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  client_->stop();  // aborts the stream in flight and any later attempt
  if (thread_.joinable()) thread_.join();
}

bool DockerEvents::wait(Millis delay) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

std::string DockerEvents::query(const std::map<std::string, std::vector<std::string>>& filters,
                                std::int64_t last_time_nano) {
  std::string q;
  if (!filters.empty()) q = "filters=" + docker::encode_filters(filters);
  if (last_time_nano > 0) {
    // since= is inclusive: start one nanosecond after the last event already delivered (a daemon
    // may write any timeNano: the largest one stays as it is).
    const std::int64_t next =
        last_time_nano + (last_time_nano < std::numeric_limits<std::int64_t>::max() ? 1 : 0);
    if (!q.empty()) q += "&";
    q += fmt::format("since={}.{:09}", next / 1'000'000'000, next % 1'000'000'000);
  }
  return q;
}

void DockerEvents::run() {
  const std::string& socket = options_.socket_path;
  Millis backoff = options_.reconnect_initial;
  bool first = true;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    bool opened = false;
    std::string reason;
    docker::LineSplitter splitter;
    try {
      client_->stream_events(
          query(options_.filters, last_time_nano_),
          [&] {
            opened = true;
            connected_ = true;
            ++connections_;
            backoff = options_.reconnect_initial;
            spdlog::debug("docker {}: event stream connected", socket);
            if (callbacks_.on_resync) callbacks_.on_resync(first);
            first = false;
          },
          [&](std::string_view data) {
            for (const auto& line : splitter.feed(data)) {
              auto event = docker::parse_event(line);
              if (!event) {
                spdlog::warn("docker {}: ignored an event line that is not JSON: {:.200}", socket,
                             line);
                continue;
              }
              last_time_nano_ = std::max(last_time_nano_, event->time_nano);
              if (callbacks_.on_event) callbacks_.on_event(*event);
            }
            return true;
          });
      reason = "the daemon ended the event stream";
    } catch (const std::exception& e) {
      reason = e.what();
    }
    connected_ = false;
    if (client_->stopped()) break;
    if (opened) {
      spdlog::warn("docker {}: event stream lost: {}", socket, reason);
      if (callbacks_.on_disconnect) callbacks_.on_disconnect(reason);
      // Soon, not at once: a daemon that accepts and closes at once must not make us spin.
      if (!wait(options_.reconnect_initial)) break;
      continue;
    }
    spdlog::debug("docker {}: cannot watch events, retrying in {}ms: {}", socket, backoff.count(),
                  reason);
    if (!wait(backoff)) break;
    backoff = std::min(backoff * 2, options_.reconnect_cap);
  }
}

}  // namespace kna
