#include "tokenctl/grants.hpp"

#include <algorithm>

#include "tokenctl/jwt.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
namespace {

TimePoint whole_seconds(std::chrono::system_clock::time_point t) { return std::chrono::time_point_cast<Seconds>(t); }

bool retryable_status(long status) { return status == 408 || status == 429 || status == 503; }

} // namespace

Seconds effective_min_ttl(const TokenSet& set, Seconds requested) {
  if (set.expiry && set.issued_at && *set.expiry > *set.issued_at)
    return std::min(requested, (*set.expiry - *set.issued_at) / 2);
  return requested;
}

Seconds freshness_tolerance(Seconds lifetime) { return std::clamp(lifetime / 10, Seconds(5), Seconds(300)); }

std::optional<TimePoint> renew_at(const TokenSet& set, const Margin& margin) {
  if (!set.expiry) return std::nullopt;
  if (!margin.as_asked) return *set.expiry - effective_min_ttl(set, margin.min_ttl);
  if (set.issued_at && *set.expiry >= *set.issued_at) {
    const Seconds lifetime = *set.expiry - *set.issued_at;
    if (lifetime <= margin.min_ttl) return *set.issued_at + freshness_tolerance(lifetime);
  }
  return *set.expiry - margin.min_ttl;
}

bool fresh_enough(const TokenSet& set, const Margin& margin, TimePoint now) {
  if (set.access_token.empty()) return false;
  const auto until = renew_at(set, margin);
  return !until || now < *until;
}

bool shorter_than_asked(const TokenSet& set, const Margin& margin, TimePoint now) {
  return margin.as_asked && set.expiry && *set.expiry - now < margin.min_ttl;
}

std::optional<Seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return std::nullopt;
  long long n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return Seconds(n);
}

HttpResponse send_token_request(HttpClient& http, WallClock& clock, const HttpRequest& request) {
  std::chrono::milliseconds backoff{500};
  for (int attempt = 1;; ++attempt) {
    try {
      HttpResponse response = http.send(request);
      if (!retryable_status(response.status) || attempt == k_max_token_attempts) return response;
      const auto after = parse_retry_after(response.header("Retry-After"));
      clock.sleep_for(after ? std::chrono::milliseconds(std::min(*after, k_max_retry_after)) : backoff);
    } catch (const HttpError& e) {
      if (e.reached_server() || attempt == k_max_token_attempts) throw;
      clock.sleep_for(backoff);
    }
    backoff *= 2;
  }
}

TokenSet refresh_grant(HttpClient& http, WallClock& clock, const TokenSet& old, const ClientAuth& auth,
                       const std::string& ca_file, const Params& extra) {
  const TimePoint sent_at = whole_seconds(clock.now());
  Params params = {{"grant_type", "refresh_token"}, {"refresh_token", old.refresh_token}};
  params.insert(params.end(), extra.begin(), extra.end());
  const HttpRequest request = form_post(old.endpoints.token_endpoint, params, auth, ca_file);
  const TokenResponse r =
      parse_token_response(send_token_request(http, clock, request), {old.endpoints.token_endpoint, auth.method});
  if (!r.id_token.empty()) {
    const auto previous = old.id_token.empty() ? std::nullopt : jwt_claims(old.id_token);
    IdTokenExpectation expect{old.endpoints.issuer, old.client_id, "", whole_seconds(clock.now())};
    expect.previous = previous ? &*previous : nullptr;
    check_id_token(r.id_token, expect);
  }
  return refreshed_token_set(old, r, sent_at);
}

TokenSet client_credentials_grant(HttpClient& http, WallClock& clock, const Endpoints& endpoints,
                                  const ClientAuth& auth, const std::vector<std::string>& scopes,
                                  const std::string& ca_file) {
  const TimePoint sent_at = whole_seconds(clock.now());
  Params params = {{"grant_type", "client_credentials"}};
  if (!scopes.empty()) params.emplace_back("scope", join(scopes));
  const HttpRequest request = form_post(endpoints.token_endpoint, params, auth, ca_file);
  const TokenResponse r =
      parse_token_response(send_token_request(http, clock, request), {endpoints.token_endpoint, auth.method});
  return new_token_set(r, sent_at, scopes, auth.client_id, endpoints);
}

TokenSet token_exchange_grant(HttpClient& http, WallClock& clock, const Endpoints& endpoints, const ClientAuth& auth,
                              const ExchangeRequest& x, const std::string& ca_file) {
  const TimePoint sent_at = whole_seconds(clock.now());
  Params params = {{"grant_type", std::string(k_token_exchange_grant)},
                   {"subject_token", x.subject_token},
                   {"subject_token_type", x.subject_token_type}};
  const auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) params.emplace_back(key, value);
  };
  add("audience", x.audience);
  add("resource", x.resource);
  add("requested_token_type", x.requested_token_type);
  add("scope", join(x.scopes));
  const HttpRequest request = form_post(endpoints.token_endpoint, params, auth, ca_file);
  TokenResponse r =
      parse_token_response(send_token_request(http, clock, request), {endpoints.token_endpoint, auth.method});
  r.refresh_token.clear(); // RFC 8693 section 2.2.1: a refresh token is not expected; none is kept
  TokenSet set = new_token_set(r, sent_at, x.scopes, auth.client_id, endpoints);
  set.issued_token_type = r.issued_token_type;
  return set;
}

} // namespace tokenctl
