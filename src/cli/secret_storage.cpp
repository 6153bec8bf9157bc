#include "cli/secret_storage.hpp"

#include "cli/token_service.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl::cli {

std::string keyring_label(const Profile& p) {
  const auto url = parse_url(p.host);
  return "tokenctl: " + p.name + " (" + (url ? url->host : p.host) + ")";
}

void load_refresh_token(Context& ctx, const Profile& profile, TokenSet& set) {
  if (!set.refresh_in_keyring || !set.refresh_token.empty()) return;
  const auto token = ctx.keyring().get(profile.name, set.endpoints.issuer);
  if (!token)
    throw Error(ErrorKind::login_required,
                "the keyring holds no refresh token for profile \"" + profile.name + "\" (issuer " +
                    set.endpoints.issuer + ")",
                login_hint(profile));
  set.refresh_token = *token;
}

std::function<void()> place_refresh_token(Context& ctx, const Profile& profile, TokenSet& set, const TokenSet* before) {
  const bool was_in_keyring = before != nullptr && before->refresh_in_keyring;
  if (profile.storage == Storage::keyring && !set.refresh_token.empty()) {
    ctx.keyring().put(profile.name, set.endpoints.issuer, keyring_label(profile), set.refresh_token);
    set.refresh_token.clear();
    set.refresh_in_keyring = true;
    // A login to another issuer leaves the old item behind: remove it once the cache says the new.
    if (was_in_keyring && before->endpoints.issuer != set.endpoints.issuer) {
      const std::string issuer = before->endpoints.issuer;
      return [&ctx, name = profile.name, issuer] { ctx.keyring().erase(name, issuer); };
    }
    return {};
  }
  if (profile.storage == Storage::keyring && set.refresh_token.empty() && set.refresh_in_keyring) return {};
  set.refresh_in_keyring = false;
  if (!was_in_keyring) return {};
  // The profile's storage is now the file (or the set has no refresh token): the item goes, after
  // the cache holds what replaces it.
  const std::string issuer = before->endpoints.issuer;
  return [&ctx, name = profile.name, issuer] { ctx.keyring().erase(name, issuer); };
}

void forget_refresh_token(Context& ctx, const Profile& profile, const TokenSet& set) {
  if (set.refresh_in_keyring) ctx.keyring().erase(profile.name, set.endpoints.issuer);
}

} // namespace tokenctl::cli
