// Formatting shared by the commands: time left, expiry fields, JSON text for stdout.
// (Token redaction is core's, include/tokenctl/redact.hpp.)
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tokenctl/token_set.hpp"

namespace tokenctl::cli {

// Return "59m 12s", "expired 3m ago", "unknown" or "-" (no token set).
std::string time_left_text(const TokenSet* set, TimePoint now);
// Return `j` as JSON text for stdout: every non-ASCII character escaped (so no C1 control reaches
// a terminal raw) and invalid UTF-8 replaced; `indent` as nlohmann's dump (-1: one line).
std::string json_text(const nlohmann::json& j, int indent = -1);
// Set "expiry" (RFC 3339 or null) and "expires_in" (whole seconds or null) in `object`.
void add_expiry_json(nlohmann::json& object, const TokenSet* set, TimePoint now);

} // namespace tokenctl::cli
