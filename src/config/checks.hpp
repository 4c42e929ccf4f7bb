#pragma once
// Checks of single values (addresses, networks, versions, names), free of any configuration
// context so that they can be tested and reused on their own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kna::config {

// true/false/1/0/yes/no, any case; nullopt for anything else.
std::optional<bool> parse_bool_word(std::string_view s);

// v1.2.4, optionally with a pre-release: v1.3.0-alpha.5.
bool is_kubernetes_version(std::string_view s);
// (major, minor) of a Kubernetes version (v1.19.16 → 1, 19); nullopt unless
// is_kubernetes_version.
std::optional<std::pair<int, int>> kubernetes_minor(std::string_view s);
// 2.2.5, v0.6.1, optionally with a pre-release.
bool is_component_version(std::string_view s);

// Kubernetes' DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters,
// each dot-separated label starting and ending with an alphanumeric.
bool is_dns1123_subdomain(std::string_view s);

// What the kernel accepts as an interface name: 1-15 bytes, no '/', ':' or whitespace, not
// "."/"..".
bool is_interface_name(std::string_view s);

}  // namespace kna::config
