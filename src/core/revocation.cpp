#include "tokenctl/revocation.hpp"

#include <nlohmann/json.hpp>

#include "tokenctl/grants.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {

RevokeResult revoke_token(HttpClient& http, WallClock& clock, const std::string& endpoint, const std::string& token,
                          const std::string& hint, const ClientAuth& auth, const std::string& ca_file) {
  const HttpRequest request = form_post(endpoint, {{"token", token}, {"token_type_hint", hint}}, auth, ca_file);
  const HttpResponse response = send_token_request(http, clock, request);
  if (response.status == 200) return RevokeResult::revoked;
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status >= 500 || response.status == 429 || response.status == 408)
    throw Error(ErrorKind::network,
                "the revocation endpoint " + endpoint + " failed with " + status + "; the token may still be valid");
  const auto doc = nlohmann::json::parse(response.body, nullptr, false);
  const std::string code = doc.is_object() && doc.contains("error") && doc["error"].is_string()
                               ? doc["error"].get<std::string>()
                               : std::string();
  if (code == "unsupported_token_type") return RevokeResult::unsupported_token_type;
  throw OAuthError(ErrorKind::failure,
                   "the revocation endpoint " + endpoint + " refused the request with " + status +
                       (code.empty() ? std::string() : ": " + shorten(code, 100)),
                   code, "",
                   "the tokens were kept here; tokenctl revoke --local forgets them without the server"
                   " (they stay valid there until they expire)");
}

} // namespace tokenctl
