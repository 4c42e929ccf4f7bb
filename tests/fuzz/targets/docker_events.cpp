// dockerd's /events stream as DockerEvents reads it (src/clients/docker_events.cpp): the body
// arrives in arbitrary pieces, is split into lines, each line decoded, and the next connection's
// query asks for what follows the newest event seen. However the stream is cut, the lines are the
// same; a line that is not an event is skipped, never a crash.

#include <algorithm>

#include "clients/docker_events.hpp"
#include "clients/docker_json.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::fuzz::check;
  namespace docker = kna::docker;
  const auto input = kna::fuzz::text(data, size);

  docker::LineSplitter whole;
  const auto expected = whole.feed(input);

  docker::LineSplitter splitter;
  std::vector<std::string> lines;
  std::int64_t last_time_nano = 0;
  const auto filters = kna::DockerEventsOptions::default_filters();
  for (const auto chunk : kna::fuzz::chunks(input)) {
    for (auto& line : splitter.feed(chunk)) {
      check(!line.empty() && line.find('\n') == std::string::npos, "a line is one, not empty");
      if (const auto event = docker::parse_event(line)) {
        event->exit_code();
        last_time_nano = std::max(last_time_nano, event->time_nano);
        kna::DockerEvents::query(filters, last_time_nano);
      }
      lines.push_back(std::move(line));
    }
  }
  check(lines == expected, "the lines do not depend on how the stream was cut");
  check(splitter.pending() == whole.pending(), "nor does the unfinished last line");
  return 0;
}
