// A fast reader for the JSON that tokenctl writes itself (the token cache), beside nlohmann's.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tokenctl {

// The document in `text`, built as nlohmann::json::parse would build it, when `text` keeps to plain
// JSON: strings of printable ASCII without escapes, integers of at most 18 digits, objects and
// arrays at most `max_depth` deep. nullopt for anything else, valid or not (escapes, UTF-8,
// fractions, damage): the caller then runs the full parser, which stays the judge of errors.
std::optional<nlohmann::json> parse_plain_json(std::string_view text, int max_depth);

} // namespace tokenctl
