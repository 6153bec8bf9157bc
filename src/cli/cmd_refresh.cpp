// tokenctl refresh [--all]: refresh now and save the new set; say the new expiry on stderr.
#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/token_service.hpp"

namespace tokenctl::cli {
namespace {

struct RefreshOptions {
  bool all = false;
};

void refresh_one(Context& ctx, const Profile& profile) {
  Freshness freshness;
  freshness.force = true;
  const TokenSet set = fresh_token_set(ctx, profile, freshness);
  const std::string expiry = set.expiry ? format_rfc3339(*set.expiry) + " (in " + time_left_text(&set, ctx.now()) + ")"
                                        : "an unknown time (the server did not say)";
  ctx.info("Refreshed profile \"" + profile.name + "\"; the access token expires at " + expiry + ".");
}

int run_refresh(const RefreshOptions& o, Context& ctx) {
  if (!o.all) {
    ctx.narrow_config_to_profile();
    refresh_one(ctx, ctx.profile());
    return 0;
  }
  const TokenCache cache = ctx.store().load();
  std::vector<const Profile*> chosen;
  for (const auto& profile : ctx.config().profiles)
    if (cache.tokens.count(profile.name) || machine_grant(profile)) chosen.push_back(&profile);
  return for_each_profile(ctx, chosen, [&](const Profile& p) { refresh_one(ctx, p); });
}

} // namespace

Command register_refresh(CLI::App& parent) {
  auto options = std::make_shared<RefreshOptions>();
  auto* app = parent.add_subcommand("refresh", "Refresh the profile's tokens now");
  app->add_flag("--all", options->all, "Refresh every profile that holds a token set");
  return {app, [options](Context& ctx) { return run_refresh(*options, ctx); }};
}

} // namespace tokenctl::cli
