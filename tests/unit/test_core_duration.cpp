#include <doctest/doctest.h>

#include <limits>

#include "tokenctl/duration.hpp"

using namespace tokenctl;
using std::chrono::seconds;

namespace {
TimePoint at(long long unix_seconds) { return TimePoint{seconds{unix_seconds}}; }
} // namespace

TEST_SUITE_BEGIN("core.duration");

TEST_CASE("parse_duration reads a number with s, m or h, or bare seconds") {
  CHECK(parse_duration("90s") == seconds{90});
  CHECK(parse_duration("5m") == seconds{300});
  CHECK(parse_duration("1h") == seconds{3600});
  CHECK(parse_duration("300") == seconds{300});
  CHECK(parse_duration("0") == seconds{0});
  CHECK(parse_duration("0s") == seconds{0});
  CHECK(parse_duration("007m") == seconds{420});
  CHECK(parse_duration("876000h") == seconds{876000LL * 3600}); // 100 years: still accepted
}

TEST_CASE("parse_duration rejects signs, spaces, other units, trailing bytes and overflow") {
  for (const char* bad : {"",
                          "s",
                          "m",
                          "h",
                          "-5m",
                          "+5m",
                          " 5m",
                          "5m ",
                          "5 m",
                          "5d",
                          "5ms",
                          "1h30m",
                          "1.5h",
                          "5M",
                          "0x10",
                          "5mm",
                          "1e3",
                          "5s\n",
                          "99999999999999999999",
                          "9223372036854775807",
                          "2562047788015216h",
                          "1000000h",
                          "5256000001m"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
  CHECK_FALSE(parse_duration(std::string_view("5\0m", 3)).has_value());
}

TEST_CASE("format_duration writes the two largest units") {
  CHECK(format_duration(seconds{0}) == "0s");
  CHECK(format_duration(seconds{45}) == "45s");
  CHECK(format_duration(seconds{60}) == "1m");
  CHECK(format_duration(seconds{59 * 60 + 12}) == "59m 12s");
  CHECK(format_duration(seconds{2 * 3600 + 3 * 60 + 59}) == "2h 3m");
  CHECK(format_duration(seconds{3600}) == "1h");
  CHECK(format_duration(seconds{49 * 3600 + 60}) == "49h 1m");
  CHECK(format_duration(seconds{-182}) == "-3m 2s");
  CHECK(format_duration(seconds{-5}) == "-5s");
  CHECK(format_duration(seconds{71 * 3600 + 60}) == "71h 1m");
  CHECK(format_duration(seconds{72 * 3600 + 60}) == "3d");
  CHECK(format_duration(seconds{365 * 86400 - 3600}) == "364d 23h");
  CHECK(format_duration(seconds{std::numeric_limits<long long>::min()}) == "-106751991167300d 15h");
}

TEST_CASE("format_rfc3339 writes UTC with whole seconds") {
  CHECK(format_rfc3339(at(0)) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(at(1795464720)) == "2026-11-23T20:12:00Z");
  CHECK(format_rfc3339(at(951868799)) == "2000-02-29T23:59:59Z");
  CHECK(format_rfc3339(at(-1)) == "1969-12-31T23:59:59Z");
  CHECK(format_rfc3339(at(253402300799)) == "9999-12-31T23:59:59Z");
  // Times beyond four-digit years are clamped, so that what is written can be read back.
  CHECK(format_rfc3339(at(253402300800)) == "9999-12-31T23:59:59Z");
  CHECK(format_rfc3339(at(std::numeric_limits<long long>::max())) == "9999-12-31T23:59:59Z");
  CHECK(format_rfc3339(at(-62167219201)) == "0000-01-01T00:00:00Z");
  CHECK(format_rfc3339(at(std::numeric_limits<long long>::min())) == "0000-01-01T00:00:00Z");
}

TEST_CASE("parse_rfc3339 reads what format_rfc3339 writes, and UTC offsets") {
  CHECK(parse_rfc3339("2026-11-23T20:12:00Z") == at(1795464720));
  CHECK(parse_rfc3339("2026-11-23T20:12:00+00:00") == at(1795464720));
  CHECK(parse_rfc3339("2026-11-23T20:12:00-00:00") == at(1795464720));
  CHECK(parse_rfc3339("2026-11-23t20:12:00z") == at(1795464720));
  CHECK(parse_rfc3339("2026-11-23T20:12:00.999Z") == at(1795464720));
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == at(1483228800)); // leap second: next minute
  for (long long t : {0LL, 1LL, -1LL, 951868799LL, 1795464720LL, 4102444800LL, 253402300799LL}) {
    CAPTURE(t);
    CHECK(parse_rfc3339(format_rfc3339(at(t))) == at(t));
  }
}

TEST_CASE("parse_rfc3339 rejects garbage, impossible dates and other zones") {
  for (const char* bad : {"",
                          "Z",
                          "2026-11-23",
                          "2026-11-23T20:12Z",
                          "2026-11-23T20:12:00",
                          "2026-11-23 20:12:00Z",
                          "2026-11-23T20:12:00+01:00",
                          "2026-11-23T20:12:00+0000",
                          "2026-11-23T20:12:00ZZ",
                          "2026-11-23T20:12:00Z ",
                          " 2026-11-23T20:12:00Z",
                          "2026-13-01T00:00:00Z",
                          "2026-00-01T00:00:00Z",
                          "2026-02-29T00:00:00Z",
                          "2026-04-31T00:00:00Z",
                          "2026-11-23T24:00:00Z",
                          "2026-11-23T23:60:00Z",
                          "2026-11-23T23:59:61Z",
                          "2026-11-23T20:12:00.Z",
                          "+2026-11-23T20:12:00Z",
                          "2026-1-023T20:12:00Z",
                          "20261123T201200Z",
                          "2026-11-23T2a:12:00Z",
                          "1795464720"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_SUITE_END();
