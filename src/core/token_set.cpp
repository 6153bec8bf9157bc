// The status of a profile's token set, as `tokenctl list` shows it.
#include "tokenctl/token_set.hpp"

namespace tokenctl {

std::string_view status_name(TokenStatus s) {
  switch (s) {
  case TokenStatus::valid: return "valid";
  case TokenStatus::expired: return "expired";
  case TokenStatus::refreshable: return "refreshable";
  case TokenStatus::logged_out: return "logged-out";
  }
  return "expired";
}

TokenStatus token_status(const TokenSet* set, TimePoint now) {
  if (set == nullptr) return TokenStatus::logged_out;
  // A server that did not say when its token expires gets the benefit of the doubt.
  const bool usable = !set->access_token.empty() && (!set->expiry || *set->expiry > now);
  if (usable) return TokenStatus::valid;
  return refresh_token_usable(*set, now) ? TokenStatus::refreshable : TokenStatus::expired;
}

bool refresh_token_usable(const TokenSet& set, TimePoint now) {
  return (!set.refresh_token.empty() || set.refresh_in_keyring) && (!set.refresh_expiry || *set.refresh_expiry > now);
}

} // namespace tokenctl

namespace tokenctl {

bool login_needed_within(const TokenSet& set, TimePoint now, Seconds window) {
  return (!set.refresh_token.empty() || set.refresh_in_keyring) && set.refresh_expiry &&
         *set.refresh_expiry - now <= window;
}

} // namespace tokenctl
