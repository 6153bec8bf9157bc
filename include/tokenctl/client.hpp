// Which client, scopes, redirect URI and endpoints a profile stands for (the contract's
// "Endpoints" rules: Databricks workspace and account hosts, or an OIDC issuer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenctl/config.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl {

inline constexpr std::string_view k_default_oidc_client_id = "tokenctl";
inline constexpr std::string_view k_databricks_client_id = "databricks-cli";
inline constexpr int k_databricks_redirect_port = 8020;

struct ClientSettings {
  bool databricks = false;
  std::string client_id;
  std::vector<std::string> scopes;         // what to ask for; empty: send no scope
  int redirect_port = 0;                   // 0: any free port
  std::string redirect_host;               // "127.0.0.1" (OIDC) or "localhost" (Databricks)
  std::string redirect_path;               // "/callback" (OIDC) or "" (Databricks)
  std::string issuer;                      // what discovery's `issuer` must equal
  std::vector<std::string> discovery_urls; // tried in order; empty: no discovery
  std::optional<Endpoints> fallback;       // used when discovery is skipped or finds nothing
  Endpoints pinned;                        // the endpoints the profile names: they win over discovery
  std::optional<std::string> client_secret_env;
};

// Return the scopes a profile without `scopes` asks for: the code and device flows
// ["openid", "offline_access"] (Databricks ["all-apis", "offline_access"]); client credentials
// and token exchange none at all (Databricks ["all-apis"]).
std::vector<std::string> default_scopes(Grant grant, bool databricks);
// Return whether the profile is a Databricks one (by host, account_id or provider).
bool is_databricks(const Profile& profile);
// Resolve a profile's client settings, applying the Databricks or OIDC defaults.
ClientSettings resolve_client(const Profile& profile);
// Return "" when `set` belongs to what `profile` names now (the same issuer and client id, and
// the endpoints the profile pins), else what differs: a set obtained for another host or client
// is never handed to anyone (the contract's "Files" section).
std::string binding_mismatch(const TokenSet& set, const Profile& profile);

// Return the redirect URI for a bound port: "http://127.0.0.1:PORT/callback" or "http://localhost:8020".
std::string redirect_uri(const ClientSettings& client, int port);
// Return the RFC 8414 metadata URL for an issuer (well-known path inserted before the issuer's path).
std::string rfc8414_metadata_url(std::string_view issuer);
// Return the OpenID Connect Discovery URL for an issuer (well-known path appended).
std::string oidc_discovery_url(std::string_view issuer);

} // namespace tokenctl
