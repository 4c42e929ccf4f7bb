#include "runtime/process_record.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "platform/atomic_file.hpp"
#include "runtime/pidfile.hpp"

namespace kna {

namespace {

constexpr int kRecordVersion = 1;

bool valid_stage_name(const std::string& stage) {
  if (stage.empty() || stage.size() > 64) return false;
  for (const char c : stage)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

std::string process_record_path(const std::string& dir, const std::string& stage) {
  return dir + "/" + stage + ".json";
}

std::string to_json(const ProcessRecord& r) {
  return nlohmann::json{
             {"version", kRecordVersion},    {"stage", r.stage},     {"pid", r.pid},
             {"start_ticks", r.start_ticks}, {"boot_id", r.boot_id}, {"spec_hash", r.spec_hash}}
             .dump() +
         "\n";
}

Result<ProcessRecord> parse_process_record(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Error{"not a JSON object"};
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version != kRecordVersion)
    return Error{fmt::format("unknown format version (this agent reads {})", kRecordVersion)};
  ProcessRecord r;
  try {
    r.stage = j.at("stage").get<std::string>();
    r.pid = j.at("pid").get<int>();
    r.start_ticks = j.at("start_ticks").get<std::uint64_t>();
    r.boot_id = j.at("boot_id").get<std::string>();
    r.spec_hash = j.at("spec_hash").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Error{fmt::format("missing or mistyped field: {}", e.what())};
  }
  if (r.pid <= 0) return Error{fmt::format("pid {} is not a process id", r.pid)};
  if (!valid_stage_name(r.stage)) return Error{"stage name is not valid"};
  return r;
}

Status write_process_record(const std::string& dir, const ProcessRecord& record) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{fmt::format("cannot create {}: {}", dir, ec.message())};
  return write_file_atomically(process_record_path(dir, record.stage), to_json(record), 0600);
}

void remove_process_record(const std::string& dir, const std::string& stage) {
  ::unlink(process_record_path(dir, stage).c_str());
}

std::vector<std::string> recorded_stages(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto path = entry.path();
    if (path.extension() != ".json") continue;
    const auto stage = path.stem().string();
    if (valid_stage_name(stage)) out.push_back(stage);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::uint64_t> process_start_ticks(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  if (!in) return std::nullopt;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "pid (comm) state ppid …": comm may hold spaces and ')'; fields count from after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  // After ')' come fields 3 (state) onwards; starttime is field 22.
  for (int n = 3; n <= 22; ++n) {
    if (!(rest >> field)) return std::nullopt;
  }
  std::uint64_t ticks = 0;
  const auto [end, err] = std::from_chars(field.data(), field.data() + field.size(), ticks);
  if (err != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return ticks;
}

RecordCheck check_process_record(const std::string& dir, const std::string& stage,
                                 const std::string& boot_id) {
  using Kind = RecordCheck::Kind;
  const std::string path = process_record_path(dir, stage);
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return {Kind::absent, {}, ""};
    return {Kind::stale, {}, fmt::format("cannot read {}: {}", path, std::strerror(errno))};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  auto parsed = parse_process_record(ss.str());
  if (!parsed) return {Kind::stale, {}, fmt::format("{}: {}", path, parsed.error().message)};
  ProcessRecord r = std::move(parsed).value();
  if (r.stage != stage) return {Kind::stale, r, fmt::format("{} names stage '{}'", path, r.stage)};
  if (r.boot_id != boot_id)
    return {Kind::stale, r, fmt::format("written in another boot ({})", r.boot_id)};
  if (!process_alive(r.pid)) return {Kind::stale, r, fmt::format("pid {} is not running", r.pid)};
  const auto ticks = process_start_ticks(r.pid);
  if (!ticks || *ticks != r.start_ticks)
    return {Kind::stale, r,
            fmt::format("pid {} is another process now (start time differs)", r.pid)};
  if (!has_stage_marker(r.pid, stage))
    return {Kind::stale, r, fmt::format("pid {} does not carry this stage's marker", r.pid)};
  return {Kind::ours, r, fmt::format("pid {} started by an agent in this boot", r.pid)};
}

}  // namespace kna
