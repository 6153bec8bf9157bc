// The back channel: token requests (code exchange, refresh, client credentials), client
// authentication, and token responses parsed as a pure function of what the server sent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenctl/config.hpp"
#include "tokenctl/duration.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/ports.hpp"
#include "tokenctl/token_set.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {

// An error response of the token endpoint (RFC 6749 section 5.2); code() is e.g. "invalid_grant".
class OAuthError : public Error {
public:
  OAuthError(ErrorKind kind, const std::string& message, std::string code, std::string description)
      : Error(kind, message), m_code(std::move(code)), m_description(std::move(description)) {}
  // Return the server's `error` value.
  [[nodiscard]] const std::string& code() const noexcept { return m_code; }
  // Return the server's `error_description`, or "".
  [[nodiscard]] const std::string& description() const noexcept { return m_description; }
  OAuthError(ErrorKind kind, const std::string& message, std::string code, std::string description, std::string hint)
      : Error(kind, message, std::move(hint)), m_code(std::move(code)), m_description(std::move(description)) {}

private:
  std::string m_code;
  std::string m_description;
};

// A token response that must not be used (a token too large, or with characters a header or the
// cache cannot carry) but that carries a refresh token which can: the server may have spent the
// old refresh token already, so the caller keeps this one (refresh_token()) before failing.
class UnusableTokenResponse : public Error {
public:
  UnusableTokenResponse(const std::string& message, std::string refresh_token)
      : Error(ErrorKind::failure, message), m_refresh_token(std::move(refresh_token)) {}
  // Return the response's refresh token when it is valid, else "".
  [[nodiscard]] const std::string& refresh_token() const noexcept { return m_refresh_token; }

private:
  std::string m_refresh_token;
};

// Tokens longer than this are refused: no header, netrc or cache needs them, and a server that
// sends them could otherwise grow the cache past what its reader accepts.
inline constexpr std::size_t k_max_token_bytes = 32 * 1024;

// Return whether `token` may be used as an access token: RFC 6750 b64token characters
// (letters, digits, - . _ ~ + / then '=' padding), 1 to k_max_token_bytes bytes.
bool valid_access_token(std::string_view token);
// Return whether `token` may be stored as a refresh token: printable ASCII (RFC 6749 VSCHAR),
// 1 to k_max_token_bytes bytes.
bool valid_refresh_token(std::string_view token);
// Return whether `token` may be stored as an id token: a compact JWS/JWE (base64url and dots),
// 1 to k_max_token_bytes bytes.
bool valid_id_token(std::string_view token);

// Return whether an error of a refresh request says the refresh token itself is no good (so a new
// login is needed): invalid_grant, or invalid_request naming the refresh token (some servers).
bool refresh_token_rejected(const OAuthError& e);

// Throw Error(failure) unless `token` passes valid_access_token: the last guard before a token is
// printed, put in a header or written to a file (a cache edited by hand is not trusted either).
void check_token_for_output(std::string_view token);

struct ClientAuth {
  AuthMethod method = AuthMethod::none;
  std::string client_id;
  std::string secret;
  // private_key_jwt: the signed assertion (RFC 7523) for this one request, or a CI identity token
  // sent as the assertion; made anew for every request by the caller (its jti must not repeat).
  std::string assertion;
};

// Choose how the client authenticates: `configured` when the profile sets it; else none without
// a secret; with one, what the server lists (client_secret_basic when it lists both or neither).
// (A client with an assertion key uses private_key_jwt: see the command layer's client_auth_for.)
ClientAuth choose_client_auth(const std::string& client_id, const std::optional<std::string>& secret,
                              const std::vector<std::string>& server_methods,
                              std::optional<AuthMethod> configured = std::nullopt);

// Return a POST to `endpoint` with the form `params` and the client's authentication applied.
HttpRequest form_post(const std::string& endpoint, Params params, const ClientAuth& auth, const std::string& ca_file);

struct TokenResponse {
  std::string access_token;
  std::string token_type; // normalised: "Bearer"
  std::string refresh_token;
  std::string id_token;
  std::optional<Seconds> expires_in;         // 0 when the server said 0 or less: expired at once
  std::optional<Seconds> refresh_expires_in; // refresh_token_expires_in or refresh_expires_in
  std::optional<std::vector<std::string>> scopes;
  std::string issued_token_type; // RFC 8693; "" when absent
};

// What the caller knows about the request a response answers, for the hints of its errors.
struct TokenRequestInfo {
  std::string endpoint;                  // named in messages
  std::optional<AuthMethod> auth_method; // how the client authenticated
};

// Parse a token endpoint response; throw OAuthError for an `error` member (whatever the status;
// invalid_client, invalid_scope, unauthorized_client and unsupported_grant_type get a hint naming
// the profile key to look at), Error(network) for 5xx, 408 and 429, Error(failure) for another
// 4xx or 3xx, a body that is not a JSON object, a response without access_token or with a token
// type other than Bearer; UnusableTokenResponse when a token is refused (see valid_*).
TokenResponse parse_token_response(const HttpResponse& response, const TokenRequestInfo& request);
// The same, for callers that know only the endpoint.
TokenResponse parse_token_response(const HttpResponse& response, const std::string& endpoint);

// Build a token set from a login's response; `sent_at` is when the request was sent.
TokenSet new_token_set(const TokenResponse& r, TimePoint sent_at, const std::vector<std::string>& requested_scopes,
                       const std::string& client_id, const Endpoints& endpoints);
// Return `old` updated by a refresh response: a missing refresh or id token keeps the old one,
// and so does a missing refresh-token lifetime.
TokenSet refreshed_token_set(const TokenSet& old, const TokenResponse& r, TimePoint sent_at);

struct IdTokenExpectation {
  std::string issuer; // "" skips the iss check
  std::string client_id;
  std::string nonce; // "" skips the nonce check
  TimePoint now;
  // After a refresh, the claims of the id token it replaces: the new one must name the same
  // iss, sub and aud (OpenID Connect Core 12.2). nullptr at login.
  const nlohmann::json* previous = nullptr;
};

// Check an id token's claims (iss, aud, azp, exp, nonce, and after a refresh sub and aud as
// before; the signature is not verified) and return them; throw Error(failure) naming the claim
// that is wrong. An `exp` that is not a number is wrong.
nlohmann::json check_id_token(std::string_view id_token, const IdTokenExpectation& expect);

// Return "alice (Alice Example)" or the like from id token claims, or "" if there is nothing.
std::string describe_subject(const nlohmann::json& claims);

} // namespace tokenctl
