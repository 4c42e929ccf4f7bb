#include "support/fake_runtime.hpp"

#include <csignal>
#include <utility>

#include <gtest/gtest.h>

namespace kna::test {

struct FakeRuntime::State {
  struct Entry {
    Launch seen;
    LaunchDone done;
    ExitCallback on_exit;
  };
  Dispatcher* dispatcher{nullptr};
  std::vector<Launch> launches;  // the public view, kept in step with entries
  std::vector<Entry> entries;
  std::vector<std::string> stop_order;
  bool auto_launch{false};
  bool auto_stop{false};

  void sync(std::size_t i) { launches[i] = entries[i].seen; }

  void deliver_exit(std::size_t i, ExitStatus status) {
    auto& e = entries[i];
    e.seen.phase = Phase::exited;
    e.seen.exit = status;
    sync(i);
    dispatcher->post([cb = std::move(e.on_exit), status] { cb(status); });
  }
};

namespace {

class FakeWorkload : public Workload {
 public:
  FakeWorkload(std::shared_ptr<FakeRuntime::State> state, std::size_t index, int pid)
      : state_(std::move(state)), index_(index), pid_(pid) {}

  std::string id() const override { return "pid " + std::to_string(pid_); }
  std::optional<int> pid() const override { return pid_; }

  void stop(Millis timeout) override {
    auto& e = state_->entries[index_];
    if (e.seen.stop_requests++ == 0) {
      e.seen.stop_timeout = timeout;
      state_->stop_order.push_back(e.seen.spec.name);
    }
    state_->sync(index_);
    if (state_->auto_stop && e.seen.phase == FakeRuntime::Phase::running) {
      ExitStatus status;
      status.cause = ExitStatus::Cause::terminated;
      state_->deliver_exit(index_, status);
    }
  }

 private:
  std::shared_ptr<FakeRuntime::State> state_;
  std::size_t index_;
  int pid_;
};

}  // namespace

FakeRuntime::FakeRuntime(Dispatcher& dispatcher)
    : dispatcher_(dispatcher), state_(std::make_shared<State>()) {
  state_->dispatcher = &dispatcher_;
}

FakeRuntime::~FakeRuntime() = default;

void FakeRuntime::launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  const std::size_t i = state_->entries.size();
  Launch seen;
  seen.index = i;
  seen.spec = spec;
  seen.pid = 1000 + static_cast<int>(i);
  state_->entries.push_back({seen, std::move(done), std::move(on_exit)});
  state_->launches.push_back(seen);
  if (state_->auto_launch) complete_launch_at(i);
}

void FakeRuntime::adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  const std::size_t i = state_->entries.size();
  launch(spec, std::move(done), std::move(on_exit));
  state_->entries[i].seen.adopted = true;
  state_->launches[i].adopted = true;
}

void FakeRuntime::cancel(const std::string& stage) {
  // Only recorded: the test decides how the cancelled launch ends (fail_launch or complete).
  for (std::size_t i = state_->entries.size(); i-- > 0;) {
    if (state_->entries[i].seen.spec.name != stage) continue;
    if (state_->entries[i].seen.phase == Phase::pending) {
      ++state_->entries[i].seen.cancel_requests;
      ++state_->launches[i].cancel_requests;
    }
    return;
  }
}

void FakeRuntime::set_auto_launch(bool on) {
  state_->auto_launch = on;
}
void FakeRuntime::set_auto_stop(bool on) {
  state_->auto_stop = on;
}

void FakeRuntime::complete_launch_at(std::size_t index) {
  if (index >= state_->entries.size() || state_->entries[index].seen.phase != Phase::pending) {
    ADD_FAILURE() << "FakeRuntime: launch " << index << " is not pending";
    return;
  }
  auto& e = state_->entries[index];
  e.seen.phase = Phase::running;
  state_->sync(index);
  // LaunchDone takes a unique_ptr; the shared holder only makes the posted lambda copyable.
  auto holder = std::make_shared<std::unique_ptr<Workload>>(
      std::make_unique<FakeWorkload>(state_, index, e.seen.pid));
  dispatcher_.post([cb = std::move(e.done), holder] { cb(std::move(*holder)); });
}

void FakeRuntime::fail_launch_at(std::size_t index, const std::string& message) {
  if (index >= state_->entries.size() || state_->entries[index].seen.phase != Phase::pending) {
    ADD_FAILURE() << "FakeRuntime: launch " << index << " is not pending";
    return;
  }
  auto& e = state_->entries[index];
  e.seen.phase = Phase::failed;
  state_->sync(index);
  dispatcher_.post([cb = std::move(e.done), message] { cb(Error{message}); });
}

void FakeRuntime::exit_at(std::size_t index, ExitStatus status) {
  if (index >= state_->entries.size() || state_->entries[index].seen.phase != Phase::running) {
    ADD_FAILURE() << "FakeRuntime: launch " << index << " has no running workload";
    return;
  }
  state_->deliver_exit(index, std::move(status));
}

void FakeRuntime::complete_stop_at(std::size_t index, ExitStatus::Cause cause) {
  if (index >= state_->entries.size() || state_->entries[index].seen.stop_requests == 0) {
    ADD_FAILURE() << "FakeRuntime: launch " << index << " was not asked to stop";
    return;
  }
  ExitStatus status;
  status.cause = cause;
  if (cause == ExitStatus::Cause::killed) {
    status.signaled = true;
    status.code = SIGKILL;
  }
  exit_at(index, status);
}

void FakeRuntime::complete_launch(const std::string& stage) {
  if (auto i = latest(stage)) complete_launch_at(*i);
}
void FakeRuntime::fail_launch(const std::string& stage, const std::string& message) {
  if (auto i = latest(stage)) fail_launch_at(*i, message);
}
void FakeRuntime::exit(const std::string& stage, ExitStatus status) {
  if (auto i = latest(stage)) exit_at(*i, std::move(status));
}
void FakeRuntime::complete_stop(const std::string& stage, ExitStatus::Cause cause) {
  if (auto i = latest(stage)) complete_stop_at(*i, cause);
}

const std::vector<FakeRuntime::Launch>& FakeRuntime::launches() const {
  return state_->launches;
}

const FakeRuntime::Launch& FakeRuntime::launch_record(std::size_t index) const {
  return state_->launches.at(index);
}

std::optional<std::size_t> FakeRuntime::latest(const std::string& stage) const {
  for (std::size_t i = state_->launches.size(); i-- > 0;)
    if (state_->launches[i].spec.name == stage) return i;
  ADD_FAILURE() << "FakeRuntime: stage '" << stage << "' was never launched";
  return std::nullopt;
}

std::size_t FakeRuntime::launch_count(const std::string& stage) const {
  std::size_t n = 0;
  for (const auto& l : state_->launches)
    if (l.spec.name == stage) ++n;
  return n;
}

std::vector<std::string> FakeRuntime::launch_order() const {
  std::vector<std::string> names;
  for (const auto& l : state_->launches) names.push_back(l.spec.name);
  return names;
}

std::vector<std::string> FakeRuntime::stop_order() const {
  return state_->stop_order;
}

std::size_t FakeRuntime::live_workloads() const {
  std::size_t n = 0;
  for (const auto& l : state_->launches)
    if (l.phase == Phase::running) ++n;
  return n;
}

ExitStatus exit_code(int code) {
  ExitStatus s;
  s.code = code;
  return s;
}

ExitStatus killed_by(int signo) {
  ExitStatus s;
  s.signaled = true;
  s.code = signo;
  return s;
}

}  // namespace kna::test
