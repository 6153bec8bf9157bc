// What a login or refresh returned for a profile, and the endpoints it was obtained from.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenctl/duration.hpp"

namespace tokenctl {

// Endpoints resolved at login (discovery, Databricks rules or profile keys), kept with the token set.
struct Endpoints {
  std::string issuer; // what the token set is bound to (see binding_mismatch)
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string revocation_endpoint;                      // "" when the server has none
  std::string device_authorization_endpoint;            // "" when the server has none
  std::string userinfo_endpoint;                        // OpenID Connect; "" when the server has none
  std::vector<std::string> grant_types;                 // grant_types_supported; empty: not advertised
  std::vector<std::string> token_endpoint_auth_methods; // from metadata; empty: not advertised
  bool iss_parameter_supported = false;                 // RFC 9207 authorization_response_iss_parameter_supported
};

struct TokenSet {
  std::string access_token;
  std::string token_type = "Bearer";
  std::optional<TimePoint> expiry;         // nullopt: the server did not say
  std::optional<TimePoint> issued_at;      // when the request was sent; for the lifetime
  std::string refresh_token;               // "" when none
  std::optional<TimePoint> refresh_expiry; // when the refresh token stops working, if the server said
  bool refresh_in_keyring = false;         // storage = "keyring": the refresh token is there, not here
  std::string id_token;                    // "" when none
  std::vector<std::string> scopes;         // granted (or requested, if the server did not say)
  std::string client_id;                   // the client that obtained it
  Endpoints endpoints;
  std::string issued_token_type; // RFC 8693 exchanges; "" otherwise
  // Narrowed tokens obtained with this set's refresh token or access token (token --scope,
  // --resource, --audience), by shape_key(). A variant holds no refresh token or endpoints of its
  // own: the profile's set does.
  std::map<std::string, TokenSet> variants;
};

enum class TokenStatus { valid, expired, refreshable, logged_out };

// Return the status word of the contract: "valid", "expired", "refreshable", "logged-out".
std::string_view status_name(TokenStatus s);

// Classify a profile's token set at `now`: no set -> logged_out; an access token whose expiry is
// later than `now` or unknown -> valid; otherwise a refresh token that has not expired ->
// refreshable; else expired.
TokenStatus token_status(const TokenSet* set, TimePoint now);
// Return whether the set's refresh token can still be used at `now`.
bool refresh_token_usable(const TokenSet& set, TimePoint now);

// How long before a refresh token expires `list` starts warning that a login will be needed.
inline constexpr Seconds k_login_warning{7 * 24 * 3600};
// Return whether the set holds a refresh token that expires within `window` of `now` (or already
// has): its profile will need a new login by then.
bool login_needed_within(const TokenSet& set, TimePoint now, Seconds window = k_login_warning);

} // namespace tokenctl
