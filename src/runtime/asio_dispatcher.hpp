#pragma once
// The real event loop behind the Dispatcher interface: timers and posted work on one
// boost::asio::io_context, run by one thread. The only place that reads the real clocks.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

class AsioDispatcher : public Dispatcher {
 public:
  // `io` must outlive this object; one thread runs it.
  explicit AsioDispatcher(boost::asio::io_context& io);
  ~AsioDispatcher() override;
  AsioDispatcher(const AsioDispatcher&) = delete;
  AsioDispatcher& operator=(const AsioDispatcher&) = delete;

  TimePoint now() const override;
  WallTime wall_now() const override;
  TimerId call_after(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void post(std::function<void()> fn) override;

  boost::asio::io_context& io() { return io_; }

 private:
  struct Timers;
  boost::asio::io_context& io_;
  // Shared with pending timer handlers, which may outlive this object inside the io_context.
  std::shared_ptr<Timers> timers_;
};

}  // namespace kna
