// The options that ask for a narrowed token (--scope, --resource, --audience), shared by token,
// exec, netrc and git-credential.
#pragma once

#include <string>

#include "tokenctl/token_shape.hpp"

namespace CLI {
class App;
}

namespace tokenctl::cli {

struct ShapeOptions {
  std::string scope;
  std::string resource;
  std::string audience;

  // Return the shape these options ask for (plain when none was given).
  [[nodiscard]] TokenShape shape() const;
};

// Add --scope, --resource and --audience to `app`, filling `o`.
void add_shape_options(CLI::App& app, ShapeOptions& o);

} // namespace tokenctl::cli
