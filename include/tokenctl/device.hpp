// The device authorization grant (RFC 8628), for logins on machines without a browser.
#pragma once

#include <string>

#include "tokenctl/duration.hpp"
#include "tokenctl/ports.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/token_set.hpp"

namespace tokenctl {

inline constexpr std::string_view k_device_grant = "urn:ietf:params:oauth:grant-type:device_code";
inline constexpr Seconds k_default_device_interval{5};
inline constexpr Seconds k_slow_down_step{5};

struct DeviceAuthorization {
  std::string device_code;
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete; // "" when the server sent none
  Seconds expires_in{0};
  Seconds interval = k_default_device_interval;
};

// Parse a device authorization response; throw OAuthError for an error, Error(network) for server
// trouble, Error(failure) when a required member is missing.
DeviceAuthorization parse_device_authorization(const HttpResponse& response, const std::string& endpoint);

// Poll the token endpoint until the user has signed in (RFC 8628 section 3.4): wait `interval`
// before each request, add 5 s on slow_down, double it after a connection failure; stop with
// Error(failure) on access_denied, expired_token, any other error, or when `give_up_after` has
// passed (the lesser of the caller's timeout and the code's lifetime).
TokenResponse poll_device_token(HttpClient& http, WallClock& clock, const std::string& token_endpoint,
                                const ClientAuth& auth, const DeviceAuthorization& device, Seconds give_up_after,
                                const std::string& ca_file);

} // namespace tokenctl
