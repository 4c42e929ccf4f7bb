#include "app/preparing_runtime.hpp"

#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/thread_name.hpp"

namespace kna::app {

struct PreparingRuntime::Pool {
  Pool() {
    name_pool_threads(
        [this](std::function<void()> fn) { boost::asio::post(threads, std::move(fn)); }, 1,
        "kna-prepare");
  }
  boost::asio::thread_pool threads{1};
};

// Loop thread only, but for the `cancelled` flags, which the worker reads between steps. Shared
// with the results the worker posts, so that one arriving after the decorator is gone finds
// `inner` null and is dropped.
struct PreparingRuntime::State {
  struct Pending {
    std::string stage;
    bool adopt{false};
    StageSpec spec;
    LaunchDone done;
    ExitCallback on_exit;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };

  explicit State(Runtime& r) : inner(&r) {}

  // The worker's result for launch `id`: launch it, or tell why not.
  void finish(std::uint64_t id, Status prepared) {
    if (inner == nullptr) return;
    const auto it = pending.find(id);
    if (it == pending.end()) return;
    Pending p = std::move(it->second);
    pending.erase(it);
    if (p.cancelled->load()) {
      p.done(Error{"cancelled while preparing the host"});
      return;
    }
    if (!prepared) {
      p.done(prepared.error());
      return;
    }
    // On the loop, not inside launch(): a throw here would reach the loop, so it becomes the
    // launch's error (the supervisor catches those of a synchronous hand-over itself).
    auto report = std::make_shared<LaunchDone>(std::move(p.done));
    try {
      hand_over(
          p.adopt, p.spec,
          [report](Result<std::unique_ptr<Workload>> r) { (*report)(std::move(r)); },
          std::move(p.on_exit));
    } catch (const std::exception& e) {
      (*report)(Error{std::string("launch failed: ") + e.what()});
    }
  }

  void hand_over(bool adopt, const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
    if (adopt)
      inner->adopt(spec, std::move(done), std::move(on_exit));
    else
      inner->launch(spec, std::move(done), std::move(on_exit));
  }

  Runtime* inner;  // null once the decorator is gone
  std::map<std::uint64_t, Pending> pending;
  std::uint64_t last_id{0};
};

PreparingRuntime::PreparingRuntime(Dispatcher& dispatcher, Runtime& inner, StepRunner run_step,
                                   Offload offload)
    : state_(std::make_shared<State>(inner)),
      run_step_(std::move(run_step)),
      dispatcher_(dispatcher),
      offload_(std::move(offload)) {
  if (!offload_) {
    pool_ = std::make_unique<Pool>();
    offload_ = [pool = pool_.get()](std::function<void()> work) {
      boost::asio::post(pool->threads, std::move(work));
    };
  }
}

PreparingRuntime::~PreparingRuntime() {
  state_->inner = nullptr;
  state_->pending.clear();
  if (pool_) pool_->threads.join();
}

void PreparingRuntime::launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  start(false, spec, std::move(done), std::move(on_exit));
}

void PreparingRuntime::adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  start(true, spec, std::move(done), std::move(on_exit));
}

void PreparingRuntime::start(bool adopt, const StageSpec& spec, LaunchDone done,
                             ExitCallback on_exit) {
  if (spec.prepare.empty()) {
    state_->hand_over(adopt, spec, std::move(done), std::move(on_exit));
    return;
  }
  const std::uint64_t id = ++state_->last_id;
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  state_->pending.emplace(
      id, State::Pending{spec.name, adopt, spec, std::move(done), std::move(on_exit), cancelled});
  // The worker gets copies of what it needs and never touches the decorator.
  offload_([state = state_, id, stage = spec.name, steps = spec.prepare, run = run_step_, cancelled,
            &dispatcher = dispatcher_]() mutable {
    Status prepared = kOk;
    for (const auto& step : steps) {
      if (cancelled->load()) break;
      try {
        prepared = run(stage, step);
      } catch (const std::exception& e) {
        prepared = Error{std::string("cannot prepare the host: ") + e.what()};
      }
      if (!prepared) break;
    }
    dispatcher.post([state = std::move(state), id, prepared = std::move(prepared)]() mutable {
      state->finish(id, std::move(prepared));
    });
  });
}

void PreparingRuntime::cancel(const std::string& stage) {
  bool preparing = false;
  for (auto& [id, p] : state_->pending) {
    if (p.stage != stage) continue;
    p.cancelled->store(true);
    preparing = true;
  }
  if (!preparing) state_->inner->cancel(stage);
}

void PreparingRuntime::recover(const std::vector<StageSpec>& planned, RecoverDone done) {
  state_->inner->recover(planned, std::move(done));
}

}  // namespace kna::app
