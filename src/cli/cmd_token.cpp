// tokenctl token: print the profile's access token, refreshed first when it is about to expire.
// With a fresh cached token this reads two small files and prints: no network module is loaded.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/token_endpoint.hpp"

namespace tokenctl::cli {
namespace {

struct TokenOptions {
  std::string min_ttl;
  bool header = false;
  bool exec_credential = false;
};

// A kubectl client.authentication.k8s.io/v1 ExecCredential (what `kubectl` exec plugins print).
nlohmann::json exec_credential(const TokenSet& set) {
  nlohmann::json status = {{"token", set.access_token}};
  if (set.expiry) status["expirationTimestamp"] = format_rfc3339(*set.expiry);
  return {{"apiVersion", "client.authentication.k8s.io/v1"},
          {"kind", "ExecCredential"},
          {"spec", {{"interactive", false}}},
          {"status", status}};
}

int run_token(const TokenOptions& o, Context& ctx) {
  Freshness freshness;
  freshness.min_ttl = duration_option(o.min_ttl, "--min-ttl");
  ctx.narrow_config_to_profile();
  const Profile& profile = ctx.profile();
  const TokenSet set = fresh_token_set(ctx, profile, freshness);
  check_token_for_output(set.access_token);
  if (o.exec_credential) {
    ctx.out << json_text(exec_credential(set)) << '\n';
  } else if (ctx.json()) {
    nlohmann::json j = {{"access_token", set.access_token}, {"token_type", set.token_type}};
    add_expiry_json(j, &set, ctx.now());
    ctx.out << json_text(j) << '\n';
  } else if (o.header) {
    ctx.out << "Authorization: Bearer " << set.access_token << '\n';
  } else {
    ctx.out << set.access_token << '\n';
  }
  return 0;
}

} // namespace

Command register_token(CLI::App& parent) {
  auto options = std::make_shared<TokenOptions>();
  auto* app = parent.add_subcommand("token", "Print the profile's access token (refreshed first if needed)");
  app->add_option("--min-ttl", options->min_ttl, "Refresh first if less than this is left (default: refresh_margin, 5m)");
  auto* header = app->add_flag("--header", options->header, "Print \"Authorization: Bearer TOKEN\" instead");
  app->add_flag("--exec-credential", options->exec_credential,
                "Print a kubectl client.authentication.k8s.io/v1 ExecCredential instead")
      ->excludes(header);
  return {app, [options](Context& ctx) { return run_token(*options, ctx); }};
}

} // namespace tokenctl::cli
