#include "tokenctl/client.hpp"

#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Split "https://host:port/path" into origin and path (no trailing '/').
std::pair<std::string, std::string> origin_and_path(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto path_start = scheme_end == std::string_view::npos ? std::string_view::npos : url.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos) return {std::string(url), ""};
  return {std::string(url.substr(0, path_start)), without_trailing_slash(url.substr(path_start))};
}

Endpoints databricks_endpoints(const std::string& base) {
  Endpoints e;
  e.issuer = base;
  e.authorization_endpoint = base + "/v1/authorize";
  e.token_endpoint = base + "/v1/token";
  return e;
}

void apply_profile_endpoints(const Profile& p, ClientSettings& c) {
  if (!p.authorization_endpoint && !p.token_endpoint && !p.revocation_endpoint) return;
  Endpoints e = c.fallback.value_or(Endpoints{});
  e.issuer = c.issuer;
  if (p.authorization_endpoint) e.authorization_endpoint = *p.authorization_endpoint;
  if (p.token_endpoint) e.token_endpoint = *p.token_endpoint;
  if (p.revocation_endpoint) e.revocation_endpoint = *p.revocation_endpoint;
  c.fallback = e;
  // Discovery is skipped when the profile names every endpoint its grant needs.
  const bool browser = p.grant == Grant::authorization_code;
  if (p.token_endpoint && (!browser || p.authorization_endpoint)) c.discovery_urls.clear();
  if (p.authorization_endpoint) c.pinned.authorization_endpoint = *p.authorization_endpoint;
  if (p.token_endpoint) c.pinned.token_endpoint = *p.token_endpoint;
  if (p.revocation_endpoint) c.pinned.revocation_endpoint = *p.revocation_endpoint;
}

} // namespace

std::vector<std::string> default_scopes(Grant grant, bool databricks) {
  // openid and offline_access mean nothing without a user and a refresh token, and strict
  // servers refuse them (invalid_scope): a machine grant asks only for what the profile names.
  if (grant != Grant::authorization_code)
    return databricks ? std::vector<std::string>{"all-apis"} : std::vector<std::string>{};
  return databricks ? std::vector<std::string>{"all-apis", "offline_access"}
                    : std::vector<std::string>{"openid", "offline_access"};
}

bool is_databricks(const Profile& profile) {
  if (profile.provider != Provider::automatic) return profile.provider == Provider::databricks;
  if (profile.account_id) return true;
  const auto url = parse_url(profile.host);
  if (!url) return false;
  for (std::string_view suffix : {".cloud.databricks.com", ".azuredatabricks.net", ".gcp.databricks.com"})
    if (ends_with(url->host, suffix)) return true;
  return false;
}

std::string rfc8414_metadata_url(std::string_view issuer) {
  const auto [origin, path] = origin_and_path(issuer);
  return origin + "/.well-known/oauth-authorization-server" + path;
}

std::string oidc_discovery_url(std::string_view issuer) {
  return without_trailing_slash(issuer) + "/.well-known/openid-configuration";
}

ClientSettings resolve_client(const Profile& profile) {
  ClientSettings c;
  c.client_secret_env = profile.client_secret_env;
  c.databricks = is_databricks(profile);
  if (c.databricks) {
    const std::string host = without_trailing_slash(profile.host);
    c.client_id = profile.client_id.value_or(std::string(k_databricks_client_id));
    c.scopes = profile.scopes.value_or(default_scopes(profile.grant, true));
    c.redirect_port = profile.redirect_port.value_or(k_databricks_redirect_port);
    c.redirect_host = "localhost";
    c.redirect_path = "";
    if (profile.account_id) {
      c.issuer = host + "/oidc/accounts/" + *profile.account_id;
    } else {
      c.issuer = host + "/oidc";
      c.discovery_urls = {c.issuer + "/.well-known/oauth-authorization-server"};
    }
    c.fallback = databricks_endpoints(c.issuer);
  } else {
    c.client_id = profile.client_id.value_or(std::string(k_default_oidc_client_id));
    c.scopes = profile.scopes.value_or(default_scopes(profile.grant, false));
    c.redirect_port = profile.redirect_port.value_or(0);
    c.redirect_host = "127.0.0.1";
    c.redirect_path = "/callback";
    c.issuer = profile.host;
    c.discovery_urls = {rfc8414_metadata_url(profile.host), oidc_discovery_url(profile.host)};
  }
  // A token exchange names a client only when the profile does (a Databricks service principal's
  // federation policy): the token itself is the credential.
  if (profile.grant == Grant::token_exchange) c.client_id = profile.client_id.value_or("");
  apply_profile_endpoints(profile, c);
  return c;
}

std::string binding_mismatch(const TokenSet& set, const Profile& profile) {
  const ClientSettings client = resolve_client(profile);
  if (set.endpoints.issuer != client.issuer)
    return "they were issued by " +
           (set.endpoints.issuer.empty() ? std::string("an unknown issuer") : set.endpoints.issuer) +
           ", and the profile now names " + client.issuer;
  if (set.client_id != client.client_id)
    return "they were issued to the client " + set.client_id + ", and the profile now names " + client.client_id;
  if (profile.token_endpoint && set.endpoints.token_endpoint != *profile.token_endpoint)
    return "they came from the token endpoint " + set.endpoints.token_endpoint + ", and the profile now names " +
           *profile.token_endpoint;
  if (profile.authorization_endpoint && !set.endpoints.authorization_endpoint.empty() &&
      set.endpoints.authorization_endpoint != *profile.authorization_endpoint)
    return "they came from the authorization endpoint " + set.endpoints.authorization_endpoint +
           ", and the profile now names " + *profile.authorization_endpoint;
  if (profile.revocation_endpoint && set.endpoints.revocation_endpoint != *profile.revocation_endpoint)
    return "they were to be revoked at " +
           (set.endpoints.revocation_endpoint.empty() ? std::string("no endpoint")
                                                      : set.endpoints.revocation_endpoint) +
           ", and the profile now names " + *profile.revocation_endpoint;
  return "";
}

std::string redirect_uri(const ClientSettings& client, int port) {
  return "http://" + client.redirect_host + ":" + std::to_string(port) + client.redirect_path;
}

} // namespace tokenctl
