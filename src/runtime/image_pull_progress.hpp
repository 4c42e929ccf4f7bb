#pragma once
// Turns a pull's per-layer progress lines into one percentage, and decides when to log it (at most
// once per interval, on the loop's clock), so that "etcd: pulling gcr.io/…: 45%" stays readable.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kna/docker.hpp"
#include "kna/time.hpp"

namespace kna {

class PullProgressTracker {
 public:
  // Takes one progress line; returns the overall percent (0-100) when it changed.
  std::optional<int> update(const PullProgress& line);
  // -1 until some layer's size is known.
  int percent() const { return percent_; }

 private:
  struct Layer {
    std::int64_t current{0};
    std::int64_t total{0};
    bool done{false};
  };
  int compute() const;

  std::map<std::string, Layer> layers_;
  int percent_{-1};
};

// One line of the terminal progress bar: "etcd: pulling img [#########           ] 45%".
std::string progress_bar_line(const std::string& stage, const std::string& image, int percent,
                              int width = 30);

class ProgressThrottle {
 public:
  explicit ProgressThrottle(Millis interval) : interval_(interval) {}
  // True for the first call, then once `interval` has passed since the last true.
  bool allow(TimePoint now);

 private:
  Millis interval_;
  std::optional<TimePoint> last_;
};

}  // namespace kna
