#include "runtime/runtime_router.hpp"

#include <fmt/format.h>

namespace kna {

RuntimeRouter::RuntimeRouter(Dispatcher& dispatcher, Runtime& processes, Runtime* containers)
    : dispatcher_(dispatcher), processes_(processes), containers_(containers) {}

void RuntimeRouter::launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  if (std::holds_alternative<ProcessSpec>(spec.launch)) {
    processes_.launch(spec, std::move(done), std::move(on_exit));
    return;
  }
  if (containers_ != nullptr) {
    containers_->launch(spec, std::move(done), std::move(on_exit));
    return;
  }
  dispatcher_.post([done = std::move(done), stage = spec.name] {
    done(Error{fmt::format("{}: container runtime not available yet", stage)});
  });
}

void RuntimeRouter::adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  if (std::holds_alternative<ProcessSpec>(spec.launch)) {
    processes_.adopt(spec, std::move(done), std::move(on_exit));
    return;
  }
  if (containers_ != nullptr) {
    containers_->adopt(spec, std::move(done), std::move(on_exit));
    return;
  }
  launch(spec, std::move(done), std::move(on_exit));
}

void RuntimeRouter::cancel(const std::string& stage) {
  processes_.cancel(stage);
  if (containers_ != nullptr) containers_->cancel(stage);
}

void RuntimeRouter::recover(const std::vector<StageSpec>& planned, RecoverDone done) {
  processes_.recover(
      planned, [this, planned, done = std::move(done)](RecoveryReport first) mutable {
        if (containers_ == nullptr) return done(std::move(first));
        containers_->recover(planned, [first = std::move(first),
                                       done = std::move(done)](RecoveryReport second) mutable {
          using Field = std::vector<std::string> RecoveryReport::*;
          for (Field field :
               {&RecoveryReport::adoptable, &RecoveryReport::removed, &RecoveryReport::notes}) {
            auto& into = first.*field;
            auto& from = second.*field;
            into.insert(into.end(), from.begin(), from.end());
          }
          done(std::move(first));
        });
      });
}

}  // namespace kna
