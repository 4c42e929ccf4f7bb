#pragma once
// Writes small tar files for the image-folder tests: ustar headers made by hand, so a test can
// also make the odd ones (GNU long names, PAX paths, a sparse "layer" of any size, a truncation).

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kna::test {

class TarWriter {
 public:
  explicit TarWriter(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  ~TarWriter() { finish(); }

  // A regular file. `prefix` goes into the ustar prefix field.
  TarWriter& file(const std::string& name, const std::string& content,
                  const std::string& prefix = "") {
    header(name, content.size(), '0', prefix);
    out_.write(content.data(), static_cast<std::streamsize>(content.size()));
    pad(content.size());
    return *this;
  }
  // A regular file of `size` zero bytes, written as a hole (sparse): reading it would be slow.
  TarWriter& hole(const std::string& name, std::uint64_t size) {
    header(name, size, '0');
    out_.seekp(static_cast<std::streamoff>(padded(size)), std::ios::cur);
    return *this;
  }
  TarWriter& dir(const std::string& name) {
    header(name, 0, '5');
    return *this;
  }
  // A GNU long-name entry ('L'): `long_name` applies to the entry written next.
  TarWriter& gnu_long_name(const std::string& long_name) {
    const std::string data = long_name + '\0';
    header("././@LongLink", data.size(), 'L', "", "ustar  ");
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    pad(data.size());
    return *this;
  }
  // A PAX extended header ('x') holding a path record for the entry written next.
  TarWriter& pax_path(const std::string& path) {
    const std::string body = "path=" + path + "\n";
    std::size_t len = body.size() + 2;
    while (std::to_string(len).size() + 1 + body.size() != len) ++len;
    const std::string record = std::to_string(len) + " " + body;
    header("PaxHeaders/x", record.size(), 'x');
    out_.write(record.data(), static_cast<std::streamsize>(record.size()));
    pad(record.size());
    return *this;
  }
  // A header promising `size` bytes, and none of them: the file ends there.
  void truncated_entry(const std::string& name, std::uint64_t size) {
    header(name, size, '0');
    finished_ = true;
    out_.close();
  }
  void finish() {
    if (finished_) return;
    finished_ = true;
    const std::string zeros(1024, '\0');
    out_.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    out_.close();
  }

  static std::uint64_t padded(std::uint64_t size) { return (size + 511) / 512 * 512; }

 private:
  void header(const std::string& name, std::uint64_t size, char type,
              const std::string& prefix = "", const char* magic = "ustar") {
    std::array<char, 512> h{};
    std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
    std::snprintf(h.data() + 100, 8, "%07o", 0644);
    std::snprintf(h.data() + 108, 8, "%07o", 0);
    std::snprintf(h.data() + 116, 8, "%07o", 0);
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(h.data() + 136, 12, "%011o", 0);
    h[156] = type;
    std::memcpy(h.data() + 257, magic, std::strlen(magic));  // "ustar" + NUL, or GNU "ustar  "
    if (std::strcmp(magic, "ustar") == 0) std::memcpy(h.data() + 263, "00", 2);
    std::memcpy(h.data() + 345, prefix.data(), std::min<std::size_t>(prefix.size(), 155));
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::snprintf(h.data() + 148, 8, "%06o", sum);  // six digits, NUL, then the space left there
    out_.write(h.data(), static_cast<std::streamsize>(h.size()));
  }
  void pad(std::uint64_t size) {
    const std::string zeros(padded(size) - size, '\0');
    out_.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }

  std::ofstream out_;
  bool finished_{false};
};

// manifest.json as `docker save` writes it: one object per image.
inline std::string manifest_json(const std::vector<std::vector<std::string>>& images) {
  nlohmann::json j = nlohmann::json::array();
  int n = 0;
  for (const auto& tags : images) {
    const std::string id = std::string(63, 'a') + std::to_string(n++ % 10);
    j.push_back({{"Config", id + ".json"},
                 {"RepoTags", tags.empty() ? nlohmann::json(nullptr) : nlohmann::json(tags)},
                 {"Layers", {id + "/layer.tar"}}});
  }
  return j.dump();
}

// A tarball shaped like `docker save`'s: config, layer folder and files, manifest.json,
// repositories.
inline void write_image_tarball(const std::string& path, const std::vector<std::string>& tags,
                                const std::string& layer = "layer bytes") {
  const std::string id(64, 'b');
  TarWriter tar(path);
  tar.file(std::string(64, 'c') + ".json", R"({"architecture":"amd64"})");
  tar.dir(id + "/");
  tar.file(id + "/VERSION", "1.0");
  tar.file(id + "/layer.tar", layer);
  tar.file("manifest.json", manifest_json({tags}));
  nlohmann::json repos = nlohmann::json::object();
  for (const auto& tag : tags) {
    const auto colon = tag.rfind(':');
    repos[tag.substr(0, colon)][tag.substr(colon + 1)] = id;
  }
  tar.file("repositories", repos.dump());
}

}  // namespace kna::test
