#pragma once
// Makes sure a container's image is in a daemon before the container is created: already there;
// else loaded from the airgap folder's *.tar, only from the tarball(s) that name it; else pulled.
// One per daemon; blocking, for worker threads; thread-safe.

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kna/docker.hpp"
#include "runtime/image_tarball.hpp"

namespace kna {

enum class ImageSource { present, loaded, pulled };
const char* to_string(ImageSource source);

// What one load_airgap() did with the image folder's tarballs.
struct AirgapLoad {
  int loaded{0};     // given to the daemon now
  int skipped{0};    // the daemon holds every image they name (or, contents unknown, had them once)
  int failed{0};     // the daemon rejected them (now or before), or they did not yield their images
  int retry{0};      // of `failed`: those a next pass tries again (the load itself failed now)
  int elsewhere{0};  // they name only images another daemon runs: not for this one
};

class ImageStore {
 public:
  // `image_dir` may be empty or missing: then nothing is loaded from it. `index` caches which
  // images each tarball holds; it must outlive the store.
  explicit ImageStore(std::string image_dir, TarballIndex& index = TarballIndex::shared())
      : image_dir_(std::move(image_dir)), index_(index) {}

  // Loads only the tarball(s) whose manifest names `image` (docker's name forms are equal:
  // "x" ≡ "docker.io/library/x:latest"); then, if it is still missing, the tarballs whose images
  // are unknown (no readable manifest), each once per daemon; then pulls it. `on_percent` gets
  // the overall pull progress when it changes (from this thread). Throws DockerError:
  // unavailable/timeout as the client threw them, and for an image found nowhere not_found
  // "image X is not present, not in <image_dir>/*.tar and could not be pulled: <why>".
  ImageSource ensure(Docker& client, const std::string& stage, const std::string& image,
                     const std::function<void(int percent)>& on_percent = {});

  // Loads each tarball of image_dir that names an image the daemon lacks (one inspect per name),
  // and each tarball whose images are unknown once per daemon; not a tarball all of whose images
  // are in `elsewhere` (docker's name forms are equal), the images another daemon runs. A tarball
  // the daemon rejects, or after whose load a named image is still missing, is logged and not
  // tried again; a daemon that does not answer throws (and the tarball is tried again next time).
  AirgapLoad load_airgap(Docker& client, const std::string& stage,
                         const std::vector<std::string>& elsewhere = {});

  // ensure()'s airgap part, never a pull: loads the tarball(s) naming `image` if the daemon lacks
  // it; true once the daemon has it. Throws DockerError when the daemon does not answer.
  bool load_for(Docker& client, const std::string& stage, const std::string& image);

 private:
  struct Tarball {
    std::string path;
    TarballIndex::Entry entry;
  };
  std::vector<Tarball> scan();
  // Gives one tarball to the daemon; false when the daemon rejected it (logged, not tried again).
  bool load(Docker& client, const std::string& stage, const Tarball& tar);
  // The names in `names` the daemon lacks.
  static std::vector<std::string> missing(Docker& client, const std::vector<std::string>& names);

  std::string image_dir_;
  TarballIndex& index_;
  std::mutex mu_;                    // one load at a time per daemon; guards the sets below
  std::set<std::string> attempted_;  // identities of unknown tarballs given to this daemon
  std::set<std::string> rejected_;   // identities of tarballs that failed here: never again
};

}  // namespace kna
