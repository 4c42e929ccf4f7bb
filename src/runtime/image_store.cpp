#include "runtime/image_store.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "runtime/image_pull_progress.hpp"

namespace kna {

namespace fs = std::filesystem;
using Kind = DockerError::Kind;

const char* to_string(ImageSource source) {
  switch (source) {
    case ImageSource::present:
      return "present";
    case ImageSource::loaded:
      return "loaded";
    case ImageSource::pulled:
      return "pulled";
  }
  return "unknown";
}

namespace {

bool transport_failure(const DockerError& e) {
  return e.kind() == Kind::unavailable || e.kind() == Kind::timeout;
}

std::vector<fs::path> tarballs(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code fec;
    if (entry.path().extension() == ".tar" && entry.is_regular_file(fec)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A replaced tarball (other size or time) is a new one.
std::string identity(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  const auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
  return fmt::format("{}:{}:{}", p.string(), size, mtime);
}

}  // namespace

int ImageStore::load_airgap(DockerClient& client, const std::string& stage) {
  std::lock_guard lock(mu_);  // two launches must not feed the same tarball twice
  int loaded = 0;
  for (const auto& tar : tarballs(image_dir_)) {
    const std::string id = identity(tar);
    if (attempted_.count(id)) continue;
    try {
      auto images = client.load_image(tar.string());
      spdlog::info(
          "{}: loaded {} from \"{}\" into {}", stage,
          images.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(images, ", ")),
          tar.string(), client.socket_path());
      ++loaded;
    } catch (const DockerError& e) {
      if (transport_failure(e)) throw;  // the daemon, not the tarball: try it again next time
      spdlog::warn("{}: cannot load \"{}\": {}", stage, tar.string(), e.what());
    }
    attempted_.insert(id);
  }
  return loaded;
}

ImageSource ImageStore::ensure(DockerClient& client, const std::string& stage,
                               const std::string& image,
                               const std::function<void(int percent)>& on_percent) {
  if (client.inspect_image(image)) return ImageSource::present;
  if (load_airgap(client, stage) > 0 && client.inspect_image(image)) {
    spdlog::info("{}: image {} came from the image folder \"{}\"", stage, image, image_dir_);
    return ImageSource::loaded;
  }
  spdlog::info("{}: pulling {}", stage, image);
  PullProgressTracker progress;
  try {
    client.pull_image(image, [&](const PullProgress& line) {
      if (auto percent = progress.update(line); percent && on_percent) on_percent(*percent);
    });
  } catch (const DockerError& e) {
    if (e.kind() == Kind::unavailable) throw;
    const std::string why = e.daemon_message().empty() ? e.what() : e.daemon_message();
    throw DockerError(
        Kind::not_found,
        fmt::format("image {} is not present, not in {}/*.tar and could not be "
                    "pulled: {}",
                    image, image_dir_.empty() ? "<no image folder>" : image_dir_, why),
        e.daemon_message(), e.http_status());
  }
  if (!client.inspect_image(image)) {
    throw DockerError(Kind::bad_response,
                      fmt::format("image {} is still missing after a successful pull", image));
  }
  spdlog::info("{}: pulled {}", stage, image);
  return ImageSource::pulled;
}

}  // namespace kna
