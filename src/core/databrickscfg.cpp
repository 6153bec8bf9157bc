// The .databrickscfg parser, and the mapping of its profiles to tokenctl's kinds of login.
//
// Why a parser of its own, and why so picky. Two programs read this file and they disagree: the
// Databricks CLI and Go SDK use gopkg.in/ini.v1 (inline comments after " #", quotes removed,
// backslash continuations, keys before a header filed under DEFAULT, the last duplicate wins),
// the Python SDK uses configparser (indented continuation lines, universal newlines, duplicates
// refused). inih (Debian's libinih-dev) reads a third dialect (inline ';' comments, Python
// continuations), is built with a 200-byte line limit, stops at a NUL and reports no line per key,
// so it cannot say where the two differ. tokenctl serves the profiles of both, so it takes a line
// only when both read it alike and otherwise names the line to change: a wrong guess would send a
// login or a client secret to another host or client than the user's tools use.
#include "tokenctl/databrickscfg.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

constexpr std::size_t k_max_quoted = 80;
constexpr std::string_view k_blanks = " \t";
constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";
constexpr std::size_t k_no_section = static_cast<std::size_t>(-1);
constexpr std::size_t k_settings = static_cast<std::size_t>(-2);

// Unicode spaces (trimmed by both Python's str.strip() and Go's strings.TrimSpace, not by tokenctl)
// and the invisible U+200B and U+FEFF, in UTF-8. C1 spaces such as U+0085 are refused earlier.
constexpr std::string_view k_edge_characters[] = {
    "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84",
    "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\x8B",
    "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xEF\xBB\xBF"};

// Quote a name from the file for a message: sanitized, long names shortened.
std::string quote(std::string_view s) { return "\"" + sanitize(shorten(s, k_max_quoted)) + "\""; }

bool has_edge_character(std::string_view s) {
  return std::any_of(std::begin(k_edge_characters), std::end(k_edge_characters),
                     [&](std::string_view c) { return s.starts_with(c) || s.ends_with(c); });
}

// Return "" when the line (without its ending) holds only text both SDKs read as such, else why not.
std::string character_problem(std::string_view content) {
  const bool plain = std::all_of(content.begin(), content.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return c == '\t' || (b >= 0x20 && b < 0x7f);
  });
  if (plain) return "";
  if (content.find('\r') != std::string_view::npos)
    return "a carriage return inside a line (the Python SDK ends a line there, the Databricks CLI does not): "
           "end lines with LF or CRLF";
  std::string copy(content);
  std::replace(copy.begin(), copy.end(), '\t', ' ');
  const std::string clean = sanitize(copy);
  if (clean == copy) return "";
  std::size_t i = 0;
  while (i < copy.size() && copy[i] == clean[i]) ++i;
  if (i == copy.size()) return "bytes that are not UTF-8, or a Unicode control character";
  const auto b = static_cast<unsigned char>(copy[i]);
  if (b < 0x20 || b == 0x7f) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%02X", b);
    return std::string("a control character (byte 0x") + hex + ")";
  }
  return "bytes that are not UTF-8, or a Unicode control character";
}

// Return why Go's ini and Python's configparser read this (trimmed, non-empty) value differently,
// or "" when they read it alike. The line-level differences are refused before this.
std::string value_problem(std::string_view value) {
  if (value.find(" #") != std::string_view::npos || value.find(" ;") != std::string_view::npos)
    return "the Databricks CLI reads \" #\" or \" ;\" and what follows as a comment, the Python SDK as part of "
           "the value: put the comment on a line of its own";
  // Go's hasSurroundedQuote: the same quote first and last, and nowhere in between.
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.find(value.front(), 1) == value.size() - 1)
    return "the Databricks CLI removes the quotes around the value, the Python SDK keeps them: remove them";
  if (has_edge_character(value))
    return "the value begins or ends with a Unicode space or an invisible character: remove it";
  return "";
}

// Reads the file line by line into a DatabricksConfig, throwing on the first line it refuses.
class Parser {
public:
  explicit Parser(const std::string& path) { m_config.path = path; }

  // Read one line (without its line ending).
  void line(std::string_view content, long number) {
    if (content.size() > k_databrickscfg_max_line_bytes)
      fail(number, "the line is longer than " + std::to_string(k_databrickscfg_max_line_bytes) + " bytes");
    if (const std::string problem = character_problem(content); !problem.empty()) fail(number, problem);
    const std::size_t indent = std::min(content.find_first_not_of(k_blanks), content.size());
    const std::string_view rest = trim(content, k_blanks);
    if (rest.empty() || rest.front() == '#' || rest.front() == ';') return;
    if (!m_last_key.empty() && indent > m_indent)
      fail(number, "an indented line after " + quote(m_last_key) +
                       ": the Python SDK reads it as more of that value, the Databricks CLI as a line of its own; "
                       "remove the indentation");
    m_indent = indent;
    if (rest.front() == '[')
      header(rest, number);
    else
      key_line(rest, number);
  }

  DatabricksConfig finish() { return std::move(m_config); }

private:
  [[noreturn]] void fail(long number, const std::string& message) const {
    throw_config_error(m_config.path, number, message);
  }

  [[nodiscard]] std::string section_name() const {
    return m_target == k_settings ? std::string(k_databricks_settings_section) : m_config.sections[m_target].name;
  }

  void header(std::string_view rest, long number) {
    const std::size_t close = rest.rfind(']');
    if (close == std::string_view::npos) fail(number, "a section header without its closing \"]\"");
    const std::string_view name = rest.substr(1, close - 1);
    const std::string_view after = trim(rest.substr(close + 1), k_blanks);
    if (!after.empty() && after.front() != '#' && after.front() != ';')
      fail(number, "text after the section header: only a comment may follow \"]\"");
    if (name.empty()) fail(number, "an empty section name \"[]\"");
    if (name.find_first_of("[]") != std::string_view::npos) fail(number, "a section name with \"[\" or \"]\" in it");
    if (has_edge_character(name))
      fail(number,
           "the section name " + quote(name) + " begins or ends with a Unicode space or an invisible character");
    open_section(name, number);
  }

  void open_section(std::string_view name, long number) {
    m_last_key.clear();
    if (name == k_databricks_settings_section) {
      if (m_config.settings.line != 0) repeated_section(name, number, m_config.settings.line);
      m_config.settings.line = number;
      m_target = k_settings;
      return;
    }
    if (const auto it = m_sections.find(name); it != m_sections.end()) {
      // configparser and Go's ini both merge a repeated [DEFAULT] into the first.
      if (name != k_databricks_default_section) repeated_section(name, number, m_config.sections[it->second].line);
      m_target = it->second;
      return;
    }
    m_target = m_config.sections.size();
    m_sections.emplace(std::string(name), m_target);
    m_config.sections.push_back(DatabricksSection{std::string(name), number, {}});
  }

  [[noreturn]] void repeated_section(std::string_view name, long number, long first) const {
    fail(number, "section " + quote(name) + " appears again (first at line " + std::to_string(first) +
                     "): the Python SDK refuses a repeated section");
  }

  void key_line(std::string_view rest, long number) {
    const std::size_t split = rest.find_first_of("=:");
    if (split == std::string_view::npos) fail(number, "not a \"key = value\" line, a [section] header or a comment");
    if (m_target == k_no_section)
      fail(number, "a key before any [section] header: the Python SDK refuses it; put it under a [profile]");
    const std::string_view raw_key = trim(rest.substr(0, split), k_blanks);
    const std::string_view value = trim(rest.substr(split + 1), k_blanks);
    if (raw_key.empty()) fail(number, "a \"key = value\" line without a key");
    if (raw_key.front() == '"' || raw_key.front() == '`')
      fail(number, "a key in quotes: the Databricks CLI removes the quotes, the Python SDK keeps them");
    if (raw_key == "-") fail(number, "a key \"-\": the Databricks CLI reads it as an automatically numbered key");
    if (has_edge_character(raw_key))
      fail(number, "the key " + quote(raw_key) + " begins or ends with a Unicode space or an invisible character");
    DatabricksValue entry{ascii_lower(raw_key), std::string(value), number, {}};
    if (const auto [it, added] = m_keys.emplace(std::make_pair(m_target, entry.key), number); !added)
      fail(number, "key " + quote(entry.key) + " appears again in section " + quote(section_name()) +
                       " (first at line " + std::to_string(it->second) +
                       "): the Python SDK refuses a repeated key, the Databricks CLI takes the last one");
    if (value.starts_with("\"\"\"") || value.starts_with("`"))
      fail(number, "the value of " + quote(entry.key) +
                       " starts with '\"\"\"' or '`': the Databricks CLI reads a quoted value that may go on over the "
                       "next lines, the Python SDK plain text");
    if (value.ends_with("\\"))
      fail(number, "the value of " + quote(entry.key) +
                       " ends with '\\': the Databricks CLI joins the next line to it, the Python SDK does not");
    if (!value.empty()) entry.problem = value_problem(value);
    m_last_key = entry.key;
    store(std::move(entry));
  }

  void store(DatabricksValue entry) {
    if (m_target != k_settings) {
      m_config.sections[m_target].keys.push_back(std::move(entry));
      return;
    }
    DatabricksSettings& settings = m_config.settings;
    if (entry.key == "default_profile") {
      if (!entry.problem.empty()) fail(entry.line, "\"default_profile\" in [__settings__]: " + entry.problem);
      if (!entry.value.empty() && entry.value != k_databricks_settings_section)
        settings.default_profile = std::move(entry);
    } else if (entry.key == "auth_storage" && !entry.value.empty()) {
      settings.auth_storage = std::move(entry);
    }
  }

  DatabricksConfig m_config;
  std::map<std::string, std::size_t, std::less<>> m_sections; // name -> index in m_config.sections
  std::map<std::pair<std::size_t, std::string>, long> m_keys; // (section, key) -> line
  std::size_t m_target = k_no_section;
  std::string m_last_key;   // the last key of the current section
  std::size_t m_indent = 0; // indentation of the last header or key line
};

// The keys that configure an authorization method, by the SDKs' method names (Go's `auth` tags,
// which the Python SDK shares; file-oidc under both spellings).
struct AuthKey {
  std::string_view key;
  std::string_view method;
};
constexpr AuthKey k_auth_keys[] = {
    {"token", "pat"},
    {"username", "basic"},
    {"password", "basic"},
    {"client_id", "oauth"},
    {"client_secret", "oauth"},
    {"metadata_service_url", "metadata-service"},
    {"google_service_account", "google"},
    {"google_credentials", "google"},
    {"azure_workspace_resource_id", "azure"},
    {"azure_use_msi", "azure"},
    {"azure_client_secret", "azure"},
    {"azure_client_id", "azure"},
    {"azure_tenant_id", "azure"},
    {"azure_login_app_id", "azure"},
    {"oidc_token_env", "env-oidc"},
    {"databricks_id_token_filepath", "file-oidc"},
    {"oidc_token_filepath", "file-oidc"},
};

constexpr std::string_view k_browser_hint = "; set auth_type = databricks-cli for a browser login";

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool valid_id(std::string_view s) {
  return s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_alnum(c) || c == '-' || c == '_'; });
}

bool valid_env_name(std::string_view s) {
  return !s.empty() && !(s.front() >= '0' && s.front() <= '9') &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool valid_scope(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'; });
}

// Maps one section to a DatabricksProfileSpec, throwing on the first key it cannot use.
class ProfileReader {
public:
  ProfileReader(const DatabricksConfig& config, const DatabricksSection& section)
      : m_config(config), m_section(section) {}

  DatabricksProfileSpec read() {
    m_spec.name = m_section.name;
    m_spec.line = m_section.line;
    if (const auto* v = get("host")) m_spec.host = host(*v);
    if (const auto* v = get("account_id")) m_spec.account_id = id(*v, "an account id (letters, digits, '-' and '_')");
    if (const auto* v = get("workspace_id"))
      m_spec.workspace_id = id(*v, "a workspace id (letters, digits, '-' and '_')");
    if (const auto* v = get("scopes")) m_spec.scopes = scopes(*v);
    if (const auto* v = get("client_id")) m_spec.client_id = v->value;
    if (const auto* v = get("client_secret")) {
      m_spec.has_client_secret = true;
      m_spec.client_secret_line = v->line;
      m_spec.client_secret = v->value;
    }
    if (const auto* v = get("oauth_callback_port")) m_spec.oauth_callback_port = port(*v);
    if (const auto* v = get("oidc_token_env")) {
      if (!valid_env_name(v->value))
        bad(*v, "the name of an environment variable (letters, digits and '_', not starting with a digit)");
      m_spec.oidc_token_env = v->value;
    }
    m_spec.id_token_file = either("databricks_id_token_filepath", "oidc_token_filepath");
    m_spec.audience = either("audience", "token_audience");
    if (const auto* v = get("auth_type")) {
      m_spec.auth_type = v->value;
      by_auth_type(*v);
    } else {
      by_keys();
    }
    return std::move(m_spec);
  }

private:
  [[noreturn]] void fail(long line, const std::string& message) const {
    throw_config_error(m_config.path, line, message);
  }

  [[noreturn]] void bad(const DatabricksValue& v, std::string_view must_be) const {
    fail(v.line, quote(v.key) + " in profile " + quote(m_section.name) + " must be " + std::string(must_be));
  }

  // Return the key when it is set (an empty value is not, in both SDKs); throw when the SDKs read
  // its value differently.
  [[nodiscard]] const DatabricksValue* get(std::string_view key) const {
    const DatabricksValue* v = m_section.find(key);
    if (v == nullptr || v->value.empty()) return nullptr;
    if (!v->problem.empty()) fail(v->line, quote(v->key) + " in profile " + quote(m_section.name) + ": " + v->problem);
    return v;
  }

  [[nodiscard]] bool has(std::string_view key) const {
    const DatabricksValue* v = m_section.find(key);
    return v != nullptr && !v->value.empty();
  }

  // The host as both SDKs use it: https:// added when there is no scheme; they disagree on a path,
  // a query or a fragment (Go drops them, Python keeps them), so those are refused.
  std::string host(const DatabricksValue& v) const {
    const std::string text = v.value.find("://") == std::string::npos ? "https://" + v.value : v.value;
    const auto url = parse_url(text);
    if (!url) bad(v, "a URL like https://dbc-a1b2345c-d6e7.cloud.databricks.com");
    if ((url->path != "" && url->path != "/") || url->has_query || url->has_fragment)
      bad(v, "a URL without a path, query or fragment (the Go and Python SDKs read those differently)");
    Url base;
    base.scheme = url->scheme;
    base.host = url->host;
    const bool default_port =
        (url->scheme == "https" && url->port == 443) || (url->scheme == "http" && url->port == 80);
    base.port = default_port ? -1 : url->port;
    std::string out = format_url(base);
    if (const std::string problem = endpoint_url_problem(out); !problem.empty())
      fail(v.line, "\"host\" in profile " + quote(m_section.name) + ": " + problem);
    return out;
  }

  std::string id(const DatabricksValue& v, std::string_view must_be) const {
    if (!valid_id(v.value)) bad(v, must_be);
    return v.value;
  }

  // Comma-separated, as the Go SDK splits them; the Python SDK also splits on blanks, so a scope
  // with a blank inside is refused rather than read one way.
  std::vector<std::string> scopes(const DatabricksValue& v) const {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= v.value.size()) {
      const std::size_t comma = std::min(v.value.find(',', start), v.value.size());
      const std::string_view item = trim(std::string_view(v.value).substr(start, comma - start), k_blanks);
      start = comma + 1;
      if (item.empty()) continue;
      if (item.find_first_of(k_blanks) != std::string_view::npos)
        bad(v, "a comma-separated list (\"all-apis, sql\"): the Go and Python SDKs split \"a b\" differently");
      if (!valid_scope(item)) bad(v, "a comma-separated list of scopes (printable ASCII without quotes or '\\')");
      if (!contains(out, item)) out.emplace_back(item);
    }
    return out;
  }

  int port(const DatabricksValue& v) const {
    const std::string_view s = v.value;
    if (s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      bad(v, "an integer from 0 to 65535");
    int n = 0;
    for (char c : s) n = n * 10 + (c - '0');
    if (n > 65535) bad(v, "an integer from 0 to 65535");
    return n;
  }

  // The Go SDK reads `go_key`, the Python SDK `python_key`: take either, refuse two different values.
  std::optional<std::string> either(std::string_view go_key, std::string_view python_key) const {
    const DatabricksValue* go = get(go_key);
    const DatabricksValue* python = get(python_key);
    if (go && python && go->value != python->value)
      fail(python->line, quote(go_key) + " and " + quote(python_key) + " in profile " + quote(m_section.name) +
                             " differ: the Go SDK reads the first, the Python SDK the second");
    if (go) return go->value;
    if (python) return python->value;
    return std::nullopt;
  }

  void by_auth_type(const DatabricksValue& auth_type) {
    const std::string& t = auth_type.value;
    if (t == "databricks-cli" || t == "external-browser") {
      m_spec.kind = DatabricksAuthKind::browser_login;
    } else if (t == "oauth-m2m") {
      if (!m_spec.client_id || !m_spec.has_client_secret)
        fail(auth_type.line, "profile " + quote(m_section.name) +
                                 ": auth_type \"oauth-m2m\" needs \"client_id\" and "
                                 "\"client_secret\"");
      m_spec.kind = DatabricksAuthKind::client_credentials;
    } else if (t == "github-oidc") {
      exchange(DatabricksIdTokenSource::github_actions, "github-actions");
    } else if (t == "azure-devops-oidc") {
      exchange(DatabricksIdTokenSource::azure_devops, "azure-devops");
    } else if (t == "env-oidc") {
      exchange(DatabricksIdTokenSource::env, "env:" + m_spec.oidc_token_env.value_or("DATABRICKS_OIDC_TOKEN"));
    } else if (t == "file-oidc") {
      if (!m_spec.id_token_file)
        fail(auth_type.line,
             "profile " + quote(m_section.name) + ": auth_type \"file-oidc\" needs \"databricks_id_token_filepath\"");
      exchange(DatabricksIdTokenSource::file, "file:" + *m_spec.id_token_file);
    } else if (t == "pat") {
      unsupported("uses a personal access token (auth_type \"pat\"), which tokenctl cannot serve" +
                  std::string(k_browser_hint));
    } else {
      unsupported("uses auth_type " + quote(t) +
                  ", which tokenctl cannot serve (it serves databricks-cli, external-browser, oauth-m2m, github-oidc, "
                  "azure-devops-oidc, env-oidc and file-oidc)");
    }
  }

  // Without auth_type, as the SDKs' default chain: the one method whose keys are set.
  void by_keys() {
    std::set<std::string_view> methods;
    for (const AuthKey& k : k_auth_keys)
      if (has(k.key)) methods.insert(k.method);
    if (methods.size() > 1) {
      std::vector<std::string> names(methods.begin(), methods.end());
      unsupported("sets keys of more than one authorization method (" + join(names, " and ") +
                  ") and no auth_type, which the Databricks SDKs refuse too: set auth_type");
      return;
    }
    const std::string_view method = methods.empty() ? std::string_view() : *methods.begin();
    if (method.empty()) {
      m_spec.kind = DatabricksAuthKind::browser_login;
    } else if (method == "oauth") {
      if (m_spec.has_client_secret && !m_spec.client_id)
        fail(m_spec.client_secret_line,
             "profile " + quote(m_section.name) + " has \"client_secret\" but no \"client_id\"");
      m_spec.kind =
          m_spec.has_client_secret ? DatabricksAuthKind::client_credentials : DatabricksAuthKind::browser_login;
    } else if (method == "env-oidc") {
      exchange(DatabricksIdTokenSource::env, "env:" + *m_spec.oidc_token_env);
    } else if (method == "file-oidc") {
      exchange(DatabricksIdTokenSource::file, "file:" + *m_spec.id_token_file);
    } else if (method == "pat") {
      unsupported("uses a personal access token (\"token\"), which tokenctl cannot serve" +
                  std::string(k_browser_hint));
    } else if (method == "basic") {
      unsupported("uses a user name and password (basic authentication), which tokenctl cannot serve" +
                  std::string(k_browser_hint));
    } else if (method == "metadata-service") {
      unsupported("uses a metadata service (\"metadata_service_url\"), which tokenctl cannot serve" +
                  std::string(k_browser_hint));
    } else if (method == "google") {
      unsupported("uses Google credentials, which tokenctl cannot serve" + std::string(k_browser_hint));
    } else {
      unsupported("uses Azure credentials (azure_* keys), which tokenctl cannot serve" + std::string(k_browser_hint));
    }
  }

  void exchange(DatabricksIdTokenSource source, std::string subject_token) {
    m_spec.kind = DatabricksAuthKind::token_exchange;
    m_spec.source = source;
    m_spec.subject_token = std::move(subject_token);
  }

  void unsupported(std::string reason) {
    m_spec.kind = DatabricksAuthKind::unsupported;
    m_spec.unsupported_reason = std::move(reason);
  }

  const DatabricksConfig& m_config;
  const DatabricksSection& m_section;
  DatabricksProfileSpec m_spec;
};

} // namespace

const DatabricksValue* DatabricksSection::find(std::string_view key) const {
  for (const DatabricksValue& v : keys)
    if (v.key == key) return &v;
  return nullptr;
}

const DatabricksSection* DatabricksConfig::find(std::string_view name) const {
  for (const DatabricksSection& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

DatabricksConfig parse_databrickscfg(std::string_view text, const std::string& path) {
  if (text.size() > k_databrickscfg_max_bytes)
    throw Error(ErrorKind::config,
                path + " is too large (more than " + std::to_string(k_databrickscfg_max_bytes) + " bytes)");
  if (text.starts_with(k_utf8_bom)) text.remove_prefix(k_utf8_bom.size());
  Parser parser(path);
  long number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view content = text.substr(start, end - start);
    if (content.ends_with('\r')) content.remove_suffix(1);
    parser.line(content, ++number);
    start = end + 1;
  }
  return parser.finish();
}

std::vector<DatabricksProfileSpec> databricks_profiles(const DatabricksConfig& config) {
  std::vector<DatabricksProfileSpec> out;
  for (const DatabricksSection& section : config.sections)
    if (!section.keys.empty()) out.push_back(ProfileReader(config, section).read());
  return out;
}

std::optional<DatabricksProfileSpec> databricks_profile(const DatabricksConfig& config, std::string_view name) {
  const DatabricksSection* section = config.find(name);
  if (section == nullptr || section->keys.empty()) return std::nullopt;
  return ProfileReader(config, *section).read();
}

} // namespace tokenctl
