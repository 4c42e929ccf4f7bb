#include "core/thread_name.hpp"

#include <pthread.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace kna {

void name_this_thread(const char* name) {
  char shortened[16] = {};
  for (std::size_t i = 0; i + 1 < sizeof shortened && name[i] != '\0'; ++i) shortened[i] = name[i];
  pthread_setname_np(pthread_self(), shortened);
}

void name_pool_threads(const std::function<void(std::function<void()>)>& post, std::size_t threads,
                       const char* name) {
  struct Gate {
    std::mutex mutex;
    std::condition_variable all_named;
    std::size_t named{0};
  };
  auto gate = std::make_shared<Gate>();
  for (std::size_t i = 0; i < threads; ++i) {
    post([gate, threads, name] {
      name_this_thread(name);
      std::unique_lock lock(gate->mutex);
      if (++gate->named == threads) gate->all_named.notify_all();
      gate->all_named.wait(lock, [&] { return gate->named == threads; });
    });
  }
  std::unique_lock lock(gate->mutex);
  gate->all_named.wait(lock, [&] { return gate->named == threads; });
}

}  // namespace kna
