#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace tokenctl::cli {

int run(int argc, char** argv) {
  CLI::App app{"tokenctl: OAuth 2.0 / OpenID Connect token manager", "tokenctl"};
  app.set_version_flag("--version", std::string("tokenctl ") + TOKENCTL_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

} // namespace tokenctl::cli
