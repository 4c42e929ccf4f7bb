#pragma once
// Which images a `docker save` tarball holds, read from its manifest.json (or the older
// `repositories` file) by walking the tar headers and seeking over the contents, so that the
// airgap folder can be searched without loading a byte of any layer into a daemon.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kna/error.hpp"

namespace kna {

struct TarballTags {
  std::vector<std::string> repo_tags;  // as the tarball writes them, e.g. "kna-test/etcd:3.4"
  std::string source;                  // "manifest.json" or "repositories"
  std::uint64_t bytes_read{0};         // of the file, headers included: shows that it seeks
};

// An error says why the file is no usable tarball (not a tar, truncated, no manifest, bad JSON).
// Blocking file I/O.
Result<TarballTags> read_tarball_tags(const std::string& path);

// The form docker compares image names in: "docker.io/library/x", "library/x" and "x" are one
// name, a missing tag is ":latest". A digest reference keeps its digest and gets no tag.
std::string normalize_image_ref(std::string_view ref);

// read_tarball_tags() cached by path, size and modification time: a replaced tarball is read
// anew. A tarball that cannot be read is logged once. Thread-safe.
class TarballIndex {
 public:
  struct Entry {
    std::string identity;                               // path:size:mtime
    std::optional<std::vector<std::string>> repo_tags;  // nullopt: unknown (unreadable, no tags)
  };

  Entry lookup(const std::filesystem::path& tarball);

  // One per process: the files are the same whichever daemon they are loaded into.
  static TarballIndex& shared();

 private:
  std::mutex mu_;
  std::map<std::string, std::optional<std::vector<std::string>>> cache_;  // identity → tags
};

}  // namespace kna
