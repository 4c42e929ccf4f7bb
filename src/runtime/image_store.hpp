#pragma once
// Makes sure a container's image is in a daemon before the container is created: already there;
// else loaded from the airgap folder's *.tar (each tarball once per daemon, like k3s and k0s);
// else pulled. One per daemon; blocking, for worker threads; thread-safe.

#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "clients/docker_client.hpp"

namespace kna {

enum class ImageSource { present, loaded, pulled };
const char* to_string(ImageSource source);

class ImageStore {
 public:
  // `image_dir` may be empty or missing: then nothing is loaded from it.
  explicit ImageStore(std::string image_dir) : image_dir_(std::move(image_dir)) {}

  // `on_percent` gets the overall pull progress when it changes (from this thread). Throws
  // DockerError: unavailable/timeout as the client threw them, and for an image found nowhere
  // not_found "image X is not present, not in <image_dir>/*.tar and could not be pulled: <why>".
  ImageSource ensure(DockerClient& client, const std::string& stage, const std::string& image,
                     const std::function<void(int percent)>& on_percent = {});

  // Loads every tarball of image_dir not loaded into this daemon yet; how many were loaded. A
  // tarball the daemon rejects is logged and not tried again; a daemon that does not answer
  // throws (and the tarball is tried again next time).
  int load_airgap(DockerClient& client, const std::string& stage);

 private:
  std::string image_dir_;
  std::mutex mu_;
  std::set<std::string> attempted_;  // path:size:mtime of tarballs already given to the daemon
};

}  // namespace kna
