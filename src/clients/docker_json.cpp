#include "clients/docker_json.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace kna {

const char* to_string(DockerError::Kind kind) {
  switch (kind) {
    case DockerError::Kind::not_found:
      return "not_found";
    case DockerError::Kind::conflict:
      return "conflict";
    case DockerError::Kind::unavailable:
      return "unavailable";
    case DockerError::Kind::timeout:
      return "timeout";
    case DockerError::Kind::bad_response:
      return "bad_response";
    case DockerError::Kind::daemon_error:
      return "daemon_error";
  }
  return "unknown";
}

std::optional<int> DockerEvent::exit_code() const {
  auto it = attributes.find("exitCode");
  if (it == attributes.end()) return std::nullopt;
  int code = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return code;
}

namespace docker {

namespace {

using nlohmann::json;

std::optional<std::pair<int, int>> parse_api_version(std::string_view v) {
  const auto dot = v.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  int major = 0;
  int minor = 0;
  auto a = std::from_chars(v.data(), v.data() + dot, major);
  auto b = std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
  if (a.ec != std::errc() || a.ptr != v.data() + dot || b.ec != std::errc() ||
      b.ptr != v.data() + v.size())
    return std::nullopt;
  return std::pair{major, minor};
}

// Docker writes null for empty maps and lists; treat null and absent alike.
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// Integers only: a float may lie outside int64's range, where converting it is undefined.
std::int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->get<std::int64_t>();
}

bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::map<std::string, std::string> string_map(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) out.emplace(k, v.get<std::string>());
  }
  return out;
}

std::vector<std::string> string_list(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string strip_slash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

}  // namespace

std::string negotiate_api_version(std::string_view daemon, std::string_view ours) {
  auto d = parse_api_version(daemon);
  auto o = parse_api_version(ours);
  if (!d || !o || *o <= *d) return std::string(ours);
  return std::string(daemon);
}

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string encode_filters(const std::map<std::string, std::vector<std::string>>& filters) {
  if (filters.empty()) return {};
  json j = json::object();
  for (const auto& [key, values] : filters) j[key] = values;
  return url_encode(j.dump());
}

std::string label_filters(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return {};
  std::vector<std::string> terms;
  for (const auto& [k, v] : labels) terms.push_back(k + "=" + v);
  return encode_filters({{"label", terms}});
}

std::string bind_string(const Mount& mount) {
  std::string out = mount.source + ":" + mount.target;
  std::string options;
  if (mount.read_only) options = "ro";
  if (!mount.propagation.empty()) {
    if (!options.empty()) options += ",";
    options += mount.propagation;
  }
  if (!options.empty()) out += ":" + options;
  return out;
}

json create_body(const ContainerSpec& spec) {
  json body = json::object();
  body["Image"] = spec.image;
  body["Labels"] = spec.labels;  // std::map → object (empty → {})
  if (!spec.env.empty()) {
    json env = json::array();
    for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
    body["Env"] = env;
  }
  if (!spec.entrypoint.empty()) body["Entrypoint"] = spec.entrypoint;
  if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;

  json host = json::object();
  host["Privileged"] = spec.privileged;
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  if (!spec.pid_mode.empty()) host["PidMode"] = spec.pid_mode;
  if (!spec.mounts.empty()) {
    // Binds rather than Mounts: like `docker run -v`, a missing host folder is created.
    json binds = json::array();
    for (const auto& m : spec.mounts) binds.push_back(bind_string(m));
    host["Binds"] = binds;
  }
  if (!spec.devices.empty()) {
    json devices = json::array();
    for (const auto& d : spec.devices) {
      devices.push_back({{"PathOnHost", d}, {"PathInContainer", d}, {"CgroupPermissions", "rwm"}});
    }
    host["Devices"] = devices;
  }
  if (!spec.restart_policy.empty()) {
    host["RestartPolicy"] = {{"Name", spec.restart_policy}, {"MaximumRetryCount", 0}};
  }
  body["HostConfig"] = host;
  return body;
}

std::pair<std::string, std::string> split_image_ref(std::string_view ref) {
  if (ref.find('@') != std::string_view::npos) return {std::string(ref), ""};
  const auto colon = ref.rfind(':');
  if (colon == std::string_view::npos || ref.find('/', colon) != std::string_view::npos) {
    return {std::string(ref), "latest"};
  }
  return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
}

DockerError error_from_response(int status, std::string_view body, std::string_view context) {
  std::string message;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message = j["message"].get<std::string>();
  } else {
    message = std::string(body);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
    if (message.empty()) message = fmt::format("HTTP status {}", status);
  }
  DockerError::Kind kind = DockerError::Kind::daemon_error;
  if (status == 404) kind = DockerError::Kind::not_found;
  if (status == 409) kind = DockerError::Kind::conflict;
  return DockerError(kind, fmt::format("{}: {}", context, message), message, status);
}

std::optional<std::string> stream_error(const json& line) {
  if (!line.is_object()) return std::nullopt;
  auto detail = line.find("errorDetail");
  if (detail != line.end() && detail->is_object()) {
    std::string m = str(*detail, "message");
    if (!m.empty()) return m;
  }
  auto error = line.find("error");
  if (error != line.end() && error->is_string()) return error->get<std::string>();
  return std::nullopt;
}

DockerVersion parse_version(const json& j) {
  return DockerVersion{str(j, "Version"), str(j, "ApiVersion"), str(j, "MinAPIVersion"),
                       str(j, "Os"), str(j, "Arch")};
}

ImageInfo parse_image(const json& j) {
  return ImageInfo{str(j, "Id"), string_list(j, "RepoTags")};
}

ContainerInfo parse_container(const json& j) {
  ContainerInfo c;
  c.id = str(j, "Id");
  c.name = strip_slash(str(j, "Name"));
  if (auto cfg = j.find("Config"); cfg != j.end() && cfg->is_object()) {
    c.image = str(*cfg, "Image");
    c.labels = string_map(*cfg, "Labels");
  }
  if (auto st = j.find("State"); st != j.end() && st->is_object()) {
    c.state.status = str(*st, "Status");
    c.state.running = flag(*st, "Running");
    c.state.pid = static_cast<int>(num(*st, "Pid"));
    c.state.exit_code = static_cast<int>(num(*st, "ExitCode"));
    c.state.oom_killed = flag(*st, "OOMKilled");
    c.state.error = str(*st, "Error");
    c.state.started_at = str(*st, "StartedAt");
    c.state.finished_at = str(*st, "FinishedAt");
  }
  if (c.id.empty()) throw DockerError(DockerError::Kind::bad_response, "container without an Id");
  return c;
}

ContainerSummary parse_container_summary(const json& j) {
  ContainerSummary c;
  c.id = str(j, "Id");
  for (auto& n : string_list(j, "Names")) c.names.push_back(strip_slash(std::move(n)));
  c.image = str(j, "Image");
  c.state = str(j, "State");
  c.status = str(j, "Status");
  c.labels = string_map(j, "Labels");
  return c;
}

PullProgress parse_pull_progress(const json& j) {
  PullProgress p;
  p.id = str(j, "id");
  p.status = str(j, "status");
  if (auto d = j.find("progressDetail"); d != j.end() && d->is_object()) {
    p.current = num(*d, "current");
    p.total = num(*d, "total");
  }
  return p;
}

std::optional<PullProgress> parse_pull_line(std::string_view line, std::string_view context) {
  auto j = json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  if (auto error = stream_error(j)) {
    throw DockerError(DockerError::Kind::daemon_error, fmt::format("{}: {}", context, *error),
                      *error);
  }
  return parse_pull_progress(j);
}

std::vector<std::string> parse_load_answer(std::string_view body, std::string_view context) {
  std::vector<std::string> loaded;
  LineSplitter splitter;
  auto lines = splitter.feed(body);
  if (!splitter.pending().empty()) lines.push_back(splitter.pending());
  for (const auto& line : lines) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (auto error = stream_error(j)) {
      throw DockerError(DockerError::Kind::daemon_error, fmt::format("{}: {}", context, *error),
                        *error);
    }
    std::string text = str(j, "stream");  // not j.value(): a non-string would throw type_error
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (const char* prefix : {"Loaded image: ", "Loaded image ID: "}) {
      if (text.rfind(prefix, 0) == 0)
        loaded.push_back(text.substr(std::string_view(prefix).size()));
    }
  }
  return loaded;
}

std::optional<DockerEvent> parse_event(std::string_view line) {
  auto j = json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  DockerEvent e;
  e.type = str(j, "Type");
  e.action = str(j, "Action");
  if (e.action.empty()) e.action = str(j, "status");  // API < 1.22
  if (auto actor = j.find("Actor"); actor != j.end() && actor->is_object()) {
    e.id = str(*actor, "ID");
    e.attributes = string_map(*actor, "Attributes");
  }
  if (e.id.empty()) e.id = str(j, "id");
  e.time_nano = num(j, "timeNano");
  if (e.time_nano == 0) {
    // Seconds past the year 2262 have no nanoseconds in 64 bits: such an event has no time.
    constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
    const std::int64_t seconds = num(j, "time");
    if (seconds >= -kMaxSeconds && seconds <= kMaxSeconds) e.time_nano = seconds * 1'000'000'000;
  }
  return e;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return ec == std::errc() && end == s.data() + pos + n;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_nanos(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return std::nullopt;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) nanos *= 10;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om))
      return std::nullopt;
    offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1'000'000'000 + nanos;
}

std::vector<std::string> LineSplitter::feed(std::string_view chunk) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl = chunk.find('\n'); nl != std::string_view::npos;
       nl = chunk.find('\n', start)) {
    partial_.append(chunk.substr(start, nl - start));
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (!partial_.empty()) lines.push_back(std::move(partial_));
    partial_.clear();
    start = nl + 1;
  }
  partial_.append(chunk.substr(start));
  if (partial_.size() > max_line) {
    partial_.clear();
    throw DockerError(DockerError::Kind::bad_response,
                      fmt::format("a streamed line is longer than {} bytes", max_line));
  }
  return lines;
}

std::string demux_logs(std::string_view raw) {
  std::string out;
  std::size_t pos = 0;
  while (pos + 8 <= raw.size()) {
    const auto* h = reinterpret_cast<const unsigned char*>(raw.data() + pos);
    const bool framed = (h[0] <= 2) && h[1] == 0 && h[2] == 0 && h[3] == 0;
    if (!framed) break;  // a TTY container's log is not framed: keep the rest as is
    const std::size_t size = (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) |
                             (std::size_t{h[6]} << 8) | std::size_t{h[7]};
    pos += 8;
    const std::size_t n = std::min(size, raw.size() - pos);
    out.append(raw.substr(pos, n));
    pos += n;
  }
  if (pos < raw.size()) out.append(raw.substr(pos));
  return out;
}

}  // namespace docker
}  // namespace kna
