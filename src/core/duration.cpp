// Durations ("90s", "5m", "1h", "300") and RFC 3339 UTC timestamps.
//
// Both come from people and from files that may be damaged, so the parsers are strict: no sign,
// no spaces, nothing trailing, and no value whose arithmetic could overflow. Timestamps use the
// std::chrono calendar types rather than gmtime/timegm, so that no time zone or locale state is
// consulted and every date is validated (2026-02-30 is refused, not normalised).
#include "tokenctl/duration.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace tokenctl {

namespace {

// Durations longer than this are refused; it keeps `now + d` far from any overflow.
constexpr std::int64_t k_max_duration_seconds = 100LL * 366 * 24 * 3600;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parse exactly `n` digits at `pos` of `s`; nullopt if any is missing or not a digit.
std::optional<int> fixed_digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// Parse the zone designator of a UTC timestamp: "Z", "z", "+00:00" or "-00:00".
bool is_utc_designator(std::string_view zone) {
  return zone == "Z" || zone == "z" || zone == "+00:00" || zone == "-00:00";
}

} // namespace

std::optional<Seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
  case 's':
    unit = 1;
    text.remove_suffix(1);
    break;
  case 'm':
    unit = 60;
    text.remove_suffix(1);
    break;
  case 'h':
    unit = 3600;
    text.remove_suffix(1);
    break;
  default: break;
  }
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > k_max_duration_seconds) return std::nullopt;
  }
  if (value > k_max_duration_seconds / unit) return std::nullopt;
  return Seconds{value * unit};
}

std::string format_duration(Seconds d) {
  const std::int64_t count = d.count();
  // Work on the magnitude as unsigned, so that the most negative value has one too.
  const std::uint64_t total = count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  const std::uint64_t hours = total / 3600;
  const std::uint64_t minutes = total % 3600 / 60;
  const std::uint64_t seconds = total % 60;
  std::string out = count < 0 ? "-" : "";
  if (hours >= 72) { // from three days on, days and hours: a year-long refresh token reads "364d 23h"
    out += std::to_string(hours / 24) + "d";
    if (hours % 24 > 0) out += " " + std::to_string(hours % 24) + "h";
  } else if (hours > 0) {
    out += std::to_string(hours) + "h";
    if (minutes > 0) out += " " + std::to_string(minutes) + "m";
  } else if (minutes > 0) {
    out += std::to_string(minutes) + "m";
    if (seconds > 0) out += " " + std::to_string(seconds) + "s";
  } else {
    out += std::to_string(seconds) + "s";
  }
  return out;
}

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  // RFC 3339 has four-digit years; a time outside them (a server's absurd expires_in) is clamped
  // so that what is written can always be read back.
  const TimePoint first = sys_days{year{0} / January / 1};
  const TimePoint last = sys_days{year{9999} / December / 31} + hours{23} + minutes{59} + seconds{59};
  t = std::clamp(t, first, last);
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS is 19 characters; a fraction and the zone follow.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':') return std::nullopt;
  if (text[10] != 'T' && text[10] != 't') return std::nullopt;
  const auto y = fixed_digits(text, 0, 4), mo = fixed_digits(text, 5, 2), d = fixed_digits(text, 8, 2);
  const auto h = fixed_digits(text, 11, 2), mi = fixed_digits(text, 14, 2), s = fixed_digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  std::size_t pos = 19;
  if (text[pos] == '.') { // a fraction of a second: at least one digit, then dropped
    ++pos;
    const std::size_t first = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == first) return std::nullopt;
  }
  if (!is_utc_designator(text.substr(pos))) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  // Second 60 is a leap second: it is read as the first second of the next minute.
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  return sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s};
}

} // namespace tokenctl
