#pragma once
// What the fuzz targets (tests/fuzz/targets/*.cpp) share: libFuzzer's entry point, a check that
// aborts (libFuzzer and the corpus replay then report the input as a crash), and the ways a target
// turns its input into what a parser reads: text, chunks of a stream, a file.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace kna::fuzz {

// A property of the code under test does not hold: says which, then aborts.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void check(bool ok, std::string_view what) {
  if (!ok) fail(what);
}

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut the way a socket might deliver it: pieces of 1 to 64 bytes whose sizes follow from
// the input itself, so that a replay cuts it exactly as the fuzzer did.
inline std::vector<std::string_view> chunks(std::string_view input) {
  std::uint32_t state = 2166136261u;  // FNV-1a of the input seeds the cuts
  for (unsigned char c : input) state = (state ^ c) * 16777619u;
  std::vector<std::string_view> out;
  while (!input.empty()) {
    state = state * 1664525u + 1013904223u;
    const std::size_t n = std::min<std::size_t>(input.size(), 1 + (state >> 26));
    out.push_back(input.substr(0, n));
    input.remove_prefix(n);
  }
  return out;
}

// A file for parsers that read a path: a memfd, rewritten for every input, so no input touches the
// disk. One per target process.
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("kna-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) fail("memfd_create failed");
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  // The path that opens this file's current contents.
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

  void write(std::string_view contents) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate of the memfd failed");
    std::size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n =
          ::pwrite(fd_, contents.data() + done, contents.size() - done, static_cast<off_t>(done));
      if (n <= 0) fail("write to the memfd failed");
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
};

// The parsers log what they reject; at millions of inputs that output is only noise.
inline const bool kQuiet = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

}  // namespace kna::fuzz
