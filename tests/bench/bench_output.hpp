#pragma once
// Figures as one JSON object per line: {"bench": …, "metric": …, "value": …, "unit": …}.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace kna::bench {

inline void emit(const std::string& bench, const std::string& metric, double value,
                 const std::string& unit) {
  std::printf("{\"bench\": \"%s\", \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
              bench.c_str(), metric.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

// The q-quantile (0..1) by nearest rank; 0 for no samples.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

inline void emit_distribution(const std::string& bench, const std::string& name,
                              const std::vector<double>& samples_ms) {
  emit(bench, name + "_p50_ms", quantile(samples_ms, 0.50), "ms");
  emit(bench, name + "_p99_ms", quantile(samples_ms, 0.99), "ms");
  emit(bench, name + "_max_ms", quantile(samples_ms, 1.0), "ms");
}

}  // namespace kna::bench
