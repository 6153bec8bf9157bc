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

// How much time a served token must have left.
struct Margin {
  Seconds min_ttl = k_default_refresh_margin;
  // true: asked for (--min-ttl), honoured as asked. false: the default margin (refresh_margin),
  // capped at half the token's whole lifetime, so that short-lived tokens are not refreshed on
  // every call.
  bool as_asked = false;
};

// Return the margin to apply to a set under the default rule: `requested`, but never more than
// half its whole lifetime.
Seconds effective_min_ttl(const TokenSet& set, Seconds requested);
// Return how long after its issue a token counts as "as fresh as the server issues them", for a
// margin the server's tokens cannot meet: a tenth of its lifetime, at least 5 s, at most 5 min.
Seconds freshness_tolerance(Seconds lifetime);
// Return from when the set's access token is no longer fresh enough for `margin`, or nullopt
// when its expiry is unknown (it is then served as it is). With a margin asked for that is longer
// than the tokens' whole lifetime, a token is fresh enough while it is within
// freshness_tolerance of its issue: a newer one would not have more time left.
std::optional<TimePoint> renew_at(const TokenSet& set, const Margin& margin);
// Return whether the set's access token can be served at `now` under `margin`.
bool fresh_enough(const TokenSet& set, const Margin& margin, TimePoint now);
// Return whether a token served under `margin` at `now` has less time left than was asked for
// (the server's tokens live shorter): the caller says so.
bool shorter_than_asked(const TokenSet& set, const Margin& margin, TimePoint now);

// Send a token request; retry (at most k_max_token_attempts) only when the server cannot have
// used it: the request was not sent, or the answer was 408, 429 or 503 (Retry-After honoured,
// capped at k_max_retry_after). Returns the last response; throws what the client throws.
HttpResponse send_token_request(HttpClient& http, WallClock& clock, const HttpRequest& request);

// Return a number of seconds from a Retry-After value (delay-seconds only), or nullopt.
std::optional<Seconds> parse_retry_after(std::string_view value);

// Refresh `old` with its refresh token; the result keeps the old refresh token when the server
// sends none. A new id token must pass check_id_token with the old one's iss, sub and aud.
// Throws OAuthError (e.g. invalid_grant), Error(network), UnusableTokenResponse.
TokenSet refresh_grant(HttpClient& http, WallClock& clock, const TokenSet& old, const ClientAuth& auth,
                       const std::string& ca_file, const Params& extra = {});

inline constexpr std::string_view k_token_exchange_grant = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr std::string_view k_token_type_jwt = "urn:ietf:params:oauth:token-type:jwt";
inline constexpr std::string_view k_token_type_access_token = "urn:ietf:params:oauth:token-type:access_token";

// An RFC 8693 token exchange request.
struct ExchangeRequest {
  std::string subject_token;
  std::string subject_token_type{k_token_type_jwt};
  std::string audience; // each sent only when set
  std::string resource;
  std::string requested_token_type;
  std::vector<std::string> scopes;
};

// Exchange a subject token at the endpoints' token endpoint (RFC 8693); the set has no refresh
// token. Throws as refresh_grant does.
TokenSet token_exchange_grant(HttpClient& http, WallClock& clock, const Endpoints& endpoints, const ClientAuth& auth,
                              const ExchangeRequest& request, const std::string& ca_file);

// Obtain a token with the client credentials grant.
TokenSet client_credentials_grant(HttpClient& http, WallClock& clock, const Endpoints& endpoints,
                                  const ClientAuth& auth, const std::vector<std::string>& scopes,
                                  const std::string& ca_file);

} // namespace tokenctl
