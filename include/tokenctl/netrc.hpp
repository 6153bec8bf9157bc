// The .netrc file: a parser that reads it the way curl does, and a merger that replaces or adds
// tokenctl's entries while keeping every other byte.
//
// Spans. Each block (a `machine` or `default` entry, or a `macdef` macro) records the bytes it
// owns, [begin, end):
// - begin is its keyword, or the start of the keyword's line when only blanks precede it there;
// - an entry ends with the line of its last token (that line's newline included), or at the next
//   keyword when that keyword starts on the same line. Blank lines and comment lines after the
//   last token are not the entry's: they stay when the entry is replaced or removed. Comment lines
//   inside an entry (between its tokens) are the entry's;
// - a macdef ends after the empty line that closes its body (or at the end of the text);
// - comment_begin is the start of the comment lines directly above the block (no blank line in
//   between): the merger inserts a new entry above those of a `default`, keeping them together.
//
// Merging. The first entry of a machine is replaced in place by
// "machine HOST\n  login LOGIN\n  password TOKEN\n" ("\r\n" if the file's first line ends so);
// later entries of that machine are removed, each with the empty line directly above it. A new
// entry goes before the first `default` (and its comments), or at the end; it starts on a line
// of its own after an empty line (unless it opens the file), which also closes an unterminated
// macdef. An entry found only after a `default` (where curl never reads it) moves before it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenctl {

// One credential: what tokenctl writes, and what a parsed entry holds.
struct NetrcEntry {
  std::string machine; // lowercase host name
  std::string login;
  std::string password;
};

enum class NetrcBlockKind { machine, default_entry, macdef };

struct NetrcBlock {
  NetrcBlockKind kind = NetrcBlockKind::machine;
  std::string name;     // machine: host as written, unquoted; macdef: macro name
  std::string login;    // first `login` value ("" if none)
  std::string password; // first `password` value ("" if none)
  bool has_login = false;
  bool has_password = false;
  std::size_t begin = 0;         // see the spans rule above
  std::size_t end = 0;           // one past the last byte
  std::size_t comment_begin = 0; // start of the comment lines above; == begin if none
  std::size_t line = 0;          // 1-based line of the keyword
  bool terminated = true;        // macdef: closed by an empty line before the end of text
};

// Why a text cannot be rewritten safely (its consumers would disagree, or curl rejects it).
struct NetrcProblem {
  std::size_t line = 0; // 1-based
  std::string message;  // never quotes values from the file
};

struct NetrcFile {
  std::vector<NetrcBlock> blocks;      // in text order
  std::optional<NetrcProblem> problem; // the first one; blocks after it are not listed
  bool crlf = false;                   // the first line ends with "\r\n"
};

// What merge_netrc did, for the command to tell the user (no token bytes anywhere).
struct MergeReport {
  std::vector<std::string> replaced;  // machines whose first entry was rewritten
  std::vector<std::string> added;     // machines given a new entry
  std::size_t duplicates_removed = 0; // later entries of the same machines, removed
  std::vector<std::string> warnings;  // long password lines, a default that is not last
};

// Return the blocks of a netrc text and its first problem; never throws on any input.
NetrcFile parse_netrc(std::string_view text);

// Return `text` with one entry per update (replaced in place, or inserted before `default`, or
// appended), later duplicates removed and every other byte kept; throws Error (failure) when the
// text has a problem or an update cannot be written (see check_netrc_entry).
std::string merge_netrc(std::string_view text, const std::vector<NetrcEntry>& updates, MergeReport& report);

// Throw Error (failure) unless machine, login and password can be written unquoted and read back
// alike by curl, Python and wget, and the password is at most 4096 bytes.
void check_netrc_entry(const NetrcEntry& entry);

// Return the warning for a line of `line_bytes` bytes (line ending excluded) holding the password
// for `machine`, or "" when it is under 4,000 bytes.
std::string netrc_line_warning(std::string_view machine, std::size_t line_bytes);

// Return `machine HOST login LOGIN password TOKEN` (no line ending), after check_netrc_entry.
std::string format_netrc_entry(const NetrcEntry& entry);

// Return the lowercase host name of an http(s) URL, without scheme, port, brackets or path;
// throws Error (config) when `host_url` is not one.
std::string netrc_machine_for(std::string_view host_url);

} // namespace tokenctl
