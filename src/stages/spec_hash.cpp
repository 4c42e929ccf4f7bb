// The spec hash labels a container with the exact spec it was created from, so that a container
// found after a restart can be adopted only if nothing changed. It must be the same on every run
// and platform: FNV-1a 64 over a length-prefixed serialisation of every field.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kna/catalogue.hpp"
#include "stages/stage_builders.hpp"

namespace kna {

namespace {

class Canonical {
 public:
  void field(std::string_view tag, std::string_view value) {
    out_ += tag;
    out_ += '=';
    out_ += std::to_string(value.size());
    out_ += ':';
    out_ += value;
    out_ += ';';
  }
  void flag(std::string_view tag, bool value) { field(tag, value ? "1" : "0"); }
  void list(std::string_view tag, const std::vector<std::string>& values) {
    field(tag, std::to_string(values.size()));
    for (const auto& v : values) field("-", v);
  }
  void map(std::string_view tag, const std::map<std::string, std::string>& values) {
    field(tag, std::to_string(values.size()));  // std::map: already in a stable order
    for (const auto& [k, v] : values) {
      field("k", k);
      field("v", v);
    }
  }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

void serialise(Canonical& out, const ProcessSpec& p) {
  out.field("kind", "process");
  out.list("argv", p.argv);
  out.map("env", p.env);
  out.field("pidfile", p.pidfile);
  out.list("helper_pidfiles", p.helper_pidfiles);
}

// The name (kube_<component>_<hash>) and the hash label are derived from the hash: left out.
void serialise(Canonical& out, const ContainerSpec& c) {
  out.field("kind", "container");
  out.field("docker_socket", c.docker_socket);
  out.field("image", c.image);
  out.list("entrypoint", c.entrypoint);
  out.list("cmd", c.cmd);
  out.field("network_mode", c.network_mode);
  out.field("pid_mode", c.pid_mode);
  out.flag("privileged", c.privileged);
  out.field("mounts", std::to_string(c.mounts.size()));
  for (const auto& m : c.mounts) {
    out.field("source", m.source);
    out.field("target", m.target);
    out.flag("read_only", m.read_only);
    out.field("propagation", m.propagation);
  }
  out.list("devices", c.devices);
  out.field("restart_policy", c.restart_policy);
  auto labels = c.labels;
  labels.erase(kLabelSpecHash);
  out.map("labels", labels);
  out.map("env", c.env);
}

}  // namespace

std::string spec_hash(const LaunchSpec& launch) {
  Canonical out;
  std::visit([&](const auto& spec) { serialise(out, spec); }, launch);
  return stages::content_hash(out.text());
}

namespace stages {

std::string content_hash(std::string_view content) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t hash = fnv1a64(content);
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) hex[static_cast<std::size_t>(i)] = kHex[hash & 0xf];
  return hex;
}

}  // namespace stages

}  // namespace kna
