// Authorization server metadata (RFC 8414, OpenID Connect Discovery) and its exact issuer check.
#pragma once

#include <string>
#include <string_view>

#include "tokenctl/client.hpp"
#include "tokenctl/ports.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl {

// Parse a metadata document fetched from `url`; throw Error(failure) when its `issuer` differs
// from `expected_issuer` or it lists a non-https endpoint (the server's fault, exit 1),
// Error(network) when it is not a JSON object.
Endpoints parse_metadata(std::string_view body, const std::string& expected_issuer, const std::string& url);

// Find the endpoints of a client: try its discovery URLs in order (a 4xx moves on to the next),
// else use its fallback endpoints; throw Error(failure) if neither gives any.
Endpoints discover(HttpClient& http, const ClientSettings& client, const std::string& ca_file);

} // namespace tokenctl
