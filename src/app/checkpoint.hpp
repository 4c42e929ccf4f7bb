#pragma once
// The agent's checkpoint in the state folder: what status must still tell after the agent is
// killed, crashes or re-executes itself (per stage: restarts, last exit, last error; and how often
// the agent itself restarted in this boot). Written atomically after changes; one from another
// boot or of an unknown format version is ignored with a log line. Recovery itself needs none of
// it: the runtimes prove what is running (include/kna/runtime.hpp).

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kna/error.hpp"
#include "kna/supervisor.hpp"

namespace kna::app {

inline constexpr int kCheckpointVersion = 1;

struct Checkpoint {
  std::string boot_id;
  int agent_restarts{0};  // agent starts in this boot that found stages left running
  std::vector<StageHistory> stages;
  bool operator==(const Checkpoint&) const = default;
};

std::string to_json(const Checkpoint& checkpoint);
// An error names what is wrong (not JSON, unknown version, a field missing or mistyped).
Result<Checkpoint> parse_checkpoint(const std::string& text);

// The checkpoint at `path` if it was written in this boot by a version we read; nullopt (and an
// info line saying why) otherwise, also when there is none.
std::optional<Checkpoint> load_checkpoint(const std::string& path, const std::string& boot_id);
Status save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Writes checkpoints on a thread of its own, so that the loop never waits for a file's fsync: only
// the newest submitted one is written, and a failure is logged (status after an agent restart then
// starts from zero; nothing else depends on it).
class CheckpointWriter {
 public:
  explicit CheckpointWriter(std::string path);
  ~CheckpointWriter();  // waits for a write in flight; drops what is pending
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Returns at once (any thread).
  void submit(Checkpoint checkpoint);
  // Writes `checkpoint` before returning, after any write in flight (before a re-exec).
  Status write_now(const Checkpoint& checkpoint);
  // After an ordered stop: drops what is pending, waits for a write in flight, removes the file;
  // later submissions are ignored.
  void remove();

 private:
  void run();

  std::string path_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::mutex file_mu_;  // one writer of the file at a time
  std::optional<Checkpoint> pending_;
  bool stopping_{false};
  bool removed_{false};
  std::thread thread_;
};

// The histories of the stages as status shows them now.
std::vector<StageHistory> histories(const std::vector<StageStatus>& stages);

}  // namespace kna::app
