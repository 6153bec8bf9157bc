// Token revocation (RFC 7009).
#pragma once

#include <string>

#include "tokenctl/ports.hpp"
#include "tokenctl/token_endpoint.hpp"

namespace tokenctl {

enum class RevokeResult { revoked, unsupported_token_type };

// Revoke `token` at `endpoint` with `token_type_hint` = `hint` ("refresh_token" or "access_token"),
// the client authenticating as at the token endpoint. A 200 is success whatever the body; a 400
// unsupported_token_type is reported, not thrown. Retries as send_token_request does; throws
// Error(network) for 5xx, 429 and transport failures, OAuthError for other errors.
RevokeResult revoke_token(HttpClient& http, WallClock& clock, const std::string& endpoint, const std::string& token,
                          const std::string& hint, const ClientAuth& auth, const std::string& ca_file);

} // namespace tokenctl
