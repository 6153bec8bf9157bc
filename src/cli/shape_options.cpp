#include "cli/shape_options.hpp"

#include <CLI/CLI.hpp>

#include "tokenctl/text.hpp"

namespace tokenctl::cli {

TokenShape ShapeOptions::shape() const { return TokenShape{split_words(scope), resource, audience}; }

void add_shape_options(CLI::App& app, ShapeOptions& o) {
  app.add_option("--scope", o.scope, "A token with fewer scopes than the login granted (space-separated)");
  app.add_option("--resource", o.resource, "A token meant for one API (RFC 8707 resource URI)");
  app.add_option("--audience", o.audience, "A token exchanged for another audience (RFC 8693)");
}

} // namespace tokenctl::cli
