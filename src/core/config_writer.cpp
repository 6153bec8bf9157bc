// upsert_profile: add a profile to the user's config file, or set some of its keys, as an edit
// of the text rather than a rewrite of the document.
//
// Why text edits: the config is the user's file, with their comments, order and spacing; a
// parse-and-serialize round trip would lose all of that. So toml++ parses the text only to say
// where things are (the line of [profiles.NAME], the line and columns of each key's value), and
// the writer replaces single-line values in place, appends missing keys after the section's last
// key, or appends a new section at the end. Anything it cannot edit safely (a profile written as
// an inline table or with dotted keys, a value spanning several lines) is an Error, never a guess,
// and the result must parse with parse_config before it is returned.
#include <algorithm>
#include <toml++/toml.h>

#include "tokenctl/config.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl {
namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";

struct Line {
  std::string text; // without its line ending
  std::string end;  // "\n", "\r\n", or "" for a last line without one
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      lines.push_back({std::string(text), ""});
      break;
    }
    const bool crlf = nl > 0 && text[nl - 1] == '\r';
    lines.push_back({std::string(text.substr(0, crlf ? nl - 1 : nl)), crlf ? "\r\n" : "\n"});
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string join_lines(const std::vector<Line>& lines) {
  std::string out;
  for (const Line& line : lines) out += line.text + line.end;
  return out;
}

// Return the file's line ending: that of its first line, "\n" when it has none.
std::string newline_of(const std::vector<Line>& lines) {
  return !lines.empty() && !lines.front().end.empty() ? lines.front().end : "\n";
}

bool is_bare_key(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Write `s` as a TOML basic string.
std::string basic_string(std::string_view s) {
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\t': out += "\\t"; break;
    case '\n': out += "\\n"; break;
    case '\f': out += "\\f"; break;
    case '\r': out += "\\r"; break;
    default:
      if (byte < 0x20 || byte == 0x7f) {
        out += "\\u00";
        out += hex[byte >> 4];
        out += hex[byte & 15];
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string key_text(std::string_view key) { return is_bare_key(key) ? std::string(key) : basic_string(key); }

using Assignments = std::vector<std::pair<std::string, std::string>>; // key, TOML value text

// Return the keys that are set in `p`, in the order a new section lists them.
Assignments assignments_of(const Profile& p) {
  Assignments out{{"host", basic_string(p.host)}};
  auto text = [&](const char* key, const std::optional<std::string>& v) {
    if (v) out.emplace_back(key, basic_string(*v));
  };
  text("client_id", p.client_id);
  if (p.scopes) {
    std::string list = "[";
    for (const std::string& s : *p.scopes) list += (list.size() > 1 ? ", " : "") + basic_string(s);
    out.emplace_back("scopes", list + "]");
  }
  text("account_id", p.account_id);
  if (p.provider != Provider::automatic)
    out.emplace_back("provider", p.provider == Provider::oidc ? "\"oidc\"" : "\"databricks\"");
  if (p.grant == Grant::client_credentials) out.emplace_back("grant", "\"client_credentials\"");
  text("client_secret_env", p.client_secret_env);
  if (p.redirect_port) out.emplace_back("redirect_port", std::to_string(*p.redirect_port));
  text("authorization_endpoint", p.authorization_endpoint);
  text("token_endpoint", p.token_endpoint);
  text("revocation_endpoint", p.revocation_endpoint);
  text("ca_file", p.ca_file);
  if (p.refresh_margin) out.emplace_back("refresh_margin", std::to_string(p.refresh_margin->count()));
  text("netrc_login", p.netrc_login);
  if (!p.auth_params.empty()) {
    std::string table = "{ ";
    for (const auto& [k, v] : p.auth_params)
      table += (table.size() > 2 ? ", " : "") + key_text(k) + " = " + basic_string(v);
    out.emplace_back("auth_params", table + " }");
  }
  return out;
}

// Parse one key of a table header: bare, "basic" (no escapes but \" and \\) or 'literal'.
std::optional<std::string> header_key(std::string_view& s) {
  std::string key;
  if (!s.empty() && (s.front() == '"' || s.front() == '\'')) {
    const char quote = s.front();
    std::size_t i = 1;
    for (; i < s.size() && s[i] != quote; ++i) {
      if (quote == '"' && s[i] == '\\') {
        if (i + 1 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\')) return std::nullopt;
        ++i;
      }
      key += s[i];
    }
    if (i >= s.size()) return std::nullopt;
    s.remove_prefix(i + 1);
    return key;
  }
  while (!s.empty() && is_bare_key(s.substr(0, 1))) {
    key += s.front();
    s.remove_prefix(1);
  }
  return key.empty() ? std::nullopt : std::optional(key);
}

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Return the dotted key of a `[a.b]` table header line, or nullopt if the line is not one.
std::optional<std::vector<std::string>> header_of(std::string_view line) {
  line = skip_blanks(line);
  if (line.substr(0, 1) != "[" || line.substr(0, 2) == "[[") return std::nullopt;
  line.remove_prefix(1);
  std::vector<std::string> parts;
  while (true) {
    line = skip_blanks(line);
    auto part = header_key(line);
    if (!part) return std::nullopt;
    parts.push_back(std::move(*part));
    line = skip_blanks(line);
    if (line.substr(0, 1) == "]") break;
    if (line.substr(0, 1) != ".") return std::nullopt;
    line.remove_prefix(1);
  }
  line = skip_blanks(line.substr(1));
  if (!line.empty() && line.front() != '#') return std::nullopt;
  return parts;
}

// Return the text of line `line` (1-based) without a byte order mark; "" if there is no such line.
std::string_view line_text(const std::vector<Line>& lines, toml::source_index line) {
  if (line < 1 || line > lines.size()) return {};
  std::string_view text = lines[line - 1].text;
  if (line == 1 && text.substr(0, k_bom.size()) == k_bom) text.remove_prefix(k_bom.size());
  return text;
}

bool is_header_line(const std::vector<Line>& lines, toml::source_index line) {
  return skip_blanks(line_text(lines, line)).substr(0, 1) == "[";
}

// Return the byte offset in line `line` (1-based) of toml++'s 1-based code point column.
std::size_t byte_offset(const std::vector<Line>& lines, toml::source_index line, toml::source_index column) {
  const std::string_view text = line_text(lines, line);
  const std::size_t base = lines[line - 1].text.size() - text.size();
  toml::source_index at = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (at++ == column) return base + i;
  }
  return base + text.size();
}

// Return the last line holding a value of `node` that is written in its own section's lines
// (sub-tables with headers of their own excluded), or 0 if none.
toml::source_index last_value_line(const std::vector<Line>& lines, const toml::node& node) {
  const auto* table = node.as_table();
  if (!table || table->is_inline()) return node.source().end.line;
  toml::source_index last = 0;
  for (auto&& [key, child] : *table) {
    const auto* sub = child.as_table();
    if (sub && !sub->is_inline() && is_header_line(lines, sub->source().begin.line)) continue;
    last = std::max(last, last_value_line(lines, child));
  }
  return last;
}

class SectionEditor {
public:
  SectionEditor(std::vector<Line>& lines, const std::string& path, const Profile& p, const toml::table& table)
      : m_lines(lines), m_path(path), m_profile(p), m_table(table) {}

  // Set each assignment in place, or append it after the section's last key line.
  void apply(const Assignments& assignments) {
    const toml::source_index header = m_table.source().begin.line;
    toml::source_index last = header;
    std::string indent;
    for (auto&& [key, child] : m_table) {
      const auto* sub = child.as_table();
      if (sub && !sub->is_inline() && is_header_line(m_lines, sub->source().begin.line)) continue;
      last = std::max(last, last_value_line(m_lines, child));
      const std::string_view first = line_text(m_lines, key.source().begin.line);
      if (indent.empty()) indent = first.substr(0, first.size() - skip_blanks(first).size());
    }
    std::vector<Line> added;
    for (const auto& [key, value] : assignments) {
      if (!replace(key, value)) added.push_back({indent + key + " = " + value, newline_of(m_lines)});
    }
    if (added.empty()) return;
    if (m_lines[last - 1].end.empty()) m_lines[last - 1].end = newline_of(m_lines);
    m_lines.insert(m_lines.begin() + static_cast<std::ptrdiff_t>(last), added.begin(), added.end());
  }

private:
  // Replace the value of `key` in its line; return false if the profile does not have the key.
  bool replace(const std::string& key, const std::string& value) {
    const auto it = m_table.find(key);
    if (it == m_table.end()) return false;
    const toml::source_region where = it->second.source();
    const toml::source_index line = it->first.source().begin.line;
    const auto* sub = it->second.as_table();
    if (where.begin.line != line || where.end.line != line || (sub && !sub->is_inline()))
      throw_config_error(m_path, static_cast<long>(line),
                         "cannot update \"" + key + "\" in profile \"" + m_profile.name +
                             "\": its value is not on one line; edit the file by hand");
    std::string& text = m_lines[line - 1].text;
    const std::size_t begin = byte_offset(m_lines, line, where.begin.column);
    const std::size_t end = byte_offset(m_lines, line, where.end.column);
    text = text.substr(0, begin) + value + text.substr(end);
    return true;
  }

  std::vector<Line>& m_lines;
  const std::string& m_path;
  const Profile& m_profile;
  const toml::table& m_table;
};

// Append a new [profiles.NAME] section at the end, after a blank line.
void append_section(std::vector<Line>& lines, const Profile& p, const Assignments& assignments) {
  const std::string nl = newline_of(lines);
  if (!lines.empty()) {
    if (lines.back().end.empty()) lines.back().end = nl;
    if (!skip_blanks(lines.back().text).empty()) lines.push_back({"", nl});
  }
  lines.push_back({"[profiles." + key_text(p.name) + "]", nl});
  for (const auto& [key, value] : assignments) lines.push_back({key + " = " + value, nl});
}

[[noreturn]] void cannot_edit(const std::string& path, long line, const Profile& p, const std::string& why) {
  throw_config_error(path, line, "cannot save profile \"" + p.name + "\": " + why + "; edit the file by hand");
}

toml::table parse_toml(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw_config_error(path, static_cast<long>(e.source().begin.line), "invalid TOML: " + std::string(e.description()));
  }
}

} // namespace

std::string upsert_profile(std::string_view text, const Profile& p, const std::string& path) {
  if (!valid_profile_name(p.name))
    throw Error(ErrorKind::config, "invalid profile name \"" + p.name + "\": use letters, digits, '.', '_' and '-'");
  if (p.host.empty()) throw Error(ErrorKind::config, "profile \"" + p.name + "\" has no \"host\"");
  const toml::table doc = parse_toml(text, path);
  std::vector<Line> lines = split_lines(text);
  const Assignments assignments = assignments_of(p);

  const toml::node* profiles = doc.get("profiles");
  const toml::node* existing = profiles && profiles->is_table() ? profiles->as_table()->get(p.name) : nullptr;
  if (profiles && (!profiles->is_table() || profiles->as_table()->is_inline()))
    cannot_edit(path, static_cast<long>(profiles->source().begin.line), p,
                "\"profiles\" is not written as [profiles.NAME] tables");
  if (!existing) {
    append_section(lines, p, assignments);
  } else {
    const auto* table = existing->as_table();
    const toml::source_index header = existing->source().begin.line;
    const auto parts = header_of(line_text(lines, header));
    if (!table || table->is_inline() || !parts || *parts != std::vector<std::string>{"profiles", p.name})
      cannot_edit(path, static_cast<long>(header), p, "it is not written as a [profiles." + p.name + "] table");
    SectionEditor(lines, path, p, *table).apply(assignments);
  }

  std::string result = join_lines(lines);
  const Config check = parse_config(result, path);
  const Profile* written = check.find(p.name);
  if (!written || written->host != p.host)
    throw Error(ErrorKind::config, "cannot save profile \"" + p.name + "\" to " + path + "; edit the file by hand");
  return result;
}

std::string upsert_profile(std::string_view text, const Profile& p) { return upsert_profile(text, p, "config"); }

std::string set_default_profile(std::string_view text, const std::string& name, const std::string& path) {
  if (!valid_profile_name(name))
    throw Error(ErrorKind::usage, "invalid profile name \"" + name + "\": use letters, digits, '.', '_' and '-'");
  const toml::table doc = parse_toml(text, path);
  std::vector<Line> lines = split_lines(text);
  const std::string value = basic_string(name);
  if (const toml::node* existing = doc.get("default_profile")) {
    const toml::source_region where = existing->source();
    if (!existing->is_string() || where.begin.line != where.end.line)
      throw_config_error(
          path, static_cast<long>(where.begin.line),
          "cannot update \"default_profile\": its value is not a string on one line; edit the file by hand");
    std::string& line = lines[where.begin.line - 1].text;
    const std::size_t begin = byte_offset(lines, where.begin.line, where.begin.column);
    const std::size_t end = byte_offset(lines, where.end.line, where.end.column);
    line = line.substr(0, begin) + value + line.substr(end);
  } else {
    // A new top-level key goes before the first table, above the comment lines that belong to it.
    std::size_t at = 0;
    while (at < lines.size() && !is_header_line(lines, at + 1)) ++at;
    while (at > 0 && at < lines.size() && skip_blanks(line_text(lines, at)).substr(0, 1) == "#") --at;
    const std::string nl = newline_of(lines);
    if (at > 0 && lines[at - 1].end.empty()) lines[at - 1].end = nl;
    std::vector<Line> added{{"default_profile = " + value, nl}};
    if (at < lines.size()) added.push_back({"", nl});
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), added.begin(), added.end());
  }
  std::string result = join_lines(lines);
  if (parse_config(result, path).default_profile != name)
    throw Error(ErrorKind::config, "cannot set default_profile in " + path + "; edit the file by hand");
  return result;
}

} // namespace tokenctl
