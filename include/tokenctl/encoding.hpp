// Base64 (RFC 4648) in its standard and URL-safe alphabets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenctl {

// Encode with the standard alphabet and '=' padding.
std::string base64_encode(std::string_view bytes);
// Encode with the URL-safe alphabet and no padding (base64url, RFC 7636 appendix A).
std::string base64url_encode(std::string_view bytes);
// Decode base64url (padding optional); nullopt on any character outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace tokenctl
