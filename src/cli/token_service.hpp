// Getting a profile's token set fresh: the cached one when it has enough time left, else a
// refresh (or a new client-credentials token) under the cache lock, one process at a time; and
// the narrowed variants of a set (--scope, --resource, --audience), kept beside it.
#pragma once

#include <optional>

#include "cli/context.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/token_set.hpp"
#include "tokenctl/token_shape.hpp"

namespace tokenctl::cli {

struct Freshness {
  std::optional<Seconds> min_ttl; // --min-ttl, honoured as asked; else refresh_margin
  bool force = false;             // refresh even if the cached token is fresh
  // With force: unless the set was obtained (by any process) within this long. Many callers that
  // all ask for a refresh at once (Databricks SDKs' --force-refresh) then cause one refresh.
  std::optional<Seconds> unless_refreshed_within;
  bool id_token = false;  // the id token must be fresh too (token --id-token)
  TokenShape shape;       // a narrowed variant instead of the profile's own set
  bool warn_short = true; // say when the server's tokens live less than --min-ttl
};

// Return the margin a profile's tokens are served with under `freshness`.
Margin margin_for(const Profile& profile, const Freshness& freshness);

// Return the profile's token set (or, with a shape, the variant) with at least the wanted time
// left, refreshing first when needed. Throws Error(login_required) with the login command to run
// when there is no way. When even a fresh token has less than --min-ttl left, it is returned and
// stderr says so.
TokenSet fresh_token_set(Context& ctx, const Profile& profile, const Freshness& freshness);

// Return the profile's cached token set if it belongs to what the profile names now (see
// binding_mismatch), else nullopt. Reads the cache without the lock.
std::optional<TokenSet> cached_token_set(Context& ctx, const Profile& profile);

// Return the duration given to `option` ("--min-ttl"), nullopt when it was not given; throw
// Error(usage) when it is malformed.
std::optional<Seconds> duration_option(const std::string& value, const char* option);

// Return how the profile's client authenticates for `set`'s server, for one request (see
// credentials.hpp client_auth).
ClientAuth client_auth_for(Context& ctx, const Profile& profile, const TokenSet& set);

// Return whether the profile's tokens come without a user (client credentials, token exchange):
// such a profile needs no login, and fetches a new token when the old one is due.
bool machine_grant(const Profile& profile);

// Return the audience asked of a CI token service for the profile's identity token:
// subject_audience, else (Databricks) the account id on account hosts or the token endpoint.
std::string subject_audience(const Profile& profile, const ClientSettings& client, const Endpoints& endpoints);

// Return the login hint for a profile: "run: tokenctl login -p NAME".
std::string login_hint(const Profile& profile);

} // namespace tokenctl::cli
