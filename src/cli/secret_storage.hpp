// Where a profile's refresh token lives (storage = "file" | "keyring"), and the order of writes
// that keeps it safe: with the keyring, the rotated refresh token goes there before the cache is
// written, and a keyring item of a profile that moved to the file is removed only after it; a kill
// at any moment leaves a refresh token the server accepts in one of the two places.
#pragma once

#include <functional>

#include "cli/context.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl::cli {

// Return the label of a profile's keyring item: "tokenctl: PROFILE (HOST)".
std::string keyring_label(const Profile& profile);

// Bring `set`'s refresh token into memory: from the keyring when the cache says it is there
// (the only moment a refresh touches D-Bus). Throws Error(login_required) when the keyring has
// no item for it, Error(failure) when the keyring cannot be asked.
void load_refresh_token(Context& ctx, const Profile& profile, TokenSet& set);

// Before `set` replaces `before` (nullptr: none) in the cache: keep its refresh token where the
// profile's storage says (the keyring: stored there now, and the set marked instead); return what
// to run once the cache is written (remove the keyring item of a profile whose storage is now the
// file), or an empty function.
std::function<void()> place_refresh_token(Context& ctx, const Profile& profile, TokenSet& set, const TokenSet* before);

// Remove the keyring item of `set`, if its refresh token is kept there (revoke, a new login on
// another server).
void forget_refresh_token(Context& ctx, const Profile& profile, const TokenSet& set);

} // namespace tokenctl::cli
