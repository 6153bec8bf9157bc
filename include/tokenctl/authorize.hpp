// The front channel of the authorization code flow: PKCE, the authorization URL, the callback.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenctl {

// Return a PKCE code verifier: base64url of 32 random bytes (43 characters, RFC 7636 section 4.1).
std::string pkce_verifier(std::string_view random_bytes);
// Return the S256 code challenge for the SHA-256 digest of a verifier.
std::string pkce_challenge(std::string_view verifier_sha256);
// Return an opaque value for `state` or `nonce`: base64url of the random bytes.
std::string random_token(std::string_view random_bytes);

struct AuthorizationRequest {
  std::string endpoint;
  std::string client_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string state;
  std::string code_challenge;
  std::string nonce;                                             // "" when openid is not requested
  std::vector<std::pair<std::string, std::string>> extra_params; // the profile's auth_params
};

// Return the authorization URL: response_type=code, S256 challenge, state, nonce, scope,
// prompt=consent when offline_access is requested (unless extra_params set prompt), extras.
std::string authorization_url(const AuthorizationRequest& request);

struct CallbackExpectation {
  std::string state;
  std::string issuer;        // "" when unknown
  bool iss_required = false; // the server advertises RFC 9207
};

struct CallbackResult {
  // code: this login's code. denied: this login's error response. rejected: this login's state
  // but an answer that must not be used (wrong or missing iss, repeats, no code): the login ends.
  // foreign: not this login's state (none, another, a malformed query): a forged or stale
  // redirect that anyone on the machine can send, so it is ignored and the login goes on waiting.
  enum class Kind { code, denied, rejected, foreign } kind = Kind::rejected;
  std::string code;  // Kind::code
  std::string error; // the server's error, or why it was rejected
  std::string error_description;
};

// Check an authorization response (the callback's query string): state, iss (RFC 9207), then
// code or error. A wrong state is `foreign`, a wrong issuer `rejected`; neither code is ever redeemed.
CallbackResult check_callback(std::string_view query, const CallbackExpectation& expect);

} // namespace tokenctl
