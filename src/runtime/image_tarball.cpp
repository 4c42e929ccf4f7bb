#include "runtime/image_tarball.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace kna {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uint64_t kBlock = 512;
// manifest.json and `repositories` name a few images: anything bigger is not docker's.
constexpr std::uint64_t kMaxMetadata = 4 << 20;
// GNU long names and PAX headers are read only up to this; bigger ones are skipped unread.
constexpr std::uint64_t kMaxLongName = 64 << 10;
// The name of an entry whose long name was skipped unread: it matches no file this reader wants.
constexpr const char* kUnreadName = "\x01unread long name";

// The ustar header fields this reader needs (offsets from POSIX.1-1988).
constexpr std::size_t kNameOff = 0, kNameLen = 100;
constexpr std::size_t kSizeOff = 124, kSizeLen = 12;
constexpr std::size_t kChksumOff = 148, kChksumLen = 8;
constexpr std::size_t kTypeOff = 156;
constexpr std::size_t kMagicOff = 257;
constexpr std::size_t kPrefixOff = 345, kPrefixLen = 155;

using Header = std::array<unsigned char, kBlock>;

class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  bool is_open() const { return fd_ >= 0; }
  std::uint64_t size() const { return size_; }
  std::uint64_t bytes_read() const { return bytes_read_; }

  bool read_at(std::uint64_t offset, void* buf, std::size_t len) {
    auto* out = static_cast<char*>(buf);
    while (len > 0) {
      const ssize_t n = ::pread(fd_, out, len, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes_read_ += static_cast<std::uint64_t>(n);
      out += n;
      offset += static_cast<std::uint64_t>(n);
      len -= static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  std::uint64_t size_{0};
  std::uint64_t bytes_read_{0};
};

// A numeric field: octal digits padded with spaces or NULs, or GNU's base-256 for big values.
std::optional<std::uint64_t> parse_number(const unsigned char* field, std::size_t len) {
  if (field[0] & 0x80) {
    if (field[0] & 0x40) return std::nullopt;  // negative
    std::uint64_t value = field[0] & 0x3f;
    for (std::size_t i = 1; i < len; ++i) {
      if (value >> 55) return std::nullopt;  // would overflow
      value = (value << 8) | field[i];
    }
    return value;
  }
  std::size_t i = 0;
  while (i < len && (field[i] == ' ' || field[i] == '\0')) ++i;
  std::uint64_t value = 0;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value >> 60) return std::nullopt;
    value = value * 8 + static_cast<std::uint64_t>(field[i] - '0');
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return value;
}

// The checksum is what tells a tar header from any other 512 bytes; old tars summed signed chars.
bool checksum_ok(const Header& h) {
  const auto stored = parse_number(h.data() + kChksumOff, kChksumLen);
  if (!stored) return false;
  std::uint64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const bool in_field = i >= kChksumOff && i < kChksumOff + kChksumLen;
    const unsigned char c = in_field ? ' ' : h[i];
    unsigned_sum += c;
    signed_sum += static_cast<signed char>(c);
  }
  return *stored == unsigned_sum || static_cast<std::int64_t>(*stored) == signed_sum;
}

std::string field_string(const unsigned char* field, std::size_t len) {
  const auto* begin = reinterpret_cast<const char*>(field);
  return std::string(begin, strnlen(begin, len));
}

std::string header_name(const Header& h) {
  std::string name = field_string(h.data() + kNameOff, kNameLen);
  // POSIX ustar ("ustar\0") splits long names into prefix/name; GNU ("ustar  ") keeps other data
  // there.
  if (std::memcmp(h.data() + kMagicOff, "ustar\0", 6) == 0) {
    const std::string prefix = field_string(h.data() + kPrefixOff, kPrefixLen);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  return name;
}

// The `path` record of a PAX extended header ("<len> path=<value>\n" records), if any.
std::optional<std::string> pax_path(std::string_view records) {
  std::optional<std::string> path;
  while (!records.empty()) {
    const auto space = records.find(' ');
    if (space == std::string_view::npos) break;
    std::size_t len = 0;
    for (char c : records.substr(0, space)) {
      if (c < '0' || c > '9') return path;
      len = len * 10 + static_cast<std::size_t>(c - '0');
    }
    if (len <= space + 1 || len > records.size()) return path;
    std::string_view record = records.substr(space + 1, len - space - 1);
    if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
    if (record.rfind("path=", 0) == 0) path = std::string(record.substr(5));
    records.remove_prefix(len);
  }
  return path;
}

std::string entry_name(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  return name;
}

std::vector<std::string> tags_from_manifest(const std::string& text) {
  const json j = json::parse(text);  // throws on malformed JSON; the caller reports it
  if (!j.is_array()) throw std::runtime_error("manifest.json is not a JSON array");
  std::vector<std::string> tags;
  for (const auto& image : j) {
    if (!image.is_object() || !image.contains("RepoTags")) continue;
    const auto& repo_tags = image["RepoTags"];
    if (!repo_tags.is_array()) continue;  // null for an image saved by id
    for (const auto& tag : repo_tags) {
      if (tag.is_string()) tags.push_back(tag.get<std::string>());
    }
  }
  return tags;
}

std::vector<std::string> tags_from_repositories(const std::string& text) {
  const json j = json::parse(text);
  if (!j.is_object()) throw std::runtime_error("repositories is not a JSON object");
  std::vector<std::string> tags;
  for (const auto& [repo, by_tag] : j.items()) {
    if (!by_tag.is_object()) continue;
    for (const auto& [tag, id] : by_tag.items()) tags.push_back(repo + ":" + tag);
  }
  return tags;
}

bool docker_hub_domain(std::string_view component) {
  return component == "docker.io" || component == "index.docker.io";
}

bool looks_like_domain(std::string_view component) {
  return component.find('.') != std::string_view::npos ||
         component.find(':') != std::string_view::npos || component == "localhost";
}

}  // namespace

Result<TarballTags> read_tarball_tags(const std::string& path) {
  File file(path);
  if (!file.is_open()) return Error{fmt::format("cannot open it: {}", std::strerror(errno))};
  std::optional<std::string> long_name;  // from a GNU 'L' or PAX 'x' entry, for the next entry
  std::optional<std::string> repositories;
  std::uint64_t offset = 0;
  const auto read_data = [&](std::uint64_t at, std::uint64_t size) -> std::optional<std::string> {
    std::string data(static_cast<std::size_t>(size), '\0');
    if (!file.read_at(at, data.data(), data.size())) return std::nullopt;
    return data;
  };
  while (true) {
    if (offset + kBlock > file.size()) {
      if (offset == 0) return Error{"not a tar archive (shorter than one header)"};
      // No end-of-archive blocks, or no padding after the last entry: tolerated.
      if (offset >= file.size()) break;
      return Error{
          fmt::format("not a complete tar archive (ends inside the header at {})", offset)};
    }
    Header h{};
    if (!file.read_at(offset, h.data(), h.size())) {
      return Error{fmt::format("cannot read it at {}: {}", offset, std::strerror(errno))};
    }
    if (std::all_of(h.begin(), h.end(), [](unsigned char c) { return c == 0; })) break;
    if (!checksum_ok(h)) {
      if (offset == 0) return Error{"not a tar archive"};
      return Error{fmt::format("not a tar archive past {} (bad header checksum)", offset)};
    }
    const auto size = parse_number(h.data() + kSizeOff, kSizeLen);
    if (!size) return Error{fmt::format("the tar header at {} has a bad size", offset)};
    const std::uint64_t data_at = offset + kBlock;
    if (*size > file.size() - data_at) {
      return Error{
          fmt::format("not a complete tar archive (the entry at {} ends past the end)", offset)};
    }
    const char type = static_cast<char>(h[kTypeOff]);
    const bool small = *size <= kMaxLongName;
    std::optional<std::string> data;
    if ((type == 'L' || type == 'x') && small) {
      data = read_data(data_at, *size);
      if (!data) return Error{fmt::format("cannot read it at {}", data_at)};
    }
    if (type == 'L') {
      // An unread (oversized) long name still applies to the next entry: it is not ours.
      long_name = data ? std::string(data->c_str()) : std::string(kUnreadName);
    } else if (type == 'x') {
      if (auto p = data ? pax_path(*data) : std::optional<std::string>(kUnreadName)) long_name = p;
    } else if (type == 'K' || type == 'g') {
      // a long link name, or PAX globals: nothing this reader needs
    } else {
      const std::string name = entry_name(long_name ? *long_name : header_name(h));
      long_name.reset();
      const bool regular = type == '0' || type == '\0' || type == '7';
      if (regular && (name == "manifest.json" || name == "repositories")) {
        if (*size > kMaxMetadata) {
          return Error{fmt::format("its {} is {} bytes: too big to be docker's", name, *size)};
        }
        auto text = read_data(data_at, *size);
        if (!text) return Error{fmt::format("cannot read its {}", name)};
        if (name == "repositories") {
          repositories = std::move(text);
        } else {
          try {
            return TarballTags{tags_from_manifest(*text), name, file.bytes_read()};
          } catch (const std::exception& e) {
            return Error{fmt::format("its manifest.json cannot be read: {}", e.what())};
          }
        }
      }
    }
    offset = data_at + (*size + kBlock - 1) / kBlock * kBlock;
  }
  if (!repositories) return Error{"it holds neither manifest.json nor repositories"};
  try {
    return TarballTags{tags_from_repositories(*repositories), "repositories", file.bytes_read()};
  } catch (const std::exception& e) {
    return Error{fmt::format("its repositories file cannot be read: {}", e.what())};
  }
}

std::string normalize_image_ref(std::string_view ref) {
  std::string name(ref);
  std::string digest;
  if (const auto at = name.find('@'); at != std::string::npos) {
    digest = name.substr(at);
    name.resize(at);
  }
  std::string tag;
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = name.substr(colon);
    name.resize(colon);
  } else if (digest.empty()) {
    tag = ":latest";
  }
  // docker.io/library/x, docker.io/x, library/x and x name the same image on Docker Hub.
  bool hub = true;
  if (const auto first = name.find('/'); first != std::string::npos) {
    const std::string_view domain = std::string_view(name).substr(0, first);
    if (docker_hub_domain(domain)) {
      name.erase(0, first + 1);
    } else if (looks_like_domain(domain)) {
      hub = false;
    }
  }
  constexpr std::string_view kLibrary = "library/";
  if (hub && name.rfind(kLibrary, 0) == 0 && name.find('/', kLibrary.size()) == std::string::npos) {
    name.erase(0, kLibrary.size());
  }
  return name + tag + digest;
}

TarballIndex& TarballIndex::shared() {
  static TarballIndex index;
  return index;
}

TarballIndex::Entry TarballIndex::lookup(const fs::path& tarball) {
  std::error_code ec;
  const auto size = fs::file_size(tarball, ec);
  const auto mtime = fs::last_write_time(tarball, ec).time_since_epoch().count();
  Entry entry{fmt::format("{}:{}:{}", tarball.string(), size, mtime), std::nullopt};
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(entry.identity); it != cache_.end()) {
    entry.repo_tags = it->second;
    return entry;
  }
  // Read under the lock (a few small reads): a second caller then never logs the same problem.
  auto tags = read_tarball_tags(tarball.string());
  if (!tags) {
    spdlog::warn(
        "image folder: cannot tell which images \"{}\" holds ({}): it is loaded only "
        "when an image is found in no other tarball",
        tarball.string(), tags.error().message);
  } else if (tags.value().repo_tags.empty()) {
    spdlog::warn(
        "image folder: \"{}\" names no image in its {}: it is loaded only when an image "
        "is found in no other tarball",
        tarball.string(), tags.value().source);
  } else {
    spdlog::debug("image folder: \"{}\" holds {} (from its {}, {} bytes read)", tarball.string(),
                  fmt::join(tags.value().repo_tags, ", "), tags.value().source,
                  tags.value().bytes_read);
    entry.repo_tags = tags.value().repo_tags;
  }
  cache_.emplace(entry.identity, entry.repo_tags);
  return entry;
}

}  // namespace kna
