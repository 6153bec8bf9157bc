#include "cli/token_service.hpp"

#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/token_cache.hpp"

#include "sys/committed_work.hpp"

namespace tokenctl::cli {
namespace {

std::string login_hint(const Profile& p) { return "run: tokenctl login -p " + p.name; }

bool refresh_token_rejected(const OAuthError& e) {
  return e.code() == "invalid_grant" ||
         (e.code() == "invalid_request" && e.description().find("efresh token") != std::string::npos);
}

TokenSet obtain(Context& ctx, const Profile& p, const TokenSet* old) {
  const std::string ca = p.ca_file.value_or("");
  if (p.grant == Grant::client_credentials) {
    const ClientSettings client = resolve_client(p);
    const auto secret = client_secret(p);  // before any request: a missing secret needs no server
    const Endpoints endpoints = old ? old->endpoints : discover(ctx.http(), client, ca);
    const ClientAuth auth = choose_client_auth(client.client_id, secret, endpoints.token_endpoint_auth_methods);
    return client_credentials_grant(ctx.http(), ctx.clock(), endpoints, auth, client.scopes, ca);
  }
  if (old == nullptr)
    throw Error(ErrorKind::login_required, "profile \"" + p.name + "\" is not logged in", login_hint(p));
  if (old->refresh_token.empty())
    throw Error(ErrorKind::login_required,
                "the access token of profile \"" + p.name + "\" needs renewing and there is no refresh token",
                login_hint(p));
  try {
    return refresh_grant(ctx.http(), ctx.clock(), *old, client_auth_for(p, *old), ca);
  } catch (const OAuthError& e) {
    if (!refresh_token_rejected(e)) throw;
    throw Error(ErrorKind::login_required,
                "the server rejected the refresh token of profile \"" + p.name + "\": " + e.what(), login_hint(p));
  }
}

} // namespace

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
  return choose_client_auth(client_id, client_secret(profile), set.endpoints.token_endpoint_auth_methods);
}

TokenSet fresh_token_set(Context& ctx, const Profile& profile, const Freshness& freshness) {
  const Seconds min_ttl = freshness.min_ttl.value_or(profile.refresh_margin.value_or(k_default_refresh_margin));
  const auto cached = ctx.store().load_one(profile.name);
  if (cached && !freshness.force && fresh_enough(*cached, min_ttl, ctx.now())) return *cached;
  if (!cached && profile.grant != Grant::client_credentials)
    throw Error(ErrorKind::login_required, "profile \"" + profile.name + "\" is not logged in", login_hint(profile));
  // The exchange and the write that records its answer run to completion even if this process
  // is killed meanwhile (see sys/committed_work.hpp); the child hands the set back as cache JSON.
  const std::string answer = sys::run_to_completion([&] {
    std::optional<TokenSet> result;
    ctx.store().update([&](TokenCache& cache) {
      const auto it = cache.tokens.find(profile.name);
      const TokenSet* old = it == cache.tokens.end() ? nullptr : &it->second;
      // Another process may have refreshed while this one waited for the lock.
      if (old != nullptr && !freshness.force && fresh_enough(*old, min_ttl, ctx.now())) {
        result = *old;
        return false;
      }
      result = obtain(ctx, profile, old);
      cache.tokens[profile.name] = *result;
      return true;
    });
    TokenCache one;
    one.tokens.emplace(profile.name, *result);
    return serialize_token_cache(one);
  });
  return parse_token_cache(answer, ctx.store().path()).tokens.at(profile.name);
}

} // namespace tokenctl::cli
