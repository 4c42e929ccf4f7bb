#include "core/request_count.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace kna {

namespace {

struct Counts {
  std::mutex mu;
  std::map<std::pair<std::string, RequestKind>, std::uint64_t> by_target;
};

Counts& counts() {
  static Counts c;
  return c;
}

}  // namespace

const char* to_string(RequestKind kind) {
  return kind == RequestKind::health ? "health" : "api";
}

void count_request(std::string_view target, RequestKind kind) {
  auto& c = counts();
  std::lock_guard lock(c.mu);
  ++c.by_target[{std::string(target), kind}];
}

std::vector<RequestCount> request_counts() {
  auto& c = counts();
  std::lock_guard lock(c.mu);
  std::vector<RequestCount> out;
  for (const auto& [key, n] : c.by_target) out.push_back({key.first, key.second, n});
  return out;
}

}  // namespace kna
