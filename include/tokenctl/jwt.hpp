// Reading the claims of a JWT without verifying it (for display and for id-token claim checks).
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tokenctl {

// Return the payload of a compact JWS (three base64url parts, payload a JSON object), or nullopt
// if `token` is not a JWT. Never throws; the signature is not checked.
std::optional<nlohmann::json> jwt_claims(std::string_view token);

} // namespace tokenctl
