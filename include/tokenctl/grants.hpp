// Token grants that need no browser: refresh and client credentials, with the retry rule, and
// the freshness rule that decides when a cached token must be refreshed.
#pragma once

#include <string>
#include <vector>

#include "tokenctl/duration.hpp"
#include "tokenctl/ports.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl {

inline constexpr Seconds k_default_refresh_margin{300};
inline constexpr int k_max_token_attempts = 3;
inline constexpr Seconds k_max_retry_after{30};

// Return the margin to apply to a set: `requested`, but never more than half its whole lifetime.
Seconds effective_min_ttl(const TokenSet& set, Seconds requested);
// Return whether the set's access token can be served at `now` with at least `min_ttl` left
// (capped as effective_min_ttl says). An unknown expiry counts as fresh.
bool fresh_enough(const TokenSet& set, Seconds min_ttl, TimePoint now);

// Send a token request; retry (at most k_max_token_attempts) only when the server cannot have
// used it: the request was not sent, or the answer was 408, 429 or 503 (Retry-After honoured,
// capped at k_max_retry_after). Returns the last response; throws what the client throws.
HttpResponse send_token_request(HttpClient& http, WallClock& clock, const HttpRequest& request);

// Return a number of seconds from a Retry-After value (delay-seconds only), or nullopt.
std::optional<Seconds> parse_retry_after(std::string_view value);

// Refresh `old` with its refresh token; the result keeps the old refresh token when the server
// sends none. Throws OAuthError (e.g. invalid_grant) or Error(network).
TokenSet refresh_grant(HttpClient& http, WallClock& clock, const TokenSet& old, const ClientAuth& auth,
                       const std::string& ca_file);

// Obtain a token with the client credentials grant.
TokenSet client_credentials_grant(HttpClient& http, WallClock& clock, const Endpoints& endpoints,
                                  const ClientAuth& auth, const std::vector<std::string>& scopes,
                                  const std::string& ca_file);

} // namespace tokenctl
