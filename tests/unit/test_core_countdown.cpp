// The text of login's countdown line (tokenctl/countdown.hpp).
#include <doctest/doctest.h>

#include "tokenctl/countdown.hpp"

using namespace tokenctl;
using std::chrono::seconds;

TEST_SUITE_BEGIN("core.countdown");

TEST_CASE("countdown_time counts down to the second") {
  CHECK(countdown_time(seconds{300}) == "5m 0s");
  CHECK(countdown_time(seconds{299}) == "4m 59s");
  CHECK(countdown_time(seconds{60}) == "1m 0s");
  CHECK(countdown_time(seconds{59}) == "59s");
  CHECK(countdown_time(seconds{1}) == "1s");
  CHECK(countdown_time(seconds{0}) == "0s");
  CHECK(countdown_time(seconds{-5}) == "0s");
  CHECK(countdown_time(seconds{3605}) == "1h 0m 5s");
  CHECK(countdown_time(seconds{7322}) == "2h 2m 2s");
}

TEST_CASE("countdown_line: the whole line when it fits, shorter forms when not, nothing at last") {
  const std::string full = "Waiting for the browser: 4m 59s left (Ctrl-C to cancel)";
  CHECK(countdown_line("Waiting for the browser", seconds{299}, 80) == full);
  CHECK(countdown_line("Waiting for the browser", seconds{299}, 0) == full); // width not known: 80
  // The cursor stays on the line: the text takes at most columns - 1.
  const int exact = static_cast<int>(full.size()) + 1;
  CHECK(countdown_line("Waiting for the browser", seconds{299}, exact) == full);
  CHECK(countdown_line("Waiting for the browser", seconds{299}, exact - 1) == "Waiting for the browser: 4m 59s left");
  CHECK(countdown_line("Waiting for the browser", seconds{299}, 20) == "4m 59s left");
  CHECK(countdown_line("Waiting for the browser", seconds{299}, 12) == "4m 59s left");
  CHECK(countdown_line("Waiting for the browser", seconds{299}, 11) == "");
}

TEST_SUITE_END();
