// Small text helpers shared by every layer, and the one sanitizer for text that reaches a terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tokenctl {

// Return `c` lowercased if it is an ASCII capital letter.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
// Return the value of a hexadecimal digit (either case), or -1.
constexpr int hex_digit_value(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}
// Return `s` with its ASCII capital letters lowercased.
std::string ascii_lower(std::string_view s);
// Return whether `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
// Return `s` without leading and trailing characters of `chars` (blanks by default).
std::string_view trim(std::string_view s, std::string_view chars = " \t\r\n");
// Return `items` joined by `separator`.
std::string join(const std::vector<std::string>& items, std::string_view separator = " ");
// Return the words of `s`, split on blanks.
std::vector<std::string> split_words(std::string_view s);
// Return whether `items` contains `item`.
bool contains(const std::vector<std::string>& items, std::string_view item);
// Return the permission bits of a file mode as four octal digits: "0644".
std::string octal_mode(unsigned mode);

// Return `text` made safe for a terminal: C0 controls (newline and tab included), DEL, C1 controls
// (U+0080..U+009F) and bytes that are not UTF-8 are written as \xHH, and the bidirectional
// controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) as \uHHHH, so that no text
// from a server or a file can move the cursor, change the title, or reorder what is shown.
// Everything else, valid non-ASCII UTF-8 included, is kept.
std::string sanitize(std::string_view text);
// Return `text` cut to at most `max_bytes` bytes (not inside a UTF-8 character) with "..."
// appended when it was cut.
std::string shorten(std::string_view text, std::size_t max_bytes);

} // namespace tokenctl
