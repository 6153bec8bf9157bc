#include "tokenctl/databricks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {

Profile profile_from_databricks(const DatabricksProfileSpec& spec, const std::string& path) {
  const auto refuse = [&](const std::string& why) {
    throw_config_error(path, spec.line, "profile \"" + sanitize(shorten(spec.name, 80)) + "\": " + why);
  };
  if (!valid_profile_name(spec.name))
    refuse("tokenctl cannot use a profile of this name (letters, digits, '.', '_' and '-')");
  if (spec.host.empty()) refuse("it has no host");
  Profile p;
  p.name = spec.name;
  p.line = spec.line;
  p.origin = ProfileOrigin::databricks;
  p.provider = Provider::databricks;
  p.host = spec.host;
  p.account_id = spec.account_id;
  p.client_id = spec.client_id;
  if (!spec.scopes.empty()) p.scopes = spec.scopes;
  if (spec.oauth_callback_port) p.redirect_port = *spec.oauth_callback_port;
  switch (spec.kind) {
  case DatabricksAuthKind::browser_login: p.grant = Grant::authorization_code; break;
  case DatabricksAuthKind::client_credentials:
    p.grant = Grant::client_credentials;
    p.inline_secret = spec.client_secret;
    p.token_endpoint_auth_method = AuthMethod::client_secret_basic; // what Databricks documents for M2M
    break;
  case DatabricksAuthKind::token_exchange:
    p.grant = Grant::token_exchange;
    p.subject_token = spec.subject_token;
    if (spec.audience) p.subject_audience = spec.audience;
    break;
  case DatabricksAuthKind::unsupported: refuse("tokenctl cannot serve it: " + spec.unsupported_reason);
  }
  return p;
}

std::string databricks_host_key(std::string_view host) {
  std::string text(trim(host));
  if (text.find("://") == std::string::npos) text = "https://" + text;
  const auto url = parse_url(text);
  if (!url) return "";
  const bool default_port =
      url->port < 0 || (url->scheme == "https" && url->port == 443) || (url->scheme == "http" && url->port == 80);
  Url key;
  key.scheme = url->scheme;
  key.host = url->host;
  key.port = default_port ? -1 : url->port;
  return format_url(key);
}

std::string format_databricks_expiry(TimePoint t, Seconds utc_offset) {
  const std::string utc = format_rfc3339(t + utc_offset); // "YYYY-MM-DDTHH:MM:SSZ" of the local wall time
  const long long offset = utc_offset.count();
  const int minutes =
      static_cast<int>(std::min<long long>(std::llabs(offset) / 60, 23 * 60 + 59)); // zones end at +-14h
  char zone[32];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
  return utc.substr(0, utc.size() - 1) + ".000000" + zone;
}

std::string databricks_version_text() { return "Databricks CLI v" + std::string(k_databricks_cli_version) + "\n"; }

std::string databricks_version_json(std::string_view tokenctl_version) {
  const std::string v(k_databricks_cli_version);
  nlohmann::ordered_json j;
  j["ProjectName"] = "tokenctl";
  j["Version"] = v;
  j["Branch"] = "";
  j["Tag"] = "v" + v;
  j["ShortCommit"] = "";
  j["FullCommit"] = "";
  j["CommitTime"] = "1970-01-01T00:00:00Z";
  j["Summary"] = "tokenctl " + std::string(tokenctl_version) + " answering as Databricks CLI v" + v;
  j["Major"] = 0;
  j["Minor"] = 296;
  j["Patch"] = 0;
  j["Prerelease"] = "";
  j["IsSnapshot"] = false;
  j["BuildTime"] = "1970-01-01T00:00:00Z";
  return j.dump(2) + "\n";
}

} // namespace tokenctl
