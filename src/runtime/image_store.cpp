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
using DockerKind = DockerError::Kind;

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
  return e.kind() == DockerKind::unavailable || e.kind() == DockerKind::timeout;
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

std::string describe(const std::vector<std::string>& images) {
  return images.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(images, ", "));
}

bool names(const std::vector<std::string>& repo_tags, const std::string& wanted) {
  return std::any_of(repo_tags.begin(), repo_tags.end(),
                     [&](const std::string& tag) { return normalize_image_ref(tag) == wanted; });
}

}  // namespace

std::vector<ImageStore::Tarball> ImageStore::scan() {
  std::vector<Tarball> out;
  for (const auto& path : tarballs(image_dir_)) out.push_back({path.string(), index_.lookup(path)});
  return out;
}

bool ImageStore::load(Docker& client, const std::string& stage, const Tarball& tar) {
  try {
    const auto images = client.load_image(tar.path);
    spdlog::info("{}: loaded {} from \"{}\" into {}", stage, describe(images), tar.path,
                 client.socket_path());
    return true;
  } catch (const DockerError& e) {
    if (transport_failure(e)) throw;  // the daemon, not the tarball: try it again next time
    spdlog::warn("{}: cannot load \"{}\": {}", stage, tar.path, e.what());
    rejected_.insert(tar.entry.identity);
    return false;
  }
}

std::vector<std::string> ImageStore::missing(Docker& client,
                                             const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (!client.inspect_image(name)) out.push_back(name);
  }
  return out;
}

AirgapLoad ImageStore::load_airgap(Docker& client, const std::string& stage,
                                   const std::vector<std::string>& elsewhere) {
  std::set<std::string> others;
  for (const auto& image : elsewhere) others.insert(normalize_image_ref(image));
  const auto only_elsewhere = [&others](const std::vector<std::string>& repo_tags) {
    return !others.empty() && std::all_of(repo_tags.begin(), repo_tags.end(), [&](const auto& t) {
      return others.count(normalize_image_ref(t)) > 0;
    });
  };
  std::lock_guard lock(mu_);  // two callers must not feed the same tarball twice
  AirgapLoad result;
  for (const auto& tar : scan()) {
    const std::string& id = tar.entry.identity;
    if (rejected_.count(id)) {
      ++result.failed;
      continue;
    }
    if (!tar.entry.repo_tags) {  // unknown contents: given to the daemon once
      if (attempted_.count(id)) {
        ++result.skipped;
        continue;
      }
      const bool ok = load(client, stage, tar);
      attempted_.insert(id);
      ++(ok ? result.loaded : result.failed);
      continue;
    }
    if (only_elsewhere(*tar.entry.repo_tags)) {
      spdlog::debug("{}: not loading \"{}\": {} run in another daemon only", stage, tar.path,
                    describe(*tar.entry.repo_tags));
      ++result.elsewhere;
      continue;
    }
    const auto lacking = missing(client, *tar.entry.repo_tags);
    if (lacking.empty()) {
      spdlog::debug("{}: not loading \"{}\": {} already has {}", stage, tar.path,
                    client.socket_path(), describe(*tar.entry.repo_tags));
      ++result.skipped;
      continue;
    }
    if (!load(client, stage, tar)) {
      ++result.failed;
      ++result.retry;
      continue;
    }
    ++result.loaded;
    if (const auto still = missing(client, lacking); !still.empty()) {
      // Loading it again would not help and would cost a load on every readiness probe.
      spdlog::warn("{}: {} still lacks {} after loading \"{}\": not loading it again", stage,
                   client.socket_path(), describe(still), tar.path);
      rejected_.insert(id);
    }
  }
  return result;
}

bool ImageStore::load_for(Docker& client, const std::string& stage, const std::string& image) {
  std::lock_guard lock(mu_);
  if (client.inspect_image(image)) return true;  // another launch loaded it meanwhile
  const std::string wanted = normalize_image_ref(image);
  const auto tars = scan();
  for (const auto& tar : tars) {
    if (!tar.entry.repo_tags || !names(*tar.entry.repo_tags, wanted)) continue;
    if (rejected_.count(tar.entry.identity) || !load(client, stage, tar)) continue;
    if (client.inspect_image(image)) return true;
    spdlog::warn("{}: \"{}\" names {} but loading it did not provide it: not loading it again",
                 stage, tar.path, image);
    rejected_.insert(tar.entry.identity);
  }
  // Last resort: the tarballs that could not be read may hold it.
  for (const auto& tar : tars) {
    const std::string& id = tar.entry.identity;
    if (tar.entry.repo_tags || attempted_.count(id) || rejected_.count(id)) continue;
    const bool ok = load(client, stage, tar);
    attempted_.insert(id);
    if (ok && client.inspect_image(image)) return true;
  }
  spdlog::debug("{}: no tarball in \"{}\" holds {}", stage, image_dir_, image);
  return false;
}

ImageSource ImageStore::ensure(Docker& client, const std::string& stage, const std::string& image,
                               const std::function<void(int percent)>& on_percent) {
  if (client.inspect_image(image)) return ImageSource::present;
  if (load_for(client, stage, image)) {
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
    if (e.kind() == DockerKind::unavailable) throw;
    const std::string why = e.daemon_message().empty() ? e.what() : e.daemon_message();
    throw DockerError(
        DockerKind::not_found,
        fmt::format("image {} is not present, not in {}/*.tar and could not be "
                    "pulled: {}",
                    image, image_dir_.empty() ? "<no image folder>" : image_dir_, why),
        e.daemon_message(), e.http_status());
  }
  if (!client.inspect_image(image)) {
    throw DockerError(DockerKind::bad_response,
                      fmt::format("image {} is still missing after a successful pull", image));
  }
  spdlog::info("{}: pulled {}", stage, image);
  return ImageSource::pulled;
}

}  // namespace kna
