#include "cli/token_service.hpp"

#include "sys/committed_work.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/token_cache.hpp"

namespace tokenctl::cli {
namespace {

bool refresh_token_rejected(const OAuthError& e) {
  return e.code() == "invalid_grant" ||
         (e.code() == "invalid_request" && e.description().find("efresh token") != std::string::npos);
}

// The cached set, if it belongs to what the profile names now (else nullptr, as if logged out).
const TokenSet* bound(const TokenSet* set, const Profile& profile) {
  return set != nullptr && binding_mismatch(*set, profile).empty() ? set : nullptr;
}

Error not_logged_in(const Profile& p, const TokenSet* stale) {
  if (stale != nullptr)
    return Error(ErrorKind::login_required,
                 "the tokens cached for profile \"" + p.name + "\" are not for what it names now: " +
                     binding_mismatch(*stale, p),
                 login_hint(p));
  return Error(ErrorKind::login_required, "profile \"" + p.name + "\" is not logged in", login_hint(p));
}

TokenSet obtain(Context& ctx, const Profile& p, const TokenSet* old) {
  const std::string ca = p.ca_file.value_or("");
  if (p.grant == Grant::client_credentials) {
    const ClientSettings client = resolve_client(p);
    const auto secret = client_secret(p);  // before any request: a missing secret needs no server
    const Endpoints endpoints = old ? old->endpoints : discover(ctx.http(), client, ca);
    const ClientAuth auth = choose_client_auth(client.client_id, secret, endpoints.token_endpoint_auth_methods,
                                               p.token_endpoint_auth_method);
    return client_credentials_grant(ctx.http(), ctx.clock(), endpoints, auth, client.scopes, ca);
  }
  if (old->refresh_token.empty())
    throw Error(ErrorKind::login_required,
                "the access token of profile \"" + p.name + "\" needs renewing and there is no refresh token",
                login_hint(p));
  if (!refresh_token_usable(*old, ctx.now()))
    throw Error(ErrorKind::login_required,
                "the refresh token of profile \"" + p.name + "\" expired at " + format_rfc3339(*old->refresh_expiry),
                login_hint(p));
  try {
    return refresh_grant(ctx.http(), ctx.clock(), *old, client_auth_for(p, *old), ca);
  } catch (const OAuthError& e) {
    if (!refresh_token_rejected(e)) throw;
    throw Error(ErrorKind::login_required,
                "the server rejected the refresh token of profile \"" + p.name + "\": " + e.what(), login_hint(p));
  }
}

// Run the refresh under the cache lock (in a child that outlives a killed command, see
// sys/committed_work.hpp) and return the set it wrote, or the one another process wrote meanwhile.
TokenSet refresh_under_lock(Context& ctx, const Profile& profile, const Freshness& freshness) {
  const Margin margin = margin_for(profile, freshness);
  const std::string answer = sys::run_to_completion([&] {
    std::optional<TokenSet> result;
    std::optional<UnusableTokenResponse> refused;
    ctx.store().update([&](TokenCache& cache) {
      const auto it = cache.tokens.find(profile.name);
      const TokenSet* stale = it == cache.tokens.end() ? nullptr : &it->second;
      const TokenSet* old = bound(stale, profile);
      // Another process may have refreshed while this one waited for the lock.
      if (old != nullptr && !freshness.force && fresh_enough(*old, margin, ctx.now())) {
        result = *old;
        return false;
      }
      if (old == nullptr && profile.grant != Grant::client_credentials) throw not_logged_in(profile, stale);
      try {
        result = obtain(ctx, profile, old);
      } catch (const UnusableTokenResponse& e) {
        // The server answered a refresh with tokens that cannot be used, but with a refresh token
        // that can: it may have spent the old one, so the new one is kept (with no access token)
        // before the error is reported.
        if (old == nullptr || e.refresh_token().empty()) throw;
        TokenSet kept = *old;
        kept.access_token.clear();
        kept.expiry.reset();
        kept.refresh_token = e.refresh_token();
        cache.tokens[profile.name] = kept;
        refused = e;
        return true;
      }
      cache.tokens[profile.name] = *result;
      return true;
    });
    if (refused) throw Error(refused->kind(), refused->what(), "the new refresh token was kept; try again, or log in");
    TokenCache one;
    one.tokens.emplace(profile.name, *result);
    return serialize_token_cache(one);
  });
  return parse_token_cache(answer, ctx.store().path()).tokens.at(profile.name);
}

} // namespace

std::string login_hint(const Profile& p) { return "run: tokenctl login -p " + p.name; }

Margin margin_for(const Profile& profile, const Freshness& freshness) {
  if (freshness.min_ttl) return Margin{*freshness.min_ttl, true};
  return Margin{profile.refresh_margin.value_or(k_default_refresh_margin), false};
}

std::optional<TokenSet> cached_token_set(Context& ctx, const Profile& profile) {
  auto set = ctx.store().load_one(profile.name);
  if (set && bound(&*set, profile) == nullptr) return std::nullopt;
  return set;
}

TokenSet fresh_token_set(Context& ctx, const Profile& profile, const Freshness& freshness) {
  const Margin margin = margin_for(profile, freshness);
  const auto cached = ctx.store().load_one(profile.name);
  const TokenSet* current = cached ? bound(&*cached, profile) : nullptr;
  TokenSet set;
  if (current != nullptr && !freshness.force && fresh_enough(*current, margin, ctx.now())) {
    set = *current;
  } else {
    if (current == nullptr && profile.grant != Grant::client_credentials)
      throw not_logged_in(profile, cached ? &*cached : nullptr);
    set = refresh_under_lock(ctx, profile, freshness);
  }
  if (shorter_than_asked(set, margin, ctx.now()))
    ctx.warn("the server's tokens for profile \"" + profile.name + "\" live " +
             (set.issued_at ? format_duration(*set.expiry - *set.issued_at) : std::string("less")) +
             ", less than the --min-ttl " + format_duration(margin.min_ttl) +
             " asked for; this token has " + format_duration(*set.expiry - ctx.now()) + " left");
  return set;
}

std::optional<Seconds> duration_option(const std::string& value, const char* option) {
  if (value.empty()) return std::nullopt;
  const auto d = parse_duration(value);
  if (!d)
    throw Error(ErrorKind::usage, std::string(option) + ": invalid duration \"" + value + "\"",
                "use a number with s, m or h: 90s, 5m, 1h");
  return d;
}

ClientAuth client_auth_for(const Profile& profile, const TokenSet& set) {
  const std::string client_id = set.client_id.empty() ? resolve_client(profile).client_id : set.client_id;
  return choose_client_auth(client_id, client_secret(profile), set.endpoints.token_endpoint_auth_methods,
                            profile.token_endpoint_auth_method);
}

} // namespace tokenctl::cli
