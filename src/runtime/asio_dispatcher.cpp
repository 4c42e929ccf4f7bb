#include "runtime/asio_dispatcher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kna {

struct AsioDispatcher::Timers {
  TimerId last_id{0};
  bool alive{true};
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> pending;
};

AsioDispatcher::AsioDispatcher(boost::asio::io_context& io)
    : io_(io), timers_(std::make_shared<Timers>()) {}

AsioDispatcher::~AsioDispatcher() {
  timers_->alive = false;
  for (auto& [id, timer] : timers_->pending) timer->cancel();
  // The handlers still own their timers' callbacks; the timers themselves must not outlive the
  // io_context they belong to, so they go now (cancel has already queued their handlers).
  timers_->pending.clear();
}

TimePoint AsioDispatcher::now() const {
  return SteadyClock::now();
}

WallTime AsioDispatcher::wall_now() const {
  return WallClock::now();
}

Dispatcher::TimerId AsioDispatcher::call_after(Duration delay, std::function<void()> fn) {
  const TimerId id = ++timers_->last_id;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(delay);
  timer->async_wait([timers = timers_, id, fn = std::move(fn)](const boost::system::error_code&) {
    // A timer cancelled after it expired still completes without an error: the map decides.
    if (!timers->alive || timers->pending.erase(id) == 0) return;
    fn();
  });
  timers_->pending.emplace(id, std::move(timer));
  return id;
}

void AsioDispatcher::cancel(TimerId id) {
  auto it = timers_->pending.find(id);
  if (it == timers_->pending.end()) return;
  it->second->cancel();
  timers_->pending.erase(it);
}

void AsioDispatcher::post(std::function<void()> fn) {
  boost::asio::post(io_, std::move(fn));
}

}  // namespace kna
