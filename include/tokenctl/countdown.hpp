// The status line that counts down while login waits on a terminal:
// "Waiting for the browser: 4m 59s left (Ctrl-C to cancel)". Pure: the text only; drawing it in
// place is src/cli/countdown.hpp's.
#pragma once

#include <string>
#include <string_view>

#include "tokenctl/duration.hpp"

namespace tokenctl {

// Return `left` down to the second: "4m 59s", "5m 0s", "59s", "1h 0m 5s"; "0s" when none is left.
std::string countdown_time(Seconds left);

// Return the status line "WAITING: 4m 59s left (Ctrl-C to cancel)", shortened to fit in
// `columns` - 1 (the cursor stays on the line): without the Ctrl-C part, then only "4m 59s left";
// "" when not even that fits. `columns` 0 (not known) is taken as 80.
std::string countdown_line(std::string_view waiting, Seconds left, int columns);

} // namespace tokenctl
