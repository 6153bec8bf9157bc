#include "cli/token_service.hpp"

#include "cli/credentials.hpp"
#include "cli/secret_storage.hpp"
#include "sys/committed_work.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/token_cache.hpp"

namespace tokenctl::cli {
namespace {

// The cached set, if it belongs to what the profile names now (else nullptr, as if logged out).
const TokenSet* bound(const TokenSet* set, const Profile& profile) {
  return set != nullptr && binding_mismatch(*set, profile).empty() ? set : nullptr;
}

Error not_logged_in(const Profile& p, const TokenSet* stale) {
  if (stale != nullptr)
    return Error(ErrorKind::login_required,
                 "the tokens cached for profile \"" + p.name +
                     "\" are not for what it names now: " + binding_mismatch(*stale, p),
                 login_hint(p));
  return Error(ErrorKind::login_required, "profile \"" + p.name + "\" is not logged in", login_hint(p));
}

// The id token as a set of its own (its iat and exp), so that the margin rules apply to it.
TokenSet id_token_view(const TokenSet& set) {
  TokenSet view;
  view.access_token = set.id_token;
  const auto claims = jwt_claims(set.id_token);
  const auto time_of = [&](const char* claim) -> std::optional<TimePoint> {
    if (!claims) return std::nullopt;
    const auto it = claims->find(claim);
    if (it == claims->end() || !it->is_number()) return std::nullopt;
    const double v = std::clamp(it->get<double>(), 0.0, 253402300799.0); // up to 9999-12-31
    return TimePoint(Seconds(static_cast<std::int64_t>(v)));
  };
  view.issued_at = time_of("iat");
  view.expiry = time_of("exp");
  return view;
}

// Whether `set` (the profile's own, or a variant) can be served as it is.
bool satisfies(const TokenSet& set, const Freshness& f, const Margin& margin, TimePoint now) {
  bool forced = f.force;
  if (forced && f.unless_refreshed_within && set.issued_at && now - *set.issued_at < *f.unless_refreshed_within)
    forced = false; // someone refreshed it just now: that refresh serves this caller too
  if (forced || !fresh_enough(set, margin, now)) return false;
  return !f.id_token || fresh_enough(id_token_view(set), margin, now);
}

// An exchange of the job's identity token (RFC 8693): a new one is fetched for every exchange.
TokenSet exchange(Context& ctx, const Profile& p, const ClientSettings& client, const Endpoints& endpoints) {
  const std::string ca = p.ca_file.value_or("");
  const ClientAuth auth = client_auth(ctx, p, client.client_id, endpoints);
  ExchangeRequest x;
  x.subject_token = fetch_identity_token(ctx, p, *p.subject_token, subject_audience(p, client, endpoints));
  const bool from_profile = p.subject_token->rfind("profile:", 0) == 0;
  x.subject_token_type =
      p.subject_token_type.value_or(std::string(from_profile ? k_token_type_access_token : k_token_type_jwt));
  x.audience = p.audience.value_or("");
  x.resource = p.resource.value_or("");
  x.requested_token_type = p.requested_token_type.value_or("");
  x.scopes = client.scopes;
  try {
    return token_exchange_grant(ctx.http(), ctx.clock(), endpoints, auth, x, ca);
  } catch (const OAuthError& e) {
    // A refused exchange is nearly always a federation policy that does not match the token: show
    // what the token says (never the token) beside the server's error.
    const std::string claims = from_profile ? std::string() : describe_identity_claims(x.subject_token);
    throw Error(e.kind(),
                std::string(e.what()) +
                    (claims.empty() ? "" : "; the identity token says (decoded, not verified): " + claims),
                "check the server's federation policy (issuer, subject, audience) against these claims");
  }
}

TokenSet obtain(Context& ctx, const Profile& p, const TokenSet* old, const Params& narrowing = {}) {
  const std::string ca = p.ca_file.value_or("");
  if (machine_grant(p)) {
    const ClientSettings client = resolve_client(p);
    check_credentials(ctx, p); // what can fail without a server fails before any request
    const Endpoints endpoints = old ? old->endpoints : discover(ctx.http(), client, ca);
    if (p.grant == Grant::token_exchange) return exchange(ctx, p, client, endpoints);
    const ClientAuth auth = client_auth(ctx, p, client.client_id, endpoints);
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
    return refresh_grant(ctx.http(), ctx.clock(), *old, client_auth_for(ctx, p, *old), ca, narrowing);
  } catch (const OAuthError& e) {
    if (!refresh_token_rejected(e)) throw;
    throw Error(ErrorKind::login_required,
                "the server rejected the refresh token of profile \"" + p.name + "\": " + e.what(), login_hint(p));
  }
}

// A variant of `base`: a refresh with fewer scopes or one resource (its rotated refresh token goes
// back into `base`), or an exchange of base's access token for another audience.
TokenSet obtain_variant(Context& ctx, const Profile& p, TokenSet& base, const TokenShape& shape) {
  if (!shape.audience.empty()) {
    if (!base.endpoints.grant_types.empty() && !contains(base.endpoints.grant_types, k_token_exchange_grant))
      throw Error(ErrorKind::failure, "the server of profile \"" + p.name +
                                          "\" does not list the token exchange grant, which --audience needs");
    ExchangeRequest x;
    x.subject_token = base.access_token;
    x.subject_token_type = std::string(k_token_type_access_token);
    x.audience = shape.audience;
    TokenSet variant = token_exchange_grant(ctx.http(), ctx.clock(), base.endpoints, client_auth_for(ctx, p, base), x,
                                            p.ca_file.value_or(""));
    variant.endpoints = {};
    return variant;
  }
  TokenSet next = obtain(ctx, p, &base, narrowing_params(shape));
  base.refresh_token = next.refresh_token; // rotated: the profile's own set takes it at once
  base.refresh_expiry = next.refresh_expiry;
  TokenSet variant;
  variant.access_token = next.access_token;
  variant.token_type = next.token_type;
  variant.expiry = next.expiry;
  variant.issued_at = next.issued_at;
  variant.scopes = next.scopes;
  return variant;
}

// One refresh under the cache lock: what it found, what it obtained, and what must happen once
// the cache holds the new set. Each step runs inside TokenStore::update's change function.
class LockedRefresh {
public:
  LockedRefresh(Context& ctx, const Profile& profile, const Freshness& freshness)
      : m_ctx(ctx), m_profile(profile), m_freshness(freshness), m_margin(margin_for(profile, freshness)),
        m_key(shape_key(freshness.shape)) {}

  // The change function: return true when the cache must be written.
  bool change(TokenCache& cache) {
    const auto it = cache.tokens.find(m_profile.name);
    TokenSet* stale = it == cache.tokens.end() ? nullptr : &it->second;
    TokenSet* old = stale != nullptr && bound(stale, m_profile) != nullptr ? stale : nullptr;
    if (old == nullptr && !machine_grant(m_profile)) throw not_logged_in(m_profile, stale);
    if (old) m_before = *old;
    if (!m_freshness.shape.plain()) {
      if (old == nullptr) throw not_logged_in(m_profile, stale);
      return variant(cache, *old);
    }
    return plain(cache, old);
  }

  // After the write: finish moving the refresh token, report a refused answer, return the set.
  TokenSet finish() {
    if (m_after_write) {
      try {
        m_after_write();
      } catch (const Error& e) {
        m_ctx.warn(std::string("the refresh token moved to the token cache, but its old keyring item stays: ") +
                   e.what());
      }
    }
    if (m_refused)
      throw Error(m_refused->kind(), m_refused->what(), "the new refresh token was kept; try again, or log in");
    return *m_result;
  }

private:
  // Keep the refresh token where the profile's storage says, then let the cache take `set`.
  bool keep(TokenCache& cache, TokenSet& set) {
    m_after_write = place_refresh_token(m_ctx, m_profile, set, m_before ? &*m_before : nullptr);
    cache.tokens[m_profile.name] = set;
    return true;
  }

  // A token shaped by --scope, --resource or --audience, kept as a variant of the profile's set.
  bool variant(TokenCache& cache, const TokenSet& old) {
    // Another process may have done the work while this one waited for the lock.
    const auto v = old.variants.find(m_key);
    if (v != old.variants.end() && satisfies(v->second, m_freshness, m_margin, m_ctx.now())) {
      m_result = v->second;
      return false;
    }
    TokenSet base = old;
    load_refresh_token(m_ctx, m_profile, base);
    // An exchange needs the profile's own access token fresh first.
    if (!m_freshness.shape.audience.empty() && !fresh_enough(base, margin_for(m_profile, {}), m_ctx.now())) {
      TokenSet refreshed = obtain(m_ctx, m_profile, &base);
      refreshed.variants = base.variants;
      base = refreshed;
    }
    m_result = obtain_variant(m_ctx, m_profile, base, m_freshness.shape);
    base.variants[m_key] = *m_result;
    return keep(cache, base);
  }

  // The profile's own token set.
  bool plain(TokenCache& cache, const TokenSet* old) {
    // Another process may have done the work while this one waited for the lock.
    if (old != nullptr && satisfies(*old, m_freshness, m_margin, m_ctx.now())) {
      m_result = *old;
      return false;
    }
    std::optional<TokenSet> current = m_before;
    if (current && !machine_grant(m_profile)) load_refresh_token(m_ctx, m_profile, *current);
    try {
      m_result = obtain(m_ctx, m_profile, current ? &*current : nullptr);
    } catch (const UnusableTokenResponse& e) {
      // The server answered a refresh with tokens that cannot be used, but with a refresh token
      // that can: it may have spent the old one, so the new one is kept (with no access token)
      // before the error is reported.
      if (!current || e.refresh_token().empty()) throw;
      TokenSet kept = *current;
      kept.access_token.clear();
      kept.expiry.reset();
      kept.refresh_token = e.refresh_token();
      m_refused = e;
      return keep(cache, kept);
    }
    if (current) m_result->variants = current->variants;
    TokenSet stored = *m_result;
    return keep(cache, stored);
  }

  Context& m_ctx;
  const Profile& m_profile;
  const Freshness& m_freshness;
  const Margin m_margin;
  const std::string m_key;
  std::optional<TokenSet> m_before; // the bound set found under the lock
  std::optional<TokenSet> m_result; // the set (or variant) to return
  std::optional<UnusableTokenResponse> m_refused;
  std::function<void()> m_after_write; // what waits for the cache to hold the new set
};

// Run the refresh under the cache lock (in a child that outlives a killed command, see
// sys/committed_work.hpp) and return the set (or variant) it wrote, or the one another process
// wrote meanwhile.
TokenSet refresh_under_lock(Context& ctx, const Profile& profile, const Freshness& freshness) {
  const std::string answer = sys::run_to_completion([&] {
    LockedRefresh refresh(ctx, profile, freshness);
    ctx.store().update([&](TokenCache& cache) { return refresh.change(cache); });
    TokenCache one;
    one.tokens.emplace(profile.name, refresh.finish());
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
  if (const std::string problem = shape_problem(freshness.shape); !problem.empty())
    throw Error(ErrorKind::usage, problem);
  const Margin margin = margin_for(profile, freshness);
  const auto cached = ctx.store().load_one(profile.name);
  const TokenSet* current = cached ? bound(&*cached, profile) : nullptr;
  if (current == nullptr && (!machine_grant(profile) || !freshness.shape.plain()))
    throw not_logged_in(profile, cached ? &*cached : nullptr);
  const TokenSet* served = current;
  if (current != nullptr && !freshness.shape.plain()) {
    const auto v = current->variants.find(shape_key(freshness.shape));
    served = v == current->variants.end() ? nullptr : &v->second;
  }
  TokenSet set = served != nullptr && satisfies(*served, freshness, margin, ctx.now())
                     ? *served
                     : refresh_under_lock(ctx, profile, freshness);
  if (freshness.id_token && (set.id_token.empty() || !fresh_enough(id_token_view(set), margin, ctx.now())))
    throw Error(ErrorKind::login_required,
                "the server gave profile \"" + profile.name + "\" no new id token" +
                    (set.id_token.empty() ? "" : " (the one held is due)") + "; a new login brings one",
                login_hint(profile));
  if (freshness.warn_short && shorter_than_asked(set, margin, ctx.now()))
    ctx.warn("the server's tokens for profile \"" + profile.name + "\" live " +
             (set.issued_at ? format_duration(*set.expiry - *set.issued_at) : std::string("less")) +
             ", less than the --min-ttl " + format_duration(margin.min_ttl) + " asked for; this token has " +
             format_duration(*set.expiry - ctx.now()) + " left");
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

ClientAuth client_auth_for(Context& ctx, const Profile& profile, const TokenSet& set) {
  const std::string client_id = set.client_id.empty() ? resolve_client(profile).client_id : set.client_id;
  return client_auth(ctx, profile, client_id, set.endpoints);
}

bool machine_grant(const Profile& p) {
  return p.grant == Grant::client_credentials || p.grant == Grant::token_exchange;
}

std::string subject_audience(const Profile& p, const ClientSettings& client, const Endpoints& endpoints) {
  if (p.subject_audience) return *p.subject_audience;
  // As the Databricks SDKs choose it: the account id on account hosts, else the token endpoint.
  if (client.databricks) return p.account_id ? *p.account_id : endpoints.token_endpoint;
  return "";
}

} // namespace tokenctl::cli
