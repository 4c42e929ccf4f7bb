#include "runtime/image_pull_progress.hpp"

namespace kna {

std::string progress_bar_line(const std::string& stage, const std::string& image, int percent,
                              int width) {
  const int clamped = percent < 0 ? 0 : (percent > 100 ? 100 : percent);
  const int filled = clamped * width / 100;
  return stage + ": pulling " + image + " [" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), ' ') + "] " +
         std::to_string(clamped) + "%";
}

std::optional<int> PullProgressTracker::update(const PullProgress& line) {
  if (line.id.empty()) return std::nullopt;  // about the whole image, not a layer
  Layer& layer = layers_[line.id];
  if (line.status == "Downloading" && line.total > 0) {
    layer.current = line.current;
    layer.total = line.total;
  } else if (line.status == "Download complete" || line.status == "Pull complete" ||
             line.status == "Already exists") {
    layer.done = true;
  }
  // "Extracting" also counts up to the layer's size: it would move the download figure backwards.
  const int now = compute();
  if (now < 0 || now == percent_) return std::nullopt;
  percent_ = now;
  return now;
}

int PullProgressTracker::compute() const {
  std::int64_t current = 0;
  std::int64_t total = 0;
  for (const auto& [id, layer] : layers_) {
    if (layer.total <= 0) continue;  // size unknown (yet): cannot weigh it
    total += layer.total;
    current += layer.done ? layer.total : std::min(layer.current, layer.total);
  }
  if (total == 0) return -1;
  return static_cast<int>(current * 100 / total);
}

bool ProgressThrottle::allow(TimePoint now) {
  if (last_ && now - *last_ < interval_) return false;
  last_ = now;
  return true;
}

}  // namespace kna
