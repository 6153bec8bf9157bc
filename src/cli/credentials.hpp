// How a profile's client proves who it is, and what it exchanges: the client secret, a signed
// client assertion (private_key_jwt), a CI identity token as the assertion, and the identity token
// of a token exchange. Every identity token and assertion lives in memory for one request only:
// never in the cache, argv, a child's environment, -v output or a message.
#pragma once

#include <string>

#include "cli/context.hpp"
#include "tokenctl/identity.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl::cli {

// Return how the profile's client authenticates at `endpoints`' token endpoint for one request:
// the secret (client_secret_env, or .databrickscfg's), a freshly signed assertion
// (client_assertion_key_file: a new jti each time), a CI identity token as the assertion
// (client_assertion), or nothing (a public client). Throws Error(config) before any request when
// a secret variable is unset or the key file is unsafe or unusable.
ClientAuth client_auth(Context& ctx, const Profile& profile, const std::string& client_id, const Endpoints& endpoints);

// Check, before any request, what can be checked of the profile's credentials: the secret's
// variable, the assertion key file (the user's own, 0600), and each identity-token source's
// variables or file; throw as client_auth and fetch_identity_token would, later.
void check_credentials(Context& ctx, const Profile& profile);

// Return the identity token `source` names, fetched now (CI token services), read now (env:,
// file:, re-read at every exchange) or made fresh (profile:, as `token` does). `audience` is asked
// of the CI token services. Throws Error(config) when the variables it needs are not set (for
// GitHub Actions naming `permissions: id-token: write`), Error(network) when it cannot be fetched,
// Error(failure) when what came is not usable.
std::string fetch_identity_token(Context& ctx, const Profile& profile, const std::string& source,
                                 const std::string& audience, int depth = 0);

} // namespace tokenctl::cli
