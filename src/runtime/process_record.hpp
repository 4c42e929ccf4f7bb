#pragma once
// The record the process runtime keeps for each stage it runs as a host process, so that a later
// agent can prove a live process is the very one an agent started for that stage, in this boot,
// from the same spec, and adopt it (see the recovery contract in include/kna/runtime.hpp).
// One JSON file per stage, `<dir>/<stage>.json`, written atomically.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kna/error.hpp"

namespace kna {

struct ProcessRecord {
  std::string stage;
  int pid{0};
  std::uint64_t start_ticks{0};  // the process's start time, /proc/<pid>/stat field 22
  std::string boot_id;
  std::string spec_hash;
  bool operator==(const ProcessRecord&) const = default;
};

std::string process_record_path(const std::string& dir, const std::string& stage);
std::string to_json(const ProcessRecord& record);
// An error names what is wrong with the text.
Result<ProcessRecord> parse_process_record(const std::string& text);

Status write_process_record(const std::string& dir, const ProcessRecord& record);
void remove_process_record(const std::string& dir, const std::string& stage);
// The stages that have a record in `dir` (none when it does not exist).
std::vector<std::string> recorded_stages(const std::string& dir);

// The start time of a live process, in clock ticks since boot; nullopt when it is gone.
std::optional<std::uint64_t> process_start_ticks(int pid);

struct RecordCheck {
  enum class Kind {
    absent,  // no record: nothing was left
    stale,   // the record names no live process of ours (ended, pid reused, another boot, bad
             // file): remove it
    ours,    // a live process an agent started for this stage in this boot
  };
  Kind kind{Kind::absent};
  ProcessRecord record;  // as read (ours, stale with a readable file)
  std::string detail;    // why, for logs
};

// Reads the stage's record and proves (or disproves) that the process it names is ours: alive,
// the same start time, the same boot, and the stage marker in its environment.
RecordCheck check_process_record(const std::string& dir, const std::string& stage,
                                 const std::string& boot_id);

}  // namespace kna
