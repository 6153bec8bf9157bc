// RFC 7523 client assertions: the claims, the JWS around them, and the form parameters.
//
// Claims: OpenID Connect Core section 9 requires iss, sub, aud, jti and exp, and allows iat.
// `nbf` (= `iat`) is sent as well: Microsoft Entra's documentation lists it among the claims
// of its assertions and measures their lifetime from it. Both are the caller's `now`, so a
// clock that runs ahead of the server's is a risk either way; the lifetime stays short (at most
// 300 s) because the server accepts the assertion until `exp`. Keys are written in sorted
// order (nlohmann::json objects are sorted), which makes the output exact for tests.
#include "tokenctl/client_assertion.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tokenctl/encoding.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
namespace {

using namespace std::chrono_literals;

// base64url of k_assertion_jti_bytes bytes, without padding.
constexpr std::size_t k_min_jti_chars = (k_assertion_jti_bytes * 4 + 2) / 3;

bool is_rsa_alg(std::string_view alg) { return alg == "RS256" || alg == "PS256"; }

std::string quoted_alg(std::string_view alg) { return "\"" + sanitize(shorten(alg, 32)) + "\""; }

// Return the JSON text of `doc`; throws Error(config) when a string in it is not UTF-8.
std::string json_text(const nlohmann::json& doc) {
  try {
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    // The library's text quotes the offending byte: say which fields instead.
    throw Error(ErrorKind::config,
                "the client id, token endpoint and client_assertion_kid of a client assertion must be UTF-8 text");
  }
}

void check_request(const ClientAssertionRequest& request) {
  if (request.client_id.empty() || request.audience.empty())
    throw Error(ErrorKind::failure, "a client assertion needs a client id and the token endpoint as its audience");
  if (request.jti.size() < k_min_jti_chars)
    throw Error(ErrorKind::failure, "a client assertion needs a jti of at least " +
                                        std::to_string(k_assertion_jti_bytes) + " random bytes");
}

} // namespace

std::string assertion_jti(RandomSource& random) { return base64url_encode(random.bytes(k_assertion_jti_bytes)); }

std::string default_assertion_alg(std::string_view key_kind) {
  if (key_kind == "rsa") return "RS256";
  if (key_kind == "ec") return "ES256";
  throw Error(ErrorKind::config, "client_assertion_key_file holds a key that tokenctl does not sign with "
                                 "(RSA or EC P-256 keys only)");
}

void check_assertion_alg(std::string_view alg, std::string_view key_kind) {
  if (!is_rsa_alg(alg) && alg != "ES256")
    throw Error(ErrorKind::config, "client_assertion_alg = " + quoted_alg(alg) +
                                       " is not one tokenctl signs with: use RS256, PS256 or ES256");
  if (is_rsa_alg(alg) && key_kind != "rsa")
    throw Error(ErrorKind::config, "client_assertion_alg = " + quoted_alg(alg) +
                                       " needs an RSA key, and client_assertion_key_file holds an EC key: "
                                       "use ES256, or an RSA key");
  if (alg == "ES256" && key_kind != "ec")
    throw Error(ErrorKind::config, "client_assertion_alg = \"ES256\" needs an EC P-256 key, and "
                                   "client_assertion_key_file holds an RSA key: use RS256 or PS256, or an EC key");
}

std::string make_client_assertion(const ClientAssertionRequest& request, Signer& signer, std::string_view key_pem) {
  check_request(request);
  const std::string kind = signer.key_kind(key_pem);
  const std::string alg = request.alg.empty() ? default_assertion_alg(kind) : request.alg;
  check_assertion_alg(alg, kind);

  nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!request.kid.empty()) header["kid"] = request.kid;
  const auto lifetime = std::clamp(request.lifetime, Seconds(1), k_max_assertion_lifetime);
  const auto now = request.now.time_since_epoch().count();
  const nlohmann::json claims = {{"iss", request.client_id},
                                 {"sub", request.client_id},
                                 {"aud", request.audience},
                                 {"jti", request.jti},
                                 {"iat", now},
                                 {"nbf", now},
                                 {"exp", now + lifetime.count()}};

  std::string signing_input = base64url_encode(json_text(header)) + "." + base64url_encode(json_text(claims));
  const std::string signature = signer.sign(alg, key_pem, signing_input);
  if (signature.empty()) throw Error(ErrorKind::failure, "the client assertion's signature came back empty");
  return signing_input + "." + base64url_encode(signature);
}

Params client_assertion_params(std::string assertion) {
  return {{"client_assertion_type", std::string(k_client_assertion_type)}, {"client_assertion", std::move(assertion)}};
}

} // namespace tokenctl
