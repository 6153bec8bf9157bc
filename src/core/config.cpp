// The config file: TOML parsed by toml++, then checked key by key against the contract.
//
// Why so strict: a typo in a profile ("clinet_id") must not silently fall back to a default and
// send the user to the wrong client or server, so every unknown key and every bad value is an
// error "FILE:LINE: message" that names the key and the profile. toml++ keeps tables in sorted
// maps; profiles and keys are put back in file order (by source position) so that the first
// problem in the file is the one reported, and so that `list` shows profiles as written.
#include "tokenctl/config.hpp"

#include <cstdio>
#include <algorithm>
#include <toml++/toml.h>

#include "tokenctl/error.hpp"
#include "tokenctl/identity.hpp"
#include "tokenctl/paths.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

constexpr std::size_t k_max_quoted = 80;

// Parameters of the authorization request that tokenctl itself sets; auth_params may not.
constexpr std::string_view k_reserved_auth_params[] = {
    "response_type",         "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "nonce",     "code_verifier"};

// Quote a name from the file for a message: long names shortened (printing sanitizes the rest).
std::string quote(std::string_view s) { return "\"" + sanitize(shorten(s, k_max_quoted)) + "\""; }

long line_of(const toml::source_region& region) { return static_cast<long>(region.begin.line); }

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool valid_env_name(std::string_view s) {
  if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

bool valid_netrc_login(std::string_view s) {
  return !s.empty() && !has_control(s) && s.find(' ') == std::string_view::npos;
}

Storage parse_storage(const std::string& path, const toml::node& value, const std::string& where);

using Entry = std::pair<const toml::key*, const toml::node*>;

// Return the entries of `table` in the order they appear in the file.
std::vector<Entry> in_file_order(const toml::table& table) {
  std::vector<Entry> entries;
  for (auto&& [key, value] : table) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

// Reads the keys of one profile table into a Profile, throwing on the first bad one.
class ProfileReader {
public:
  ProfileReader(const std::string& path, Profile& profile) : m_path(path), m_profile(profile) {}

  // Store one key's value; throw Error(config) for an unknown key or a bad value.
  void read(const toml::key& key, const toml::node& value) {
    const std::string_view k = key.str();
    if (k == "host") {
      m_profile.host = url(k, value, true);
    } else if (k == "client_id") {
      m_profile.client_id = text(k, value, valid_client_id, "a non-empty string");
    } else if (k == "scopes") {
      m_profile.scopes = scopes(value);
    } else if (k == "account_id") {
      m_profile.account_id = text(k, value, valid_account_id, "an account id (letters, digits, '-' and '_')");
    } else if (k == "provider") {
      const std::string provider = text(
          k, value, [](std::string_view s) { return s == "databricks" || s == "oidc"; }, "\"databricks\" or \"oidc\"");
      m_profile.provider = provider == "oidc" ? Provider::oidc : Provider::databricks;
    } else if (k == "grant") {
      const std::string grant = text(
          k, value,
          [](std::string_view s) {
            return s == "authorization_code" || s == "client_credentials" || s == "token_exchange";
          },
          "\"authorization_code\", \"client_credentials\" or \"token_exchange\"");
      m_profile.grant = grant == "client_credentials" ? Grant::client_credentials
                        : grant == "token_exchange"   ? Grant::token_exchange
                                                      : Grant::authorization_code;
    } else if (k == "client_secret_env") {
      m_profile.client_secret_env = text(k, value, valid_env_name,
                                         "the name of an environment variable (letters, digits and '_', "
                                         "not starting with a digit)");
    } else if (k == "redirect_port") {
      const auto* port = value.as_integer();
      if (!port || port->get() < 0 || port->get() > 65535) bad(k, value, "an integer from 0 to 65535");
      m_profile.redirect_port = static_cast<int>(port->get());
    } else if (k == "authorization_endpoint") {
      m_profile.authorization_endpoint = url(k, value, false);
    } else if (k == "token_endpoint") {
      m_profile.token_endpoint = url(k, value, false);
    } else if (k == "revocation_endpoint") {
      m_profile.revocation_endpoint = url(k, value, false);
    } else if (k == "ca_file") {
      // Relative to the config file's folder, never to the working folder: whoever controls the
      // folder tokenctl runs in must not be able to add a trusted CA.
      const std::string file = text(
          k, value, [](std::string_view s) { return !s.empty() && !has_control(s); },
          "a non-empty string (a file name)");
      const std::string folder = path_folder(m_path);
      m_profile.ca_file = file.front() == '/' || folder.empty() ? file : folder + "/" + file;
    } else if (k == "token_endpoint_auth_method") {
      const std::string method = text(
          k, value,
          [](std::string_view s) {
            return s == "client_secret_basic" || s == "client_secret_post" || s == "none" || s == "private_key_jwt";
          },
          "\"client_secret_basic\", \"client_secret_post\", \"private_key_jwt\" or \"none\"");
      m_profile.token_endpoint_auth_method = method == "none"                 ? AuthMethod::none
                                             : method == "client_secret_post" ? AuthMethod::client_secret_post
                                             : method == "private_key_jwt"    ? AuthMethod::private_key_jwt
                                                                              : AuthMethod::client_secret_basic;
    } else if (k == "subject_token" || k == "client_assertion") {
      const std::string source = text(
          k, value, [](std::string_view v) { return identity_source_problem(v).empty(); },
          "an identity-token source: \"github-actions\", \"azure-devops\", "
          "\"env:NAME\", \"file:PATH\" or \"profile:NAME\"");
      (k == "subject_token" ? m_profile.subject_token : m_profile.client_assertion) =
          resolve_identity_source_path(source, m_path);
    } else if (k == "subject_token_type" || k == "requested_token_type") {
      (k == "subject_token_type" ? m_profile.subject_token_type : m_profile.requested_token_type) = text(
          k, value, [](std::string_view v) { return v.rfind("urn:", 0) == 0 && !has_control(v); },
          "a token type URN, like \"urn:ietf:params:oauth:token-type:jwt\"");
    } else if (k == "subject_audience" || k == "audience") {
      (k == "audience" ? m_profile.audience : m_profile.subject_audience) = text(
          k, value, [](std::string_view v) { return !v.empty() && v.size() <= 1024 && !has_control(v); },
          "a non-empty string");
    } else if (k == "resource") {
      m_profile.resource = url(k, value, false);
    } else if (k == "client_assertion_key_file") {
      const std::string file = text(
          k, value, [](std::string_view s) { return !s.empty() && !has_control(s); },
          "a non-empty string (a file name)");
      const std::string folder = path_folder(m_path);
      m_profile.client_assertion_key_file = file.front() == '/' || folder.empty() ? file : folder + "/" + file;
    } else if (k == "client_assertion_alg") {
      m_profile.client_assertion_alg = text(
          k, value, [](std::string_view v) { return v == "RS256" || v == "PS256" || v == "ES256"; },
          "\"RS256\", \"PS256\" or \"ES256\"");
    } else if (k == "client_assertion_kid") {
      m_profile.client_assertion_kid = text(
          k, value, [](std::string_view v) { return !v.empty() && v.size() <= 256 && !has_control(v); },
          "a non-empty string");
    } else if (k == "storage") {
      m_profile.storage = parse_storage(m_path, value, "in profile " + quote(m_profile.name));
      m_profile.storage_set = true;
    } else if (k == "refresh_margin") {
      m_profile.refresh_margin = duration(k, value);
    } else if (k == "netrc_login") {
      m_profile.netrc_login = text(k, value, valid_netrc_login, "a non-empty string without spaces");
    } else if (k == "auth_params") {
      auth_params(value);
    } else {
      throw_config_error(m_path, line_of(key.source()),
                         "unknown key " + quote(k) + " in profile " + quote(m_profile.name));
    }
  }

private:
  [[noreturn]] void bad(std::string_view key, const toml::node& value, std::string_view must_be) const {
    throw_config_error(m_path, line_of(value.source()),
                       quote(key) + " in profile " + quote(m_profile.name) + " must be " + std::string(must_be));
  }

  template <class Check>
  std::string text(std::string_view key, const toml::node& value, Check check, std::string_view must_be) const {
    const auto* s = value.as_string();
    if (!s || !check(std::string_view(s->get()))) bad(key, value, must_be);
    return s->get();
  }

  std::string url(std::string_view key, const toml::node& value, bool is_host) const {
    const auto* s = value.as_string();
    if (!s) bad(key, value, "a URL string");
    const std::string& text = s->get();
    if (const std::string problem = is_host ? host_problem(text) : endpoint_url_problem(text); !problem.empty())
      throw_config_error(m_path, line_of(value.source()),
                         quote(key) + " in profile " + quote(m_profile.name) + ": " + problem);
    return text;
  }

  std::vector<std::string> scopes(const toml::node& value) const {
    constexpr std::string_view must_be = "an array of scopes (non-empty strings without spaces, quotes or '\\')";
    const auto* array = value.as_array();
    if (!array) bad("scopes", value, must_be);
    std::vector<std::string> out;
    for (const toml::node& item : *array) {
      const auto* s = item.as_string();
      if (!s || !valid_scope(s->get())) bad("scopes", item, must_be);
      out.push_back(s->get());
    }
    return out;
  }

  Seconds duration(std::string_view key, const toml::node& value) const {
    constexpr std::string_view must_be = "a duration like \"5m\", \"90s\" or \"1h\", or a number of seconds";
    if (const auto* n = value.as_integer()) {
      if (n->get() < 0) bad(key, value, must_be);
      return Seconds(n->get());
    }
    const auto* s = value.as_string();
    const auto parsed = s ? parse_duration(s->get()) : std::nullopt;
    if (!parsed || *parsed < Seconds(0)) bad(key, value, must_be);
    return *parsed;
  }

  void auth_params(const toml::node& value) const {
    const auto* table = value.as_table();
    if (!table) bad("auth_params", value, "a table of strings, like { prompt = \"consent\" }");
    for (const auto& [key, item] : in_file_order(*table)) {
      const std::string_view name = key->str();
      const auto* s = item->as_string();
      if (name.empty() || !s) bad("auth_params", *item, "a table of strings, like { prompt = \"consent\" }");
      for (std::string_view reserved : k_reserved_auth_params)
        if (name == reserved)
          throw_config_error(m_path, line_of(key->source()),
                             "\"auth_params\" in profile " + quote(m_profile.name) + " must not set " + quote(name) +
                                 ": tokenctl sets it");
      m_profile.auth_params.emplace_back(std::string(name), s->get());
    }
  }

  const std::string& m_path;
  Profile& m_profile;
};

Storage parse_storage(const std::string& path, const toml::node& value, const std::string& where) {
  const auto* s = value.as_string();
  if (!s || (s->get() != "file" && s->get() != "keyring"))
    throw_config_error(path, line_of(value.source()), "\"storage\" " + where + " must be \"file\" or \"keyring\"");
  return s->get() == "keyring" ? Storage::keyring : Storage::file;
}

// The rules between keys: what a grant and a client authentication method need.
void check_profile(const Profile& p, const std::string& path) {
  const auto refuse = [&](const std::string& why) {
    throw_config_error(path, p.line, "profile " + quote(p.name) + ": " + why);
  };
  const bool secret = p.client_secret_env.has_value();
  const bool assertion = p.client_assertion.has_value() || p.client_assertion_key_file.has_value();
  if (p.grant == Grant::client_credentials && (!p.client_id || !(secret || assertion)))
    refuse("grant \"client_credentials\" needs \"client_id\" and \"client_secret_env\" (or a client assertion)");
  if (p.grant == Grant::token_exchange && !p.subject_token)
    refuse("grant \"token_exchange\" needs \"subject_token\" (where the identity token comes from)");
  if (p.grant != Grant::token_exchange && (p.subject_token || p.subject_token_type || p.requested_token_type))
    refuse("\"subject_token\", \"subject_token_type\" and \"requested_token_type\" are for grant \"token_exchange\"");
  if (p.client_assertion && p.client_assertion_key_file)
    refuse("\"client_assertion\" and \"client_assertion_key_file\" are two ways to make the assertion: keep one");
  if ((p.client_assertion_alg || p.client_assertion_kid) && !p.client_assertion_key_file)
    refuse("\"client_assertion_alg\" and \"client_assertion_kid\" need \"client_assertion_key_file\"");
  if (assertion && secret) refuse("a client assertion and \"client_secret_env\" are two client credentials: keep one");
  if ((p.client_assertion || p.client_assertion_key_file) && !p.client_id)
    refuse("a client assertion names its client: set \"client_id\"");
  if (const auto m = p.token_endpoint_auth_method) {
    if (*m == AuthMethod::none && (secret || assertion))
      refuse("token_endpoint_auth_method \"none\" is for public clients; remove it or the client's credential");
    if ((*m == AuthMethod::client_secret_basic || *m == AuthMethod::client_secret_post) && !secret)
      refuse("token_endpoint_auth_method \"" + std::string(auth_method_name(*m)) + "\" needs \"client_secret_env\"");
    if (*m == AuthMethod::private_key_jwt && !assertion)
      refuse("token_endpoint_auth_method \"private_key_jwt\" needs \"client_assertion_key_file\" or "
             "\"client_assertion\"");
  }
}

Profile read_profile(const std::string& path, const toml::key& name, const toml::node& value) {
  if (!valid_profile_name(name.str()))
    throw_config_error(path, line_of(name.source()),
                       "invalid profile name " + quote(name.str()) + ": use letters, digits, '.', '_' and '-'");
  const auto* table = value.as_table();
  if (!table)
    throw_config_error(path, line_of(value.source()),
                       "profile " + quote(name.str()) + " must be a table, like [profiles." + std::string(name.str()) +
                           "]");
  Profile profile;
  profile.name = std::string(name.str());
  profile.line = line_of(table->source());
  ProfileReader reader(path, profile);
  for (const auto& [key, item] : in_file_order(*table)) reader.read(*key, *item);
  if (profile.host.empty())
    throw_config_error(path, profile.line, "profile " + quote(profile.name) + " has no \"host\"");
  check_profile(profile, path);
  return profile;
}

// toml++ 3.3 (Debian 12) reaches __builtin_unreachable() in its whitespace classifier for the code
// points U+00A1..U+0499, U+2C5E..U+3057 (but U+3000) and U+FB26..U+FEFE wherever it classifies
// them: between tokens, in keys (which it records), after a backslash in multi-line strings (found
// by fuzz/targets/fuzz_config.cpp). Undefined behaviour on a bad config, so before parsing such a
// character is replaced by '?' in a comment, kept in a one-line string value (toml++ does not
// classify those), and refused anywhere else.
bool classifier_breaks_on(unsigned cp) {
  return (cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
         (cp >= 0xFB26 && cp <= 0xFEFE);
}

std::string text_for_toml(std::string_view text, const std::string& path) {
  std::string out;
  out.reserve(text.size());
  long line = 1;
  bool comment = false, value = false;
  char quote = 0;            // inside a one-line string opened by this character
  bool quoted_value = false; // that string is a value, not a key
  std::string brackets;      // open '[' and '{' of values, innermost last
  char last = '\n';          // the last character outside strings and comments that is not a blank
  // With multi-line strings this line-based view could be wrong: keep nothing then.
  const bool multi_line = text.find("\"\"\"") != std::string_view::npos || text.find("'''") != std::string_view::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      comment = false;
      quote = 0;
      if (brackets.empty()) value = false;
    } else if (comment) {
    } else if (quote != 0) {
      if (c == static_cast<unsigned char>(quote))
        quote = 0;
      else if (quote == '"' && c == '\\' && i + 1 < text.size() && text[i + 1] != '\n')
        out += text[i++];
    } else if (c == '#') {
      comment = true;
    } else if (c == '"' || c == '\'') {
      quote = static_cast<char>(c);
      // A string value starts a value; a quote inside a bare word is read another way by toml++.
      quoted_value = value && (last == '=' || last == '[' || last == ',');
    } else if (c == '=') {
      value = true;
    } else if (c == '{' || c == '[') {
      if (value) brackets += static_cast<char>(c);
      if (c == '{') value = false;
    } else if (c == '}' || c == ']') {
      if (!brackets.empty()) brackets.pop_back();
      value = !brackets.empty() || c == '}';
    } else if (c == ',') {
      value = brackets.empty() || brackets.back() == '[';
    }
    if (!comment && quote == 0 && c != ' ' && c != '\t' && c != '\r' && c != '"' && c != '\'')
      last = static_cast<char>(c);
    if (c == '\n') last = '\n';
    if (c >= 0xC0) {
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      unsigned cp = c & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
      for (std::size_t k = 1; k < len && i + k < text.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
      if (classifier_breaks_on(cp) && (multi_line || !(comment || (quote != 0 && quoted_value)))) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "%04X", cp);
        throw_config_error(path, line,
                           std::string("the character U+") + hex +
                               " cannot be read here by tokenctl's TOML library (toml++ 3.3); "
                               "it is allowed only in comments and string values");
      }
      if (classifier_breaks_on(cp) && comment) {
        out += '?';
        i += len - 1;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

toml::table parse_toml(std::string_view text, const std::string& path) {
  const std::string safe = text_for_toml(text, path);
  try {
    return toml::parse(safe, std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw_config_error(path, line_of(e.source()), "invalid TOML: " + std::string(e.description()));
  }
}

} // namespace

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool valid_scope(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'; });
}

bool valid_account_id(std::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_alnum(c) || c == '-' || c == '_'; });
}

bool valid_client_id(std::string_view s) { return !s.empty() && !has_control(s); }

std::string host_problem(std::string_view host) {
  const auto parsed = parse_url(host);
  if (parsed && (parsed->has_query || parsed->has_fragment))
    return "no query or fragment is allowed (the host names the issuer)";
  return endpoint_url_problem(host);
}

std::string_view auth_method_name(AuthMethod m) {
  switch (m) {
  case AuthMethod::client_secret_basic: return "client_secret_basic";
  case AuthMethod::client_secret_post: return "client_secret_post";
  case AuthMethod::none: return "none";
  case AuthMethod::private_key_jwt: return "private_key_jwt";
  }
  return "none";
}

std::string_view storage_name(Storage s) { return s == Storage::keyring ? "keyring" : "file"; }

std::string_view grant_name(Grant g) {
  switch (g) {
  case Grant::authorization_code: return "authorization_code";
  case Grant::client_credentials: return "client_credentials";
  case Grant::token_exchange: return "token_exchange";
  }
  return "authorization_code";
}

const Profile* Config::find(std::string_view name) const {
  for (const Profile& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

Config parse_config(std::string_view text, const std::string& path) {
  Config config;
  config.path = path;
  config.exists = true;
  const toml::table doc = parse_toml(text, path);
  for (const auto& [key, value] : in_file_order(doc)) {
    const std::string_view name = key->str();
    if (name == "default_profile") {
      const auto* s = value->as_string();
      if (!s || !valid_profile_name(s->get()))
        throw_config_error(path, line_of(value->source()),
                           "\"default_profile\" must be a profile name (letters, digits, '.', '_' and '-')");
      config.default_profile = s->get();
    } else if (name == "storage") {
      config.storage = parse_storage(path, *value, "at the top of the config");
    } else if (name == "profiles") {
      const auto* profiles = value->as_table();
      if (!profiles)
        throw_config_error(path, line_of(value->source()),
                           "\"profiles\" must be a table of profiles, like [profiles.dev]");
      for (const auto& [profile_name, profile] : in_file_order(*profiles))
        config.profiles.push_back(read_profile(path, *profile_name, *profile));
    } else {
      throw_config_error(path, line_of(key->source()), "unknown key " + quote(name));
    }
  }
  for (Profile& p : config.profiles)
    if (!p.storage_set) p.storage = config.storage;
  return config;
}

} // namespace tokenctl
