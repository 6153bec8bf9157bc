// The shared text helpers, and the one sanitizer every message passes through before it is printed.
#include <doctest/doctest.h>

#include <string>

#include "tokenctl/text.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.text");

TEST_CASE("case-insensitive comparison and lowercasing are ASCII only") {
  CHECK(iequals("Content-Type", "content-TYPE"));
  CHECK_FALSE(iequals("abc", "abcd"));
  CHECK_FALSE(iequals("\xc3\x89", "\xc3\xa9")); // É and é: not ASCII, compared as bytes
  CHECK(ascii_lower("HeLLo-\xc3\x89") == "hello-\xc3\x89");
  CHECK(hex_digit_value('a') == 10);
  CHECK(hex_digit_value('F') == 15);
  CHECK(hex_digit_value('g') == -1);
}

TEST_CASE("trim, join, split_words, contains, octal_mode") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim(" \t ") == "");
  CHECK(trim("xxaxx", "x") == "a");
  CHECK(join({"openid", "offline_access"}) == "openid offline_access");
  CHECK(join({"", "b"}, ",") == ",b");
  CHECK(join({}) == "");
  CHECK(split_words("  openid\toffline_access \n api ") == std::vector<std::string>{"openid", "offline_access", "api"});
  CHECK(split_words("   ").empty());
  CHECK(contains({"a", "b"}, "b"));
  CHECK_FALSE(contains({"a", "b"}, "c"));
  CHECK(octal_mode(0100644) == "0644");
  CHECK(octal_mode(04755) == "4755");
}

TEST_CASE("sanitize escapes C0 controls, DEL and newlines - keeps printable ASCII") {
  CHECK(sanitize("plain text: ok [1] ~") == "plain text: ok [1] ~");
  CHECK(sanitize("\x1b[2J\x1b]0;owned\x07") == "\\x1b[2J\\x1b]0;owned\\x07");
  CHECK(sanitize("a\nb\r\tc\x7f") == "a\\x0ab\\x0d\\x09c\\x7f");
  CHECK(sanitize(std::string("nul\0here", 8)) == "nul\\x00here");
}

TEST_CASE("sanitize escapes C1 controls in UTF-8 and bytes that are not UTF-8") {
  CHECK(sanitize("\xc2\x9b"
                 "31m") == "\\x9b31m");   // U+009B, a CSI on many terminals
  CHECK(sanitize("\xc2\x85") == "\\x85"); // U+0085 NEL
  CHECK(sanitize("\x9b"
                 "2J") == "\\x9b2J"); // a raw C1 byte: not UTF-8
  CHECK(sanitize("\xff\xfe") == "\\xff\\xfe");
  CHECK(sanitize("\xc0\xaf") == "\\xc0\\xaf");          // overlong '/'
  CHECK(sanitize("\xed\xa0\x80") == "\\xed\\xa0\\x80"); // a surrogate
  CHECK(sanitize("\xe2\x82") == "\\xe2\\x82");          // truncated
}

TEST_CASE("sanitize shows bidirectional controls escaped and keeps other non-ASCII text") {
  CHECK(sanitize("Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91") == "Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
  CHECK(sanitize("user\xe2\x80\xae"
                 "cod.exe") == "user\\u202ecod.exe"); // RIGHT-TO-LEFT OVERRIDE
  CHECK(sanitize("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");
  CHECK(sanitize("\xe2\x80\x8f") == "\\u200f");
  CHECK(sanitize("\xd8\x9c") == "\\u061c");
}

TEST_CASE("sanitize is idempotent: a sanitized text passes through unchanged") {
  const std::string once = sanitize("\x1b[31m\xc2\x9b\xe2\x80\xae\xff");
  CHECK(sanitize(once) == once);
}

TEST_CASE("shorten cuts at a character boundary and marks the cut") {
  CHECK(shorten("abcdef", 6) == "abcdef");
  CHECK(shorten("abcdef", 3) == "abc...");
  CHECK(shorten("a\xc3\xa9z", 2) == "a..."); // not inside é
  CHECK(shorten("", 0) == "");
}

TEST_SUITE_END();
