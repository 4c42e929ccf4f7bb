#pragma once
// Names the agent's threads, so that `top -H`, /proc/PID/task/*/comm, gdb and
// tests/bench/footprint tell them apart.

#include <cstddef>
#include <functional>

namespace kna {

// Names the calling thread (the kernel keeps 15 characters; "kna-" first by convention).
void name_this_thread(const char* name);

// Names every thread of a pool of `threads` threads that runs the jobs `post` hands it: posts one
// naming job per thread, each holding its thread until all are named, so that no thread takes
// two. Returns once every thread is named.
void name_pool_threads(const std::function<void(std::function<void()>)>& post, std::size_t threads,
                       const char* name);

}  // namespace kna
