#pragma once
// Reading a whole file; writing one so that readers see the old content or the new, never a torn
// mix, even across a power cut: checkpoints, generated configuration.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kna/error.hpp"

namespace kna {

// The whole file, byte for byte; nullopt when it cannot be opened or read.
std::optional<std::string> read_file(const std::string& path);

// Writes `content` to a temporary file in the same directory, fsyncs it, renames it over `path`
// and fsyncs the directory. `mode` is the new file's permission bits. The error names the path
// and the step that failed; the temporary file is removed then.
Status write_file_atomically(const std::string& path, std::string_view content,
                             unsigned mode = 0644);

}  // namespace kna
