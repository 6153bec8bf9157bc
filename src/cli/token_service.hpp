// Getting a profile's token set fresh: the cached one when it has enough time left, else a
// refresh (or a new client-credentials token) under the cache lock, one process at a time.
#pragma once

#include <optional>

#include "cli/context.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl::cli {

struct Freshness {
  std::optional<Seconds> min_ttl;                // default: the profile's refresh_margin, else 5m
  bool force = false;                            // refresh even if the cached token is fresh
};

// Return the profile's token set with at least the wanted time left, refreshing first when
// needed. Throws Error(login_required) with the login command to run when there is no way.
TokenSet fresh_token_set(Context& ctx, const Profile& profile, const Freshness& freshness);

// Return the duration given to `option` ("--min-ttl"), nullopt when it was not given; throw
// Error(usage) when it is malformed.
std::optional<Seconds> duration_option(const std::string& value, const char* option);

// Return a ClientAuth for a profile's token set (its client id, the secret from the environment).
ClientAuth client_auth_for(const Profile& profile, const TokenSet& set);

} // namespace tokenctl::cli
