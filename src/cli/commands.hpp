// The commands: each registers its CLI11 subcommand and returns how to run it.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace tokenctl::cli {

class Context;

struct Command {
  CLI::App* app = nullptr;
  std::function<int(Context&)> run;
};

Command register_login(CLI::App& parent);
Command register_token(CLI::App& parent);
Command register_refresh(CLI::App& parent);
Command register_list(CLI::App& parent);
Command register_show(CLI::App& parent);
Command register_revoke(CLI::App& parent);
Command register_git_credential(CLI::App& parent);
Command register_exec(CLI::App& parent);
Command register_netrc(CLI::App& parent);
Command register_status(CLI::App& parent);
Command register_use(CLI::App& parent);
Command register_databricks(CLI::App& parent);

// `tokenctl token` without options of its own (what register_token's command runs when the
// command line gives none), for the command line that app.cpp reads without CLI11.
int run_plain_token(Context& ctx);

} // namespace tokenctl::cli
