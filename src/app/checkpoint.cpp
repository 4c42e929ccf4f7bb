#include "app/checkpoint.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/thread_name.hpp"
#include "platform/atomic_file.hpp"

namespace kna::app {

namespace {

using nlohmann::json;

const char* cause_name(ExitStatus::Cause c) {
  switch (c) {
    case ExitStatus::Cause::exited:
      return "exited";
    case ExitStatus::Cause::terminated:
      return "terminated";
    case ExitStatus::Cause::killed:
      return "killed";
    case ExitStatus::Cause::lost:
      return "lost";
  }
  return "exited";
}

std::optional<ExitStatus::Cause> cause_from(const std::string& s) {
  for (auto c : {ExitStatus::Cause::exited, ExitStatus::Cause::terminated,
                 ExitStatus::Cause::killed, ExitStatus::Cause::lost})
    if (s == cause_name(c)) return c;
  return std::nullopt;
}

}  // namespace

std::string to_json(const Checkpoint& cp) {
  json stages = json::array();
  for (const auto& h : cp.stages) {
    json s{{"stage", h.stage}, {"restarts", h.restarts}, {"last_error", h.last_error}};
    if (h.last_exit) {
      s["last_exit"] = {{"cause", cause_name(h.last_exit->cause)},
                        {"signaled", h.last_exit->signaled},
                        {"code", h.last_exit->code},
                        {"detail", h.last_exit->detail}};
    }
    stages.push_back(std::move(s));
  }
  return json{{"version", kCheckpointVersion},
              {"boot_id", cp.boot_id},
              {"agent_restarts", cp.agent_restarts},
              {"stages", std::move(stages)}}
             .dump(2) +
         "\n";
}

Result<Checkpoint> parse_checkpoint(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error{"not a JSON object"};
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) return Error{"no format version"};
  if (*version != kCheckpointVersion)
    return Error{fmt::format("format version {} (this agent reads {})", version->dump(),
                             kCheckpointVersion)};
  Checkpoint cp;
  try {
    cp.boot_id = j.at("boot_id").get<std::string>();
    cp.agent_restarts = j.at("agent_restarts").get<int>();
    for (const auto& s : j.at("stages")) {
      StageHistory h;
      h.stage = s.at("stage").get<std::string>();
      h.restarts = s.at("restarts").get<int>();
      h.last_error = s.at("last_error").get<std::string>();
      if (const auto e = s.find("last_exit"); e != s.end()) {
        ExitStatus x;
        const auto cause = cause_from(e->at("cause").get<std::string>());
        if (!cause) return Error{fmt::format("stage '{}': unknown exit cause", h.stage)};
        x.cause = *cause;
        x.signaled = e->at("signaled").get<bool>();
        x.code = e->at("code").get<int>();
        x.detail = e->at("detail").get<std::string>();
        h.last_exit = x;
      }
      if (h.restarts < 0) return Error{fmt::format("stage '{}': negative restarts", h.stage)};
      cp.stages.push_back(std::move(h));
    }
  } catch (const json::exception& e) {
    return Error{fmt::format("a field is missing or of the wrong type: {}", e.what())};
  }
  if (cp.agent_restarts < 0) return Error{"negative agent_restarts"};
  return cp;
}

std::optional<Checkpoint> load_checkpoint(const std::string& path, const std::string& boot_id) {
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT)
      spdlog::warn("checkpoint {}: cannot read it ({}); starting without", path,
                   std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  auto cp = parse_checkpoint(ss.str());
  if (!cp) {
    spdlog::warn("checkpoint {}: ignored: {}", path, cp.error().message);
    return std::nullopt;
  }
  if (cp.value().boot_id != boot_id) {
    spdlog::info("checkpoint {}: ignored: written in another boot ({})", path, cp.value().boot_id);
    return std::nullopt;
  }
  return std::move(cp).value();
}

Status save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  return write_file_atomically(path, to_json(checkpoint), 0644);
}

std::vector<StageHistory> histories(const std::vector<StageStatus>& stages) {
  std::vector<StageHistory> out;
  out.reserve(stages.size());
  for (const auto& s : stages) out.push_back({s.name, s.restarts, s.last_exit, s.last_error});
  return out;
}

CheckpointWriter::CheckpointWriter(std::string path)
    : path_(std::move(path)), thread_([this] {
        name_this_thread("kna-checkpoint");
        run();
      }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending_.reset();
  }
  wake_.notify_all();
  thread_.join();
}

void CheckpointWriter::submit(Checkpoint checkpoint) {
  {
    std::lock_guard lock(mu_);
    if (removed_ || stopping_) return;
    pending_ = std::move(checkpoint);
  }
  wake_.notify_all();
}

Status CheckpointWriter::write_now(const Checkpoint& checkpoint) {
  {
    std::lock_guard lock(mu_);
    pending_.reset();  // older than this one
  }
  std::lock_guard file(file_mu_);
  return save_checkpoint(path_, checkpoint);
}

void CheckpointWriter::remove() {
  {
    std::lock_guard lock(mu_);
    removed_ = true;
    pending_.reset();
  }
  std::lock_guard file(file_mu_);
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void CheckpointWriter::run() {
  for (;;) {
    Checkpoint next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || pending_.has_value(); });
      if (stopping_) return;
      next = std::move(*pending_);
      pending_.reset();
    }
    std::lock_guard file(file_mu_);
    {
      // remove() may have come between taking the checkpoint and the file lock.
      std::lock_guard lock(mu_);
      if (removed_) continue;
    }
    if (auto saved = save_checkpoint(path_, next); !saved) {
      spdlog::warn("checkpoint: {}; status after an agent restart will start from zero",
                   saved.error().message);
    }
  }
}

}  // namespace kna::app
