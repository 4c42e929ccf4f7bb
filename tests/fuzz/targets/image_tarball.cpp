// An airgap tarball (src/runtime/image_tarball.cpp): the tar stream is walked header by header
// for manifest.json or `repositories`; any file gives tags or an Error, never an exception, and the
// reader never reads a byte twice (it seeks over layers).

#include "runtime/image_tarball.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::fuzz::check;
  static kna::fuzz::MemFile file;
  file.write(kna::fuzz::text(data, size));

  const auto tags = kna::read_tarball_tags(file.path());
  if (!tags) {
    check(!tags.error().message.empty(), "a refused tarball says why");
    return 0;
  }
  const auto& found = tags.value();
  check(found.source == "manifest.json" || found.source == "repositories", "tags have a source");
  check(found.bytes_read <= size, "no byte of the tarball is read twice");
  for (const auto& tag : found.repo_tags) kna::normalize_image_ref(tag);
  return 0;
}
