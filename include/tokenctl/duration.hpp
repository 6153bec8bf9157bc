// Durations and timestamps as the contract writes them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tokenctl {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::sys_seconds;
using Seconds = std::chrono::seconds;

// Parse "90s", "5m", "1h" or a bare number of seconds; nullopt if malformed or negative.
std::optional<Seconds> parse_duration(std::string_view text);
// Format a duration for people: "59m 12s", "2h 3m", "45s", "364d 23h" (from 72 hours on),
// "-3m 2s" for negative values.
std::string format_duration(Seconds d);
// Format a time as RFC 3339 UTC with whole seconds: "2026-11-23T20:12:00Z" (clamped to years 0-9999).
std::string format_rfc3339(TimePoint t);
// Parse an RFC 3339 UTC timestamp as written by format_rfc3339 (also accepts "+00:00").
std::optional<TimePoint> parse_rfc3339(std::string_view text);

} // namespace tokenctl
