#include "tokenctl/jwt.hpp"

#include "core/json_guard.hpp"
#include "tokenctl/encoding.hpp"

namespace tokenctl {
namespace {
constexpr std::size_t k_max_jwt_bytes = 64 * 1024;
constexpr int k_max_claims_depth = 16;

} // namespace

std::optional<nlohmann::json> jwt_claims(std::string_view token) {
  if (token.empty() || token.size() > k_max_jwt_bytes) return std::nullopt;
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  const auto header = base64url_decode(token.substr(0, first));
  const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!header || !payload || json_nesting_depth(*payload, k_max_claims_depth) > k_max_claims_depth) return std::nullopt;
  auto head = nlohmann::json::parse(*header, nullptr, false);
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!head.is_object() || !claims.is_object()) return std::nullopt;
  return claims;
}

} // namespace tokenctl
