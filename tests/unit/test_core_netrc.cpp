// The .netrc parser and merger: golden files (tests/unit/data/netrc/NAME.in merged into
// NAME.expected), the spans rule, the problems that make the merger refuse a text, and the
// checks and limits on what tokenctl writes.
//
// Hand checks of the golden outputs with the real consumers (run from the source root).
// Python's netrc must find the new password:
//   for f in tests/unit/data/netrc/*.expected; do python3 -c 'import netrc, sys
//   try: print(sys.argv[1], netrc.netrc(sys.argv[1]).authenticators("api.example.com"))
//   except netrc.NetrcParseError as e: print(sys.argv[1], "REJECTED:", e)' "$f"; done
// Expected: ('token', '', 'NEW.token-123_abc~+/=') for all files but comments, duplicates and
// uppercase, whose inputs Python 3.11 already rejects for lines the merger keeps (`MACHINE`, and a
// comment line after an empty line, which trips Python's comment handling); crlf and
// python_comments also answer the same for "new.example.org". curl (7.88.1) must send it:
//   python3 -m http.server 18765 --bind 127.0.0.1 &   # then, for each file F and host H:
//   curl -sv --netrc-file F --connect-to H:80:127.0.0.1:18765 http://H/ -o /dev/null 2>&1 |
//     grep -a '^> Authorization' | awk '{print $4}' | tr -d '\r' | base64 -d
// Expected: token:NEW.token-123_abc~+/= for api.example.com in every output (checked on 7.88.1).
#include <doctest/doctest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tokenctl/error.hpp"
#include "tokenctl/netrc.hpp"

using namespace tokenctl;

namespace {

const std::string k_token = "NEW.token-123_abc~+/=";
const NetrcEntry k_update{"api.example.com", "token", k_token};

std::string read_golden(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "data" / "netrc" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing golden file " << path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Return `text` without the spans of the machine entries named in `updates`.
std::string without_owned(const std::string& text, const std::vector<NetrcEntry>& updates) {
  const NetrcFile file = parse_netrc(text);
  REQUIRE_FALSE(file.problem);
  std::string out;
  std::size_t cursor = 0;
  for (const NetrcBlock& block : file.blocks) {
    if (block.kind != NetrcBlockKind::machine) continue;
    const std::string name = lowercase(block.name);
    bool owned = false;
    for (const NetrcEntry& update : updates) owned = owned || update.machine == name;
    if (!owned) continue;
    out += text.substr(cursor, block.begin - cursor);
    cursor = block.end;
  }
  return out + text.substr(cursor);
}

// Return `text` without its line-ending bytes: the merger adds line endings where it inserts an
// entry and removes an empty line above a removed duplicate; the golden files pin those down.
std::string without_line_endings(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c != '\n' && c != '\r') out += c;
  return out;
}

// Return the text of each block not named in `updates`, in order, without trailing blanks.
std::vector<std::string> other_blocks(const std::string& text, const std::vector<NetrcEntry>& updates) {
  std::vector<std::string> out;
  for (const NetrcBlock& block : parse_netrc(text).blocks) {
    bool owned = false;
    for (const NetrcEntry& update : updates)
      owned = owned || (block.kind == NetrcBlockKind::machine && update.machine == lowercase(block.name));
    if (owned) continue;
    std::string raw = text.substr(block.begin, block.end - block.begin);
    while (!raw.empty() && std::string_view(" \t\r\n").find(raw.back()) != std::string_view::npos) raw.pop_back();
    out.push_back(raw);
  }
  return out;
}

// Check the property: merging changes no byte outside the spans of the updated machines, but
// for line endings, and every other block keeps its bytes.
void check_keeps_other_bytes(const std::string& in, const std::string& out, const std::vector<NetrcEntry>& updates) {
  CHECK(without_line_endings(without_owned(in, updates)) == without_line_endings(without_owned(out, updates)));
  CHECK(other_blocks(in, updates) == other_blocks(out, updates));
}

struct Golden {
  std::string name;
  std::vector<NetrcEntry> updates;
  std::vector<std::string> replaced;
  std::vector<std::string> added;
  std::size_t duplicates_removed = 0;
  std::size_t warnings = 0;
};

const std::vector<Golden>& goldens() {
  const std::vector<std::string> api{"api.example.com"};
  static const std::vector<Golden> all = {
      {"empty", {k_update}, {}, api, 0, 0},
      {"only_comments", {k_update}, {}, api, 0, 0},
      {"replace_simple", {k_update}, api, {}, 0, 0},
      {"comments", {k_update}, api, {}, 0, 0},
      {"macdef_middle", {k_update}, api, {}, 0, 0},
      {"macdef_last", {k_update}, {}, api, 0, 0},
      {"default_last", {k_update}, {}, api, 0, 0},
      {"default_first", {k_update}, {}, api, 0, 1},
      {"default_shadows", {k_update}, api, {}, 0, 2},
      {"python_comments", {k_update, {"new.example.org", "token", k_token}}, api, {"new.example.org"}, 1, 0},
      {"duplicates", {k_update}, api, {}, 2, 0},
      {"tabs", {k_update}, api, {}, 0, 0},
      {"quoted", {k_update}, api, {}, 0, 0},
      {"crlf", {k_update, {"new.example.org", "token", k_token}}, api, {"new.example.org"}, 0, 0},
      {"no_final_newline", {k_update}, {}, api, 0, 0},
      {"no_final_newline_replace", {k_update}, api, {}, 0, 0},
      {"uppercase", {k_update}, api, {}, 0, 0},
      {"same_line", {k_update}, api, {}, 0, 0},
      {"unknown_keywords", {k_update}, api, {}, 0, 0},
  };
  return all;
}

std::string merged(std::string_view text, const std::vector<NetrcEntry>& updates = {k_update}) {
  MergeReport report;
  return merge_netrc(text, updates, report);
}

std::string refusal(std::string_view text, const std::vector<NetrcEntry>& updates = {k_update}) {
  try {
    merged(text, updates);
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::failure);
    return error.what();
  }
  return "(no error)";
}

} // namespace

TEST_SUITE_BEGIN("core.netrc");

TEST_CASE("golden merges: output, report, idempotence and untouched bytes") {
  for (const Golden& golden : goldens()) {
    CAPTURE(golden.name);
    const std::string in = read_golden(golden.name + ".in");
    const std::string expected = read_golden(golden.name + ".expected");
    MergeReport report;
    const std::string out = merge_netrc(in, golden.updates, report);
    CHECK(out == expected);
    CHECK(report.replaced == golden.replaced);
    CHECK(report.added == golden.added);
    CHECK(report.duplicates_removed == golden.duplicates_removed);
    CHECK(report.warnings.size() == golden.warnings);
    CHECK(merged(out, golden.updates) == out);
    check_keeps_other_bytes(in, out, golden.updates);
    const NetrcFile reparsed = parse_netrc(out);
    CHECK_FALSE(reparsed.problem);
    std::size_t ours = 0;
    for (const NetrcBlock& block : reparsed.blocks)
      if (block.kind == NetrcBlockKind::machine && block.name == "api.example.com") {
        ++ours;
        CHECK(block.login == "token");
        CHECK(block.password == k_token);
      }
    CHECK(ours == 1);
  }
}

TEST_CASE("merge reports a default that shadows later entries, and moves ours before it") {
  MergeReport report;
  merge_netrc(read_golden("default_shadows.in"), {k_update}, report);
  REQUIRE(report.warnings.size() == 2);
  CHECK(report.warnings[0] == "the netrc entry for api.example.com came after the default entry, where curl never "
                              "reads it; it now comes before it");
  CHECK(report.warnings[1] == "the netrc default entry is not the last entry: curl uses it instead of any machine "
                              "entry after it");
}

TEST_CASE("parse_netrc spans: keyword line start, last token line, comments above") {
  const std::string text = "# head\n"              // 0..7
                           "\n"                    // 7
                           "# about a\n"           // 8..18
                           "  machine a login x\n" // 18..38
                           "  # inside\n"          // 38..49
                           "  password y # tail\n" // 49..69
                           "# after a\n"           // 69..79
                           "\n"                    // 79
                           "machine b login u password v default login d password e\n";
  const NetrcFile file = parse_netrc(text);
  REQUIRE_FALSE(file.problem);
  REQUIRE(file.blocks.size() == 3);
  const NetrcBlock& a = file.blocks[0];
  CHECK(a.kind == NetrcBlockKind::machine);
  CHECK(a.name == "a");
  CHECK(a.line == 4);
  CHECK(a.comment_begin == 8);
  CHECK(a.begin == 18);
  CHECK(a.end == 69);
  CHECK(a.login == "x");
  CHECK(a.password == "y");
  const NetrcBlock& b = file.blocks[1];
  CHECK(b.comment_begin == 80);
  CHECK(b.begin == 80);
  CHECK(text.substr(b.begin, b.end - b.begin) == "machine b login u password v ");
  const NetrcBlock& d = file.blocks[2];
  CHECK(d.kind == NetrcBlockKind::default_entry);
  CHECK(d.begin == b.end);
  CHECK(d.end == text.size());
  CHECK(d.login == "d");
  CHECK_FALSE(file.crlf);
}

TEST_CASE("parse_netrc reads keywords in any case, quoted strings with escapes, first values") {
  const NetrcFile file = parse_netrc("MaChInE \"h o\" LOGIN \"a\\\"b\\\\c\\n\" PASSWORD p1 password p2 "
                                     "login l2\nmachine u login a\\\\b password #x\"y\n");
  // The second entry's password starts with '#': a comment for curl 7.x, a value for Python.
  REQUIRE(file.problem);
  CHECK(file.problem->line == 2);
  CHECK(file.problem->message == "a comment where the value of 'password' should be");
  REQUIRE(file.blocks.size() == 1);
  CHECK(file.blocks[0].name == "h o");
  CHECK(file.blocks[0].login == "a\"b\\c\n");
  CHECK(file.blocks[0].password == "p1");

  const std::string plain_text = "machine u login a\\\\b password \"x\\ty\"\r\n";
  const NetrcFile plain = parse_netrc(plain_text);
  REQUIRE_FALSE(plain.problem);
  CHECK(plain.crlf);
  REQUIRE(plain.blocks.size() == 1);
  CHECK(plain.blocks[0].login == "a\\\\b");
  CHECK(plain.blocks[0].password == "x\ty");
  CHECK(plain.blocks[0].end == plain_text.size());
}

TEST_CASE("parse_netrc skips macdef bodies up to an empty line") {
  const std::string text = "macdef init\nmachine hidden login a password b\n\r\nmachine seen password c\n"
                           "macdef tail\ncd /\n";
  const NetrcFile file = parse_netrc(text);
  REQUIRE_FALSE(file.problem);
  REQUIRE(file.blocks.size() == 3);
  CHECK(file.blocks[0].kind == NetrcBlockKind::macdef);
  CHECK(file.blocks[0].name == "init");
  CHECK(file.blocks[0].terminated);
  CHECK(file.blocks[0].end == text.find("machine seen"));
  CHECK(file.blocks[1].name == "seen");
  CHECK(file.blocks[1].begin == file.blocks[0].end);
  CHECK(file.blocks[2].kind == NetrcBlockKind::macdef);
  CHECK_FALSE(file.blocks[2].terminated);
  CHECK(file.blocks[2].end == text.size());
}

TEST_CASE("parse_netrc records the problems that make a text unsafe to rewrite") {
  struct Case {
    std::string text;
    std::size_t line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"machine a\n  password \"open\n", 2, "unterminated quoted string"},
      {"machine a password \"x\\\"\n", 1, "unterminated quoted string"},
      {"machine a password \"x\"y\n", 1, "a quoted string is followed by other characters without a blank"},
      {"machine a login b\nmachine", 2, "'machine' without a host name"},
      {"machine # x\n a\n", 1, "a comment where the host name after 'machine' should be"},
      {"machine a login b password", 1, "'password' without a value"},
      {"machine a login\n# c\n b\n", 2, "a comment where the value of 'login' should be"},
      {"machine a login Default password b\n", 1, "'login' is followed by the keyword 'default'"},
      {"machine a password \"macdef\"\n", 1, "'password' is followed by the keyword 'macdef'"},
      {"macdef m\nline\n  \nmore\n\n", 3,
       "a macdef body line holds only blanks (or starts with a carriage return): curl versions and Python "
       "disagree on where the macro ends"},
      {std::string("machine a\nlogin b\0", 18), 2, "a NUL byte"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const NetrcFile file = parse_netrc(c.text);
    REQUIRE(file.problem);
    CHECK(file.problem->line == c.line);
    CHECK(file.problem->message == c.message);
  }
}

TEST_CASE("merge refuses a text it cannot parse safely, with the line") {
  try {
    merged("machine git.example.org login a password \"unterminated\n");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::failure);
    CHECK(std::string(error.what()) == "cannot update the netrc file: line 1: unterminated quoted string; tokenctl "
                                       "rewrites only files that it parses the way curl and Python do");
    CHECK(error.hint() == "fix that line by hand, or write to a file of tokenctl's own with --file");
  }
  CHECK(refusal("machine a login b password #x\n") ==
        "cannot update the netrc file: line 1: a comment where the value of 'password' should be; tokenctl "
        "rewrites only files that it parses the way curl and Python do");
}

TEST_CASE("merge refuses values that cannot be written plain") {
  const std::string token_chars = "(RFC 6750 token characters only: A-Z a-z 0-9 - . _ ~ + / =)";
  for (const char* bad : {"a b", "a\"b", "a\\b", "#abc", "a,b", "a\nb", "tok\xc3\xa9n"})
    CHECK(refusal("", {{"api.example.com", "token", bad}}) ==
          "the access token for api.example.com holds characters that a netrc file cannot carry unquoted " +
              token_chars);
  CHECK(refusal("", {{"api.example.com", "token", ""}}) == "the access token for api.example.com is empty");
  CHECK(refusal("", {{"api.example.com", "token", "Default"}}) ==
        "the access token for api.example.com is a netrc keyword");
  for (const char* bad : {"two words", "", "machine", "x:y", "#me"})
    CHECK(refusal("", {{"api.example.com", bad, k_token}}) ==
          "the netrc login for api.example.com must be letters, digits and - . _ ~ + / = @ only, and not a "
          "netrc keyword");
  for (const char* bad : {"API.example.com", "https://api.example.com", "[::1]", "a b", "", "api.example.com:443"})
    CHECK(refusal("", {{bad, "token", k_token}}) ==
          "the netrc machine name is not a lowercase host name without scheme, port or brackets");
  CHECK(refusal("", {k_update, k_update}) == "two entries for netrc machine api.example.com");
  CHECK(merged("", {{"::1", "user@example.org", k_token}}) ==
        "machine ::1\n  login user@example.org\n  password NEW.token-123_abc~+/=\n");
}

TEST_CASE("token length: warn from a 4,000-byte password line, refuse over 4,096 bytes") {
  const std::size_t prefix = std::string("  password ").size();
  MergeReport below;
  merge_netrc("", {{"api.example.com", "token", std::string(4000 - prefix - 1, 'a')}}, below);
  CHECK(below.warnings.empty());

  MergeReport at;
  merge_netrc("", {{"api.example.com", "token", std::string(4000 - prefix, 'a')}}, at);
  REQUIRE(at.warnings.size() == 1);
  CHECK(at.warnings[0] == "the netrc password line for api.example.com is 4000 bytes: curl 7.84 to 8.10 silently "
                          "ignores lines of 4095 bytes and more, and then sends an empty password");

  MergeReport largest;
  const std::string out = merge_netrc("", {{"api.example.com", "token", std::string(4096, 'b')}}, largest);
  CHECK(out.find(std::string(4096, 'b') + "\n") != std::string::npos);
  CHECK(largest.warnings.size() == 1);

  CHECK(refusal("", {{"api.example.com", "token", std::string(4097, 'c')}}) ==
        "the access token for api.example.com is 4097 bytes: curl 8.11.1 and later refuse netrc tokens over "
        "4096 bytes (and curl 7.84 to 8.10 ignores lines of 4095 bytes and more), so it is not written to a "
        "netrc file");
  CHECK(netrc_line_warning("h", 3999).empty());
  CHECK_FALSE(netrc_line_warning("h", 4000).empty());
}

TEST_CASE("merge with no updates returns the text unchanged - a failed merge leaves the report empty") {
  const std::string text = "machine a login b password c";
  CHECK(merged(text, {}) == text);
  MergeReport report;
  CHECK_THROWS_AS(merge_netrc(text, {k_update, {"b.example", "token", "bad token"}}, report), Error);
  CHECK(report.added.empty());
  CHECK(report.warnings.empty());
}

TEST_CASE("format_netrc_entry prints one line and checks the values") {
  CHECK(format_netrc_entry(k_update) == "machine api.example.com login token password NEW.token-123_abc~+/=");
  CHECK_THROWS_AS(format_netrc_entry({"api.example.com", "token", "with space"}), Error);
}

TEST_CASE("netrc_machine_for keeps the lowercase host only") {
  CHECK(netrc_machine_for("https://Login.Example.COM:8443/realms/corp?x=1") == "login.example.com");
  CHECK(netrc_machine_for("http://127.0.0.1:8080") == "127.0.0.1");
  CHECK(netrc_machine_for("http://[::1]:9000/") == "::1");
  try {
    netrc_machine_for("login.example.com");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::config);
    CHECK(std::string(error.what()) == "the profile's host is not an http(s) URL, so it names no netrc machine");
  }
}

TEST_CASE("random texts: parse never throws, spans are ordered, merges keep other bytes") {
  const std::string alphabet[] = {
      "machine", "MACHINE", "login", "password", "default", "macdef", "account", "api.example.com",
      "x",       "\"q r\"", "\"",    "#",        "# c",     " ",      "\t",      "\n",
      "\n",      "\r\n",    "\\",    "port"};
  std::mt19937 random(20240501);
  std::size_t merged_count = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int words = static_cast<int>(random() % 24);
    for (int i = 0; i < words; ++i) {
      text += alphabet[random() % std::size(alphabet)];
      if (random() % 2 == 0) text += ' ';
    }
    CAPTURE(text);
    NetrcFile file;
    REQUIRE_NOTHROW(file = parse_netrc(text));
    std::size_t previous_end = 0;
    for (const NetrcBlock& block : file.blocks) {
      CHECK(block.comment_begin <= block.begin);
      CHECK(block.comment_begin >= previous_end);
      CHECK(block.begin < block.end);
      CHECK(block.end <= text.size());
      previous_end = block.end;
    }
    if (file.problem) {
      CHECK_THROWS_AS(merged(text), Error);
      continue;
    }
    const std::string out = merged(text);
    ++merged_count;
    check_keeps_other_bytes(text, out, {k_update});
    CHECK(merged(out) == out);
  }
  CHECK(merged_count > 300);
}

TEST_CASE("a carriage return that does not end a line: reported, and the file is not rewritten (fuzz finding)") {
  for (const std::string& text : {std::string("default*logmmachine \r"), std::string("machine a.example\rdefault\n")}) {
    CAPTURE(text);
    const NetrcFile file = parse_netrc(text);
    REQUIRE(file.problem);
    CHECK(file.problem->message == "a carriage return that does not end a line");
    MergeReport report;
    CHECK_THROWS_AS(merge_netrc(text, {{"api.example.com", "token", "NEW"}}, report), Error);
  }
  CHECK_FALSE(parse_netrc("machine a.example\r\n  login x\r\n").problem);
}

TEST_SUITE_END();
