// tokenctl databricks auth token | version: the Databricks CLI's token protocol, so that every
// Databricks tool that runs `databricks auth token` (auth_type = databricks-cli: the Go, Python
// and Java SDKs, Terraform, dbt, Databricks Connect, the VS Code extension) shares tokenctl's
// login, cache and one-refresh-at-a-time lock. Installed also as LIBDIR/tokenctl/databricks,
// where argv[0] makes it answer as `tokenctl databricks` (cli/app.cpp).
//
// What the SDKs send and parse (their public source; tests/e2e/clients/README.md has the details):
// - `version` (Go, JavaScript: "Databricks CLI vX.Y.Z") and `version --output json` (Python:
//   Major, Minor, Patch): 0.296.0 enables `--profile` (from 0.207.1) and `--force-refresh`
//   (from 0.296.0) in Go and Python; JavaScript only checks that a version prints.
// - `auth token --profile NAME`, or `auth token --host URL [--account-id ID]`, with
//   `--force-refresh` on every call from Go and Python at 0.296.0 and up.
// - stdout: one JSON object {access_token, token_type, expiry}; expiry in local time with a
//   fraction and a numeric offset (the only form Python's parser reads right).
// - a failure: non-zero exit, the message on stderr; "databricks OAuth is not configured for this
//   host" makes the SDKs try their next auth type.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/token_service.hpp"
#include "sys/os.hpp"
#include "tokenctl/databricks.hpp"
#include "tokenctl/text.hpp"

#ifndef TOKENCTL_VERSION
#define TOKENCTL_VERSION "0"
#endif

namespace tokenctl::cli {
namespace {

struct TokenOptions {
  std::string host;
  std::string account_id;
  std::string workspace_id;  // sent by some SDK versions for unified hosts; not needed to find a profile
  bool unified_host = false; // --experimental-is-unified-host: accepted, nothing to do
  bool force_refresh = false;
};

// The profile the SDK asks for: --host (and --account-id) by host, else the profile in effect.
const Profile& chosen_profile(const TokenOptions& o, Context& ctx) {
  if (o.host.empty() || !ctx.global.profile.empty()) {
    ctx.narrow_config_to_profile();
    const std::string name = ctx.profile_name();
    if (const Profile* p = ctx.config().find(name)) return *p;
    throw Error(ErrorKind::login_required,
                "no profile \"" + name +
                    "\" in tokenctl's config or .databrickscfg: " + std::string(k_databricks_not_configured),
                "log in with: tokenctl login -p " + name + " --host URL");
  }
  const std::string wanted = databricks_host_key(o.host);
  for (const Profile& p : ctx.config().profiles) {
    if (databricks_host_key(p.host) != wanted) continue;
    if (!o.account_id.empty() && p.account_id.value_or("") != o.account_id) continue;
    if (o.account_id.empty() && p.account_id) continue;
    return p;
  }
  throw Error(ErrorKind::login_required,
              "no tokenctl profile for " + o.host + (o.account_id.empty() ? "" : " (account " + o.account_id + ")") +
                  ": " + std::string(k_databricks_not_configured),
              "log in with: tokenctl login -p NAME --host " + o.host +
                  (o.account_id.empty() ? "" : " --account-id " + o.account_id));
}

int run_token(const TokenOptions& o, Context& ctx) {
  const Profile& profile = chosen_profile(o, ctx);
  Freshness freshness;
  freshness.force = o.force_refresh;
  // Many SDK processes ask at once, each with --force-refresh: one refresh serves them all.
  freshness.unless_refreshed_within = k_databricks_refresh_coalescing;
  TokenSet set;
  try {
    set = fresh_token_set(ctx, profile, freshness);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::login_required) throw;
    // Say it in the words the SDKs look for, so that they can try their next auth type.
    throw Error(e.kind(), std::string(e.what()) + ": " + std::string(k_databricks_not_configured), e.hint());
  }
  check_token_for_output(set.access_token);
  nlohmann::ordered_json j;
  j["access_token"] = set.access_token;
  j["token_type"] = set.token_type;
  // No expiry known: the SDKs need one; an hour from now, after which they ask again.
  const TimePoint expiry = set.expiry.value_or(ctx.now() + Seconds(3600));
  j["expiry"] = format_databricks_expiry(expiry, sys::local_utc_offset(expiry));
  ctx.out << j.dump(2) << '\n';
  return 0;
}

int run_version(Context& ctx) {
  ctx.out << (ctx.json() ? databricks_version_json(TOKENCTL_VERSION) : databricks_version_text());
  return 0;
}

} // namespace

Command register_databricks(CLI::App& parent) {
  auto* app =
      parent.add_subcommand("databricks", "Answer Databricks tools as the Databricks CLI does (auth token, version)");
  app->require_subcommand(1);
  auto* auth = app->add_subcommand("auth", "Authentication commands of the Databricks CLI protocol");
  auth->require_subcommand(1);
  auto o = std::make_shared<TokenOptions>();
  auto* token = auth->add_subcommand("token", "Print {access_token, token_type, expiry} for a Databricks tool");
  token->add_option("--host", o->host, "Find the profile by its Databricks host");
  token->add_option("--account-id", o->account_id, "With --host: the Databricks account id");
  token->add_option("--workspace-id", o->workspace_id, "Accepted for the Databricks SDKs; not needed");
  token->add_flag("--experimental-is-unified-host", o->unified_host, "Accepted for the Databricks SDKs; not needed");
  token->add_flag("--force-refresh", o->force_refresh,
                  "Refresh first, unless any process refreshed this profile in the last 60 seconds");
  auto* version = app->add_subcommand("version", "Print the Databricks CLI version tokenctl answers as");
  const auto run = [o, token, version](Context& ctx) {
    if (token->parsed()) return run_token(*o, ctx);
    if (version->parsed()) return run_version(ctx);
    throw Error(ErrorKind::usage, "databricks: name a command (auth token, version)");
  };
  return {app, run};
}

} // namespace tokenctl::cli
