// Checks that run on untrusted JSON bytes before a parser sees them.
#pragma once

#include <cstddef>
#include <string_view>

namespace tokenctl {

// Return the deepest nesting of arrays and objects in `text` (0 for a scalar), skipping strings
// with their escapes; the scan stops, and returns, as soon as the depth passes `limit`.
int json_nesting_depth(std::string_view text, int limit);

} // namespace tokenctl
