// Writing .netrc entries: the checks on what we write, the one-line format for printing, and
// the merger that edits a text in place.
//
// Why edits on the original text rather than re-serialising parsed blocks: the file is the
// user's, and may hold entries of other tools, macros, comments and layouts we must not touch.
// Each update becomes at most a few byte-span edits (replace the first entry, remove later
// duplicates, or insert one entry); everything outside those spans is copied unchanged, so the
// only bytes that change are ones tokenctl owns. What we write is plain: lowercase
// keywords, one pair per line, RFC 6750 token characters only, no quoting, no comments.
#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/netrc.hpp"
#include "tokenctl/url.hpp"

#include <algorithm>

namespace tokenctl {
namespace {

constexpr std::size_t k_max_token_bytes = 4096;
constexpr std::size_t k_warn_line_bytes = 4000;
constexpr std::size_t k_max_name_bytes = 255;
constexpr std::string_view k_password_prefix = "  password ";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_token_char(char c) { return is_alnum(c) || std::string_view("-._~+/=").find(c) != std::string_view::npos; }
bool is_login_char(char c) { return is_token_char(c) || c == '@'; }
bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~:").find(c) != std::string_view::npos;
}

// Return whether a name with ':' is an IPv6 literal (hex digits, '.', at least two ':'), not "host:port".
bool plausible_colons(std::string_view host) {
  if (std::count(host.begin(), host.end(), ':') == 0) return true;
  return std::count(host.begin(), host.end(), ':') >= 2 && std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.';
         });
}

bool all_of(std::string_view s, bool (*accept)(char)) {
  return std::all_of(s.begin(), s.end(), [accept](char c) { return accept(c); });
}

bool is_keyword(std::string_view value) {
  const std::string word = ascii_lower(value);
  return word == "machine" || word == "default" || word == "macdef" || word == "login" || word == "password" ||
         word == "account";
}

[[noreturn]] void refuse(const std::string& message) { throw Error(ErrorKind::failure, message); }

// Return whether `text` ends with an empty line ("\n" or "\r\n" right after another line ending).
bool ends_with_empty_line(std::string_view text) {
  if (text.empty() || text.back() != '\n') return false;
  text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text.empty() || text.back() == '\n';
}

std::string entry_text(const NetrcEntry& entry, std::string_view eol) {
  std::string out = "machine " + entry.machine;
  out += eol;
  out += "  login " + entry.login;
  out += eol;
  out += std::string(k_password_prefix) + entry.password;
  out += eol;
  return out;
}

struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

std::string apply_edits(std::string_view text, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::string out;
  std::size_t cursor = 0;
  for (const Edit& edit : edits) {
    out.append(text.substr(cursor, edit.begin - cursor));
    out += edit.text;
    cursor = edit.end;
  }
  out.append(text.substr(cursor));
  return out;
}

[[noreturn]] void refuse_problem(const NetrcProblem& problem) {
  throw Error(ErrorKind::failure,
              "cannot update the netrc file: line " + std::to_string(problem.line) + ": " + problem.message +
                  "; tokenctl rewrites only files that it parses the way curl and Python do",
              "fix that line by hand, or write to a file of tokenctl's own with --file");
}

// Return where to start removing an entry that begins at `begin`: the start of the empty line
// directly above it when there is one after `floor` (the previous block's end, so that the empty
// line closing a macdef stays), else `begin`. Taking that line keeps the spacing of the file, and
// avoids leaving an empty line right above a comment line, which Python's netrc (3.11) rejects.
std::size_t removal_begin(std::string_view text, std::size_t begin, std::size_t floor) {
  if (begin == 0 || text[begin - 1] != '\n') return begin;
  std::size_t start = begin - 1;
  if (start > 0 && text[start - 1] == '\r') --start;
  if (start != 0 && text[start - 1] != '\n') return begin;
  return start >= floor ? start : begin;
}

// Return the text to insert at `point` so that the entry starts on a line of its own, after an
// empty line unless it opens the file (which also closes an unterminated macdef before it).
std::string insertion(std::string_view text, std::size_t point, const std::string& entry, std::string_view eol) {
  std::string prefix(text.substr(0, point));
  std::string out;
  if (!prefix.empty() && prefix.back() != '\n') out += eol;
  if (!prefix.empty() && !ends_with_empty_line(prefix + out)) out += eol;
  return out + entry;
}

// Apply one update to `text`, which parses without problem; record what happened in `report`.
std::string merge_one(std::string_view text, const NetrcEntry& update, MergeReport& report) {
  const NetrcFile file = parse_netrc(text);
  if (file.problem) refuse_problem(*file.problem);
  const std::string_view eol = file.crlf ? "\r\n" : "\n";
  const std::string entry = entry_text(update, eol);

  const NetrcBlock* first_default = nullptr;
  std::vector<std::size_t> matches; // indexes into file.blocks
  for (std::size_t i = 0; i < file.blocks.size(); ++i) {
    const NetrcBlock& block = file.blocks[i];
    if (block.kind == NetrcBlockKind::default_entry && first_default == nullptr) first_default = &block;
    if (block.kind == NetrcBlockKind::machine && ascii_lower(block.name) == update.machine) matches.push_back(i);
  }

  std::vector<Edit> edits;
  const bool in_place =
      !matches.empty() && (first_default == nullptr || file.blocks[matches.front()].begin < first_default->begin);
  for (std::size_t i : matches) {
    const NetrcBlock& match = file.blocks[i];
    if (in_place && i == matches.front())
      edits.push_back({match.begin, match.end, entry});
    else
      edits.push_back({removal_begin(text, match.begin, i == 0 ? 0 : file.blocks[i - 1].end), match.end, {}});
  }
  if (!in_place) {
    const std::size_t point = first_default != nullptr ? first_default->comment_begin : text.size();
    std::string inserted = insertion(text, point, entry, eol);
    // A blank line before the default, unless its comments follow: Python's netrc (3.11) rejects a
    // comment line that comes after an empty line inside an entry.
    if (first_default != nullptr && first_default->comment_begin == first_default->begin) inserted += eol;
    edits.push_back({point, point, std::move(inserted)});
  }

  if (matches.empty()) {
    report.added.push_back(update.machine);
  } else {
    report.replaced.push_back(update.machine);
    report.duplicates_removed += matches.size() - 1;
  }
  if (!matches.empty() && !in_place)
    report.warnings.push_back("the netrc entry for " + update.machine +
                              " came after the default entry, where curl never reads it; it now comes before it");
  return apply_edits(text, std::move(edits));
}

// Return a warning when a default entry has machine entries after it (curl uses the default instead).
std::string default_order_warning(std::string_view text) {
  bool seen_default = false;
  for (const NetrcBlock& block : parse_netrc(text).blocks) {
    if (block.kind == NetrcBlockKind::default_entry) seen_default = true;
    if (block.kind == NetrcBlockKind::machine && seen_default)
      return "the netrc default entry is not the last entry: curl uses it instead of any machine entry after it";
  }
  return "";
}

} // namespace

void check_netrc_entry(const NetrcEntry& entry) {
  if (entry.machine.empty() || entry.machine.size() > k_max_name_bytes || !all_of(entry.machine, is_host_char) ||
      !plausible_colons(entry.machine))
    refuse("the netrc machine name is not a lowercase host name without scheme, port or brackets");
  const std::string& host = entry.machine;
  if (entry.login.empty() || entry.login.size() > k_max_name_bytes || !all_of(entry.login, is_login_char) ||
      is_keyword(entry.login))
    refuse("the netrc login for " + host +
           " must be letters, digits and - . _ ~ + / = @ only, and not a netrc keyword");
  if (entry.password.empty()) refuse("the access token for " + host + " is empty");
  if (entry.password.size() > k_max_token_bytes)
    refuse("the access token for " + host + " is " + std::to_string(entry.password.size()) +
           " bytes: curl 8.11.1 and later refuse netrc tokens over 4096 bytes (and curl 7.84 to 8.10 "
           "ignores lines of 4095 bytes and more), so it is not written to a netrc file");
  if (is_keyword(entry.password)) refuse("the access token for " + host + " is a netrc keyword");
  if (!all_of(entry.password, is_token_char))
    refuse("the access token for " + host +
           " holds characters that a netrc file cannot carry unquoted (RFC 6750 token characters only: "
           "A-Z a-z 0-9 - . _ ~ + / =)");
}

std::string netrc_line_warning(std::string_view machine, std::size_t line_bytes) {
  if (line_bytes < k_warn_line_bytes) return "";
  return "the netrc password line for " + std::string(machine) + " is " + std::to_string(line_bytes) +
         " bytes: curl 7.84 to 8.10 silently ignores lines of 4095 bytes and more, and then sends an "
         "empty password";
}

std::string format_netrc_entry(const NetrcEntry& entry) {
  check_netrc_entry(entry);
  return "machine " + entry.machine + " login " + entry.login + " password " + entry.password;
}

std::string merge_netrc(std::string_view text, const std::vector<NetrcEntry>& updates, MergeReport& report) {
  for (std::size_t i = 0; i < updates.size(); ++i) {
    check_netrc_entry(updates[i]);
    for (std::size_t j = 0; j < i; ++j)
      if (updates[j].machine == updates[i].machine) refuse("two entries for netrc machine " + updates[i].machine);
  }
  const NetrcFile file = parse_netrc(text);
  if (file.problem) refuse_problem(*file.problem);

  MergeReport local;
  std::string out(text);
  for (const NetrcEntry& update : updates) out = merge_one(out, update, local);
  for (const NetrcEntry& update : updates) {
    std::string warning = netrc_line_warning(update.machine, k_password_prefix.size() + update.password.size());
    if (!warning.empty()) local.warnings.push_back(std::move(warning));
  }
  if (std::string warning = default_order_warning(out); !warning.empty()) local.warnings.push_back(std::move(warning));

  report.replaced.insert(report.replaced.end(), local.replaced.begin(), local.replaced.end());
  report.added.insert(report.added.end(), local.added.begin(), local.added.end());
  report.duplicates_removed += local.duplicates_removed;
  report.warnings.insert(report.warnings.end(), local.warnings.begin(), local.warnings.end());
  return out;
}

std::string netrc_machine_for(std::string_view host_url) {
  const auto url = parse_url(host_url);
  if (!url) throw Error(ErrorKind::config, "the profile's host is not an http(s) URL, so it names no netrc machine");
  return url->host;
}

} // namespace tokenctl
