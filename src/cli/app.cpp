#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "sys/os.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("-p,--profile", g.profile, "Profile to use (default: TOKENCTL_PROFILE, default_profile, \"default\")");
  app.add_option("--config", g.config, "Config file (default: TOKENCTL_CONFIG, ~/.config/tokenctl/config.toml)");
  app.add_option("--token-cache", g.token_cache, "Token cache file (default: TOKENCTL_TOKEN_CACHE, beside the config)");
  app.add_option("-o,--output", g.output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-v,--verbose", g.verbose, "Show the HTTP exchange on stderr, tokens and secrets redacted");
  app.add_flag("-q,--quiet", g.quiet, "Print no messages but errors and warnings");
}

} // namespace

int run(int argc, char** argv) {
  // Tokens and secrets are held in memory by nearly every command: no core dump may carry them.
  sys::disable_core_dumps();
  CLI::App app{"tokenctl: OAuth 2.0 / OpenID Connect token manager", "tokenctl"};
  app.set_version_flag("--version", std::string("tokenctl ") + TOKENCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  Context ctx(std::cout, std::cerr);
  add_global_options(app, ctx.global);
  const std::vector<Command> commands = {register_login(app), register_token(app), register_refresh(app),
                                         register_revoke(app), register_list(app), register_show(app), register_netrc(app),
                                         register_exec(app), register_git_credential(app),
                                         register_status(app), register_use(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    print_error(std::cerr, Error(ErrorKind::usage, e.what(), "run \"tokenctl --help\" for usage"));
    return static_cast<int>(ErrorKind::usage);
  }
  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run(ctx);
    return static_cast<int>(ErrorKind::usage);
  } catch (const Error& e) {
    std::cout.flush();
    print_error(std::cerr, e);
    return e.exit_code();
  } catch (const nlohmann::json::exception&) {
    std::cerr << "tokenctl: error: internal error while handling JSON\n";
    return static_cast<int>(ErrorKind::failure);
  } catch (const std::exception& e) {
    print_error(std::cerr, Error(ErrorKind::failure, std::string("internal error: ") + e.what()));
    return static_cast<int>(ErrorKind::failure);
  }
}

} // namespace tokenctl::cli
