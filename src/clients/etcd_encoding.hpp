#pragma once
// Byte-level encodings used in etcd requests (base64, percent-encoding, prefix range ends).

#include <optional>
#include <string>
#include <string_view>

namespace kna::etcd {

// Standard base64 with padding, as the v3 gateway encodes keys and values.
std::string base64_encode(std::string_view bytes);
// nullopt for anything that is not canonical padded base64.
std::optional<std::string> base64_decode(std::string_view text);

// The v3 range_end that selects every key starting with `prefix`: the prefix with its last byte
// incremented (trailing 0xff bytes dropped first); "\0" (every key) when nothing can be
// incremented.
std::string prefix_range_end(std::string_view prefix);

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string url_encode(std::string_view text, bool keep_slash = false);
// "/v2/keys" + the key, which gets a leading '/' if it lacks one.
std::string v2_key_path(std::string_view key);

}  // namespace kna::etcd
