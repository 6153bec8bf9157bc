// Tokens shaped for one consumer: fewer scopes (RFC 6749 section 6), one resource (RFC 8707), or
// another audience (RFC 8693), cached beside the profile's own token set as its variants.
#pragma once

#include <string>
#include <vector>

#include "tokenctl/url.hpp"

namespace tokenctl {

struct TokenShape {
  std::vector<std::string> scopes; // --scope "A B": a subset of what the login granted
  std::string resource;            // --resource URI
  std::string audience;            // --audience NAME (a token exchange)

  // Return whether nothing narrows the token: the profile's own set serves it.
  [[nodiscard]] bool plain() const { return scopes.empty() && resource.empty() && audience.empty(); }
};

// Return the key a variant of this shape is cached under: "scope=a b" (sorted, without repeats),
// "resource=URI", both joined by '&', or "audience=NAME".
std::string shape_key(const TokenShape& shape);

// Return "" when the shape can be asked for, else why not (for a usage error): scopes must be
// scope tokens, the resource an absolute URI without a fragment, the audience printable and not
// combined with the others.
std::string shape_problem(const TokenShape& shape);

// Return the refresh-grant parameters that narrow a token to `shape` (scope, resource).
Params narrowing_params(const TokenShape& shape);

} // namespace tokenctl
