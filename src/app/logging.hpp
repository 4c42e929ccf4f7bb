#pragma once
// Log setup for the agent: text for terminals, "<N>message" lines for journald (which adds the
// time stamp and keeps N as the priority), JSON lines for log collectors.

#include <sys/types.h>

#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "kna/config.hpp"

namespace kna::app {

// Before the configuration is known: text at info, to stderr; the journal's form when stderr is
// the journal stream.
void init_logging();
// True when JOURNAL_STREAM ("<device>:<inode>", set by systemd) names stderr's file.
bool stderr_is_journal();
// True when `journal_stream` (the variable's value, or null) names that device and inode.
bool journal_stream_names(const char* journal_stream, dev_t device, ino_t inode);
// "<3>" for error and so on (sd-daemon.h's SD_ERR …): critical 2, error 3, warn 4, info 6, debug
// and trace 7.
std::string_view journal_priority_prefix(spdlog::level::level_enum level);
// Applies the configured level and format. Returns false (and logs why) for an unknown level.
bool configure_logging(const std::string& level, LogFormat format);

}  // namespace kna::app
