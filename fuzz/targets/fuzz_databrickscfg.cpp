// .databrickscfg files: parsing either throws Error(config) with a message safe for a terminal or
// gives unique sections and keys, lowercased keys, trimmed values, lines in order; the canonical
// rewrite of what was read parses to the same thing; the mapping of every profile either throws
// Error(config) without quoting the client secret or gives a consistent spec.
#include <cstdint>
#include <set>
#include <string>

#include "tokenctl/databrickscfg.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"

namespace {

void check_message(const tokenctl::Error& e) {
  const std::string message = e.what();
  if (e.kind() != tokenctl::ErrorKind::config || message.rfind("cfg", 0) != 0) __builtin_trap();
  if (tokenctl::sanitize(message) != message) __builtin_trap();
}

void check_value(const tokenctl::DatabricksValue& v, long previous_line) {
  if (v.key.empty() || v.line <= previous_line) __builtin_trap();
  for (char c : v.key)
    if (c >= 'A' && c <= 'Z') __builtin_trap();
  if (tokenctl::trim(v.value, " \t") != v.value) __builtin_trap();
  if (v.value.find('\n') != std::string::npos || v.value.find('\r') != std::string::npos) __builtin_trap();
}

// Return the sections and settings as plain INI that both SDKs read alike.
std::string canonical(const tokenctl::DatabricksConfig& c) {
  std::string out;
  for (const auto& s : c.sections) {
    out += "[" + s.name + "]\n";
    for (const auto& v : s.keys) out += v.key + " = " + v.value + "\n";
  }
  if (c.settings.line != 0) {
    out += "[__settings__]\n";
    if (c.settings.default_profile) out += "default_profile = " + c.settings.default_profile->value + "\n";
    if (c.settings.auth_storage) out += "auth_storage = " + c.settings.auth_storage->value + "\n";
  }
  return out;
}

bool same(const tokenctl::DatabricksConfig& a, const tokenctl::DatabricksConfig& b) {
  if (a.sections.size() != b.sections.size()) return false;
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    const auto& x = a.sections[i];
    const auto& y = b.sections[i];
    if (x.name != y.name || x.keys.size() != y.keys.size()) return false;
    for (std::size_t k = 0; k < x.keys.size(); ++k)
      if (x.keys[k].key != y.keys[k].key || x.keys[k].value != y.keys[k].value ||
          x.keys[k].problem != y.keys[k].problem)
        return false;
  }
  const auto value = [](const std::optional<tokenctl::DatabricksValue>& v) { return v ? v->value : std::string("-"); };
  return (a.settings.line != 0) == (b.settings.line != 0) &&
         value(a.settings.default_profile) == value(b.settings.default_profile) &&
         value(a.settings.auth_storage) == value(b.settings.auth_storage);
}

void check_profile(const tokenctl::DatabricksConfig& c, const tokenctl::DatabricksSection& s) {
  const tokenctl::DatabricksValue* secret = s.find("client_secret");
  try {
    const auto spec = tokenctl::databricks_profile(c, s.name);
    if (!spec || spec->name != s.name || spec->line != s.line) __builtin_trap();
    using Kind = tokenctl::DatabricksAuthKind;
    if ((spec->kind == Kind::token_exchange) != !spec->subject_token.empty()) __builtin_trap();
    if ((spec->kind == Kind::unsupported) != !spec->unsupported_reason.empty()) __builtin_trap();
    if (spec->kind == Kind::client_credentials && (!spec->client_id || !spec->has_client_secret)) __builtin_trap();
    if (!spec->host.empty() && spec->host.rfind("https://", 0) != 0 && spec->host.rfind("http://", 0) != 0)
      __builtin_trap();
    if (spec->oauth_callback_port && (*spec->oauth_callback_port < 0 || *spec->oauth_callback_port > 65535))
      __builtin_trap();
    if (spec->has_client_secret != (secret != nullptr && !secret->value.empty())) __builtin_trap();
  } catch (const tokenctl::Error& e) {
    check_message(e);
    // The secret is never quoted. Checked for secrets with a '~', which no fixed text of a message
    // has, and that are not part of the profile name, which messages do quote.
    if (secret != nullptr && secret->value.size() >= 8 && secret->value.find('~') != std::string::npos &&
        s.name.find(secret->value) == std::string::npos &&
        std::string(e.what()).find(secret->value) != std::string::npos)
      __builtin_trap();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  tokenctl::DatabricksConfig c;
  try {
    c = tokenctl::parse_databrickscfg(text, "cfg");
  } catch (const tokenctl::Error& e) {
    check_message(e);
    return 0;
  }
  std::set<std::string> names;
  long previous_section = 0;
  for (const auto& s : c.sections) {
    if (!names.insert(s.name).second || s.name == "__settings__" || s.line <= previous_section) __builtin_trap();
    previous_section = s.line;
    std::set<std::string> keys;
    long previous_line = s.line;
    for (const auto& v : s.keys) {
      if (!keys.insert(v.key).second) __builtin_trap();
      check_value(v, previous_line);
      previous_line = v.line;
    }
    if (c.find(s.name) != &s) __builtin_trap();
  }
  try {
    if (!same(c, tokenctl::parse_databrickscfg(canonical(c), "cfg"))) __builtin_trap();
  } catch (const tokenctl::Error&) {
    __builtin_trap();
  }
  for (const auto& s : c.sections)
    if (!s.keys.empty()) check_profile(c, s);
  return 0;
}
