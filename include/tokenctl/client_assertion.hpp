// RFC 7523 client assertions (OpenID Connect Core section 9, private_key_jwt): the signed JWT a
// client sends instead of a secret to authenticate at the token endpoint.
#pragma once

#include <string>
#include <string_view>

#include "tokenctl/duration.hpp"
#include "tokenctl/ports.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {

inline constexpr std::string_view k_client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// The longest lifetime an assertion gets (the man page: "at most 5 minutes").
inline constexpr Seconds k_max_assertion_lifetime{300};
// The fewest random bytes behind a `jti`.
inline constexpr std::size_t k_assertion_jti_bytes = 16;

struct ClientAssertionRequest {
  std::string client_id; // `iss` and `sub`
  std::string audience;  // `aud`: the token endpoint
  std::string alg;       // "RS256", "PS256", "ES256"; "" for the key's default
  std::string kid;       // the header's `kid`; "" for none
  TimePoint now;         // `iat` and `nbf`
  Seconds lifetime{300}; // `exp` = now + lifetime, clamped to 1..300 s
  std::string jti;       // base64url of 16+ random bytes (assertion_jti)
};

// Return a fresh `jti`: base64url of k_assertion_jti_bytes bytes from `random`.
std::string assertion_jti(RandomSource& random);

// Return the JWS algorithm for a key of kind `key_kind` (Signer::key_kind): "RS256" for "rsa",
// "ES256" for "ec"; throws Error(config) for any other kind.
std::string default_assertion_alg(std::string_view key_kind);

// Throw Error(config) naming client_assertion_alg when `alg` is not RS256, PS256 or ES256, or
// does not fit a key of kind `key_kind` (RS256 and PS256 need "rsa", ES256 needs "ec").
void check_assertion_alg(std::string_view alg, std::string_view key_kind);

// Return the compact JWS (header.payload.signature, base64url without padding) of a client
// assertion signed by `signer` with `key_pem`: header {"alg", "kid" when set, "typ": "JWT"},
// claims {"aud", "exp", "iat", "iss", "jti", "nbf", "sub"}. The key's kind is checked first:
// throws Error(config) when the key is unusable or `request.alg` does not fit it, Error(failure)
// when the request lacks client_id, audience or a long enough jti, or the signer fails.
std::string make_client_assertion(const ClientAssertionRequest& request, Signer& signer, std::string_view key_pem);

// Return the token request parameters that carry `assertion`: client_assertion_type (jwt-bearer)
// and client_assertion.
Params client_assertion_params(std::string assertion);

} // namespace tokenctl
