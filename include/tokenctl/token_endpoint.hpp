// The back channel: token requests (code exchange, refresh, client credentials), client
// authentication, and token responses parsed as a pure function of what the server sent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

private:
  std::string m_code;
  std::string m_description;
};

struct ClientAuth {
  enum class Method { none, basic, post } method = Method::none;
  std::string client_id;
  std::string secret;
};

// Choose how the client authenticates: none without a secret; client_secret_basic unless the
// server lists only client_secret_post.
ClientAuth choose_client_auth(const std::string& client_id, const std::optional<std::string>& secret,
                              const std::vector<std::string>& server_methods);

// Return a POST to `endpoint` with the form `params` and the client's authentication applied.
HttpRequest form_post(const std::string& endpoint, Params params, const ClientAuth& auth, const std::string& ca_file);

struct TokenResponse {
  std::string access_token;
  std::string token_type;                        // normalised: "Bearer"
  std::string refresh_token;
  std::string id_token;
  std::optional<Seconds> expires_in;
  std::optional<std::vector<std::string>> scopes;
};

// Parse a token endpoint response; throw OAuthError for an `error` member (whatever the status),
// Error(network) for 5xx, 429 and bodies that are not JSON, Error(failure) for a response
// without access_token or with a token type other than Bearer.
TokenResponse parse_token_response(const HttpResponse& response, const std::string& endpoint);

// Build a token set from a login's response; `sent_at` is when the request was sent.
TokenSet new_token_set(const TokenResponse& r, TimePoint sent_at, const std::vector<std::string>& requested_scopes,
                       const std::string& client_id, const Endpoints& endpoints);
// Return `old` updated by a refresh response: a missing refresh or id token keeps the old one.
TokenSet refreshed_token_set(const TokenSet& old, const TokenResponse& r, TimePoint sent_at);

struct IdTokenExpectation {
  std::string issuer;                            // "" skips the iss check
  std::string client_id;
  std::string nonce;                             // "" skips the nonce check
  TimePoint now;
};

// Check an id token's claims (iss, aud, azp, exp, nonce; the signature is not verified) and
// return them; throw Error(failure) naming the claim that is wrong.
nlohmann::json check_id_token(std::string_view id_token, const IdTokenExpectation& expect);

// Return "alice (Alice Example)" or the like from id token claims, or "" if there is nothing.
std::string describe_subject(const nlohmann::json& claims);

} // namespace tokenctl
