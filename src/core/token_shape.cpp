#include "tokenctl/token_shape.hpp"

#include <algorithm>

#include "tokenctl/config.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
namespace {

std::vector<std::string> sorted_unique(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

} // namespace

std::string shape_key(const TokenShape& shape) {
  if (!shape.audience.empty()) return "audience=" + shape.audience;
  std::string key;
  if (!shape.resource.empty()) key = "resource=" + shape.resource;
  if (!shape.scopes.empty())
    key += (key.empty() ? "" : "&") + std::string("scope=") + join(sorted_unique(shape.scopes));
  return key;
}

std::string shape_problem(const TokenShape& shape) {
  for (const auto& s : shape.scopes)
    if (!valid_scope(s)) return "--scope: \"" + shorten(s, 40) + "\" is not a scope";
  if (!shape.resource.empty()) {
    const auto url = parse_url(shape.resource);
    if (!url || url->has_fragment) return "--resource: an absolute http(s) URI without a fragment is needed (RFC 8707)";
  }
  if (!shape.audience.empty()) {
    if (shape.audience.size() > 1024 || std::any_of(shape.audience.begin(), shape.audience.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        }))
      return "--audience: not an audience name";
    if (!shape.scopes.empty() || !shape.resource.empty())
      return "--audience cannot be combined with --scope or --resource";
  }
  return "";
}

Params narrowing_params(const TokenShape& shape) {
  Params params;
  if (!shape.scopes.empty()) params.emplace_back("scope", join(sorted_unique(shape.scopes)));
  if (!shape.resource.empty()) params.emplace_back("resource", shape.resource);
  return params;
}

} // namespace tokenctl
