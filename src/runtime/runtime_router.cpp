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

}  // namespace kna
