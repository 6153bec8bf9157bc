// tokenctl exec [--min-ttl DURATION] -- COMMAND [ARG...]: run COMMAND with BEARER_TOKEN_FILE
// pointing to a 0600 file that holds a fresh access token (the WLCG bearer token discovery
// convention), rewritten before the token expires for as long as COMMAND runs, removed at the
// end. Signals are passed on to COMMAND, and tokenctl exits with COMMAND's status.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/shape_options.hpp"
#include "cli/token_service.hpp"
#include "sys/files.hpp"
#include "sys/os.hpp"
#include "sys/process.hpp"
#include "tokenctl/grants.hpp"

namespace tokenctl::cli {
namespace {

constexpr Seconds k_retry_after_failure{30};
constexpr Seconds k_check_unknown_expiry{300};

struct ExecOptions {
  ShapeOptions shape;
  std::string min_ttl;
  std::vector<std::string> command;
};

// The folder of the token file: $XDG_RUNTIME_DIR/tokenctl when it is a folder of the user's own
// that no one else can enter (another user must not be able to swap the file), else a new
// private folder in /tmp, removed at the end.
struct TokenFolder {
  std::string path;
  bool temporary = false;
  ~TokenFolder() {
    if (temporary) ::rmdir(path.c_str());
  }
};

std::unique_ptr<TokenFolder> make_token_folder(Context& ctx) {
  auto folder = std::make_unique<TokenFolder>();
  const auto runtime = sys::env("XDG_RUNTIME_DIR");
  if (runtime && runtime->front() == '/') {
    const std::string path = *runtime + "/tokenctl";
    const std::string problem = sys::claim_private_dir(path);
    if (problem.empty()) {
      folder->path = path;
      return folder;
    }
    ctx.warn("not using " + path + " for the token file: " + problem + "; using a new private folder in /tmp");
  }
  std::string templ = "/tmp/tokenctl-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw Error(ErrorKind::failure, "cannot create a private folder in /tmp");
  folder->path = templ;
  folder->temporary = true;
  return folder;
}

// When to look at the token again: once it is no longer fresh enough for the margin.
std::chrono::milliseconds next_check(const TokenSet& set, const Margin& margin, TimePoint now) {
  const auto until = renew_at(set, margin);
  if (!until) return k_check_unknown_expiry;
  return std::max<std::chrono::milliseconds>(*until - now + Seconds(1), Seconds(1));
}

int run_exec(const ExecOptions& o, Context& ctx) {
  Freshness freshness;
  freshness.min_ttl = duration_option(o.min_ttl, "--min-ttl");
  freshness.shape = o.shape.shape();
  ctx.narrow_config_to_profile();
  const Profile& profile = ctx.profile();
  const Margin margin = margin_for(profile, freshness);
  TokenSet set = fresh_token_set(ctx, profile, freshness);
  freshness.warn_short = false; // said once, at the start: not at every renewal
  check_token_for_output(set.access_token);
  sys::hold_forwarded_signals(true);
  const auto folder = make_token_folder(ctx);
  const std::string file = folder->path + "/bearer-token-" + std::to_string(::getpid());
  sys::write_file_atomic(file, set.access_token + "\n", 0600);
  int status = 1;
  try {
    auto child = sys::ChildProcess::spawn(o.command, {{"BEARER_TOKEN_FILE", file}});
    sys::forward_signals_to(child.pid());
    sys::hold_forwarded_signals(false);
    auto wait = next_check(set, margin, ctx.now());
    for (;;) {
      if (const auto done = child.wait_for(wait)) {
        status = *done;
        break;
      }
      try {
        set = fresh_token_set(ctx, profile, freshness);
        check_token_for_output(set.access_token);
        sys::write_file_atomic(file, set.access_token + "\n", 0600);
        wait = next_check(set, margin, ctx.now());
      } catch (const Error& e) {
        ctx.warn(std::string("could not renew the token for the running command: ") + e.what() + "; trying again in " +
                 format_duration(k_retry_after_failure));
        wait = k_retry_after_failure;
      }
    }
  } catch (...) {
    std::remove(file.c_str());
    throw;
  }
  std::remove(file.c_str());
  return status;
}

} // namespace

Command register_exec(CLI::App& parent) {
  auto options = std::make_shared<ExecOptions>();
  auto* app = parent.add_subcommand("exec", "Run a command with BEARER_TOKEN_FILE kept fresh while it runs");
  app->add_option("--min-ttl", options->min_ttl, "Renew when less than this is left (default: refresh_margin, 5m)");
  add_shape_options(*app, options->shape);
  app->add_option("command", options->command, "The command and its arguments, after --")->required();
  return {app, [options](Context& ctx) { return run_exec(*options, ctx); }};
}

} // namespace tokenctl::cli
