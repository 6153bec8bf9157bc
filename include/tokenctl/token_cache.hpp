// The token cache file: JSON {"version": 1, "tokens": {PROFILE: TOKEN SET}}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tokenctl/token_set.hpp"

namespace tokenctl {

inline constexpr int k_token_cache_version = 1;
// Bigger caches are refused as damaged rather than parsed.
inline constexpr std::size_t k_token_cache_max_bytes = 16u * 1024u * 1024u;
// Deeper JSON nesting is refused before parsing (the format needs 4 levels).
inline constexpr int k_token_cache_max_depth = 32;

struct TokenCache {
  std::map<std::string, TokenSet> tokens; // by profile name
};

// Parse cache bytes; throw Error(failure) naming `path` and how to recover, never quoting the bytes.
TokenCache parse_token_cache(std::string_view bytes, const std::string& path);
// Return one profile's token set from cache bytes, or nullopt when the cache has none for it.
// The other profiles' sets are skipped over by a light scan instead of being parsed, so that a
// cache of thousands of profiles costs little more than reading it; anything the scan cannot
// vouch for goes through parse_token_cache, so the errors are the same.
std::optional<TokenSet> parse_token_cache_entry(std::string_view bytes, std::string_view profile,
                                                const std::string& path);
// Parse one token set (a JSON object) named `name`; throw as parse_token_cache does.
TokenSet parse_token_set_json(std::string_view set_json, const std::string& name, const std::string& path);
// Serialize a cache as pretty JSON with a trailing newline; throw Error(failure) when the text
// would be more than k_token_cache_max_bytes (the reader's cap) or not valid UTF-8.
std::string serialize_token_cache(const TokenCache& cache);

} // namespace tokenctl
