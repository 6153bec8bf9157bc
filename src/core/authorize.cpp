#include "tokenctl/authorize.hpp"
#include "tokenctl/text.hpp"

#include <algorithm>

#include "tokenctl/encoding.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

// Constant-time comparison, so that a forged state cannot be found byte by byte.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

CallbackResult rejected(std::string why) {
  CallbackResult r;
  r.kind = CallbackResult::Kind::rejected;
  r.error = std::move(why);
  return r;
}

} // namespace

std::string pkce_verifier(std::string_view random_bytes) { return base64url_encode(random_bytes); }

std::string pkce_challenge(std::string_view verifier_sha256) { return base64url_encode(verifier_sha256); }

std::string random_token(std::string_view random_bytes) { return base64url_encode(random_bytes); }

std::string authorization_url(const AuthorizationRequest& r) {
  Params params = {{"response_type", "code"}, {"client_id", r.client_id}, {"redirect_uri", r.redirect_uri}};
  if (!r.scopes.empty()) params.emplace_back("scope", join(r.scopes));
  params.insert(params.end(),
                {{"state", r.state}, {"code_challenge", r.code_challenge}, {"code_challenge_method", "S256"}});
  if (!r.nonce.empty()) params.emplace_back("nonce", r.nonce);
  const bool extra_prompt =
      std::any_of(r.extra_params.begin(), r.extra_params.end(), [](const auto& kv) { return kv.first == "prompt"; });
  if (contains(r.scopes, "offline_access") && !extra_prompt) params.emplace_back("prompt", "consent");
  for (const auto& kv : r.extra_params) params.push_back(kv);
  const char sep = r.endpoint.find('?') == std::string::npos ? '?' : '&';
  return r.endpoint + sep + encode_params(params);
}

CallbackResult check_callback(std::string_view query, const CallbackExpectation& expect) {
  CallbackResult foreign = rejected("the callback's state does not match this login (a forged or stale redirect)");
  foreign.kind = CallbackResult::Kind::foreign;
  const auto params = parse_params(query);
  if (!params) return foreign;
  std::vector<std::string> state, iss, code, error, description;
  for (const auto& [key, value] : *params) {
    if (key == "state")
      state.push_back(value);
    else if (key == "iss")
      iss.push_back(value);
    else if (key == "code")
      code.push_back(value);
    else if (key == "error")
      error.push_back(value);
    else if (key == "error_description")
      description.push_back(value);
  }
  if (state.size() != 1 || !same_secret(state.front(), expect.state)) return foreign;
  if (iss.size() > 1 || code.size() > 1 || error.size() > 1) return rejected("the callback repeats a parameter");
  if (!iss.empty() && !expect.issuer.empty() && iss.front() != expect.issuer)
    return rejected("the callback's issuer \"" + iss.front() + "\" is not \"" + expect.issuer + "\" (RFC 9207)");
  if (iss.empty() && expect.iss_required)
    return rejected("the callback has no iss parameter, which the server promises (RFC 9207)");
  CallbackResult r;
  if (!error.empty()) {
    r.kind = CallbackResult::Kind::denied;
    r.error = error.front();
    r.error_description = description.empty() ? "" : description.front();
    return r;
  }
  if (code.empty() || code.front().empty()) return rejected("the callback has neither code nor error");
  r.kind = CallbackResult::Kind::code;
  r.code = code.front();
  return r;
}

} // namespace tokenctl
