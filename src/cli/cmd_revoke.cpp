// tokenctl revoke [--all] [--local]: revoke the refresh token, then the access token, at the
// server's revocation endpoint (RFC 7009), then forget the token set. If the server cannot be
// reached the cache is kept, so that the user can try again; --local only forgets.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/revocation.hpp"

namespace tokenctl::cli {
namespace {

struct RevokeOptions {
  bool all = false;
  bool local = false;
};

void forget(Context& ctx, const std::string& name) {
  ctx.store().update([&](TokenCache& cache) { return cache.tokens.erase(name) > 0; });
}

void revoke_at_server(Context& ctx, const Profile& p, const TokenSet& set) {
  const std::string& endpoint = set.endpoints.revocation_endpoint;
  const ClientAuth auth = client_auth_for(p, set);
  const std::string ca = p.ca_file.value_or("");
  const std::pair<const std::string*, const char*> tokens[] = {{&set.refresh_token, "refresh_token"},
                                                               {&set.access_token, "access_token"}};
  for (const auto& [token, hint] : tokens) {
    if (token->empty()) continue;
    const RevokeResult r = revoke_token(ctx.http(), ctx.clock(), endpoint, *token, hint, auth, ca);
    if (r == RevokeResult::unsupported_token_type)
      ctx.info(std::string("The server does not revoke tokens of type ") + hint + "; it stays valid until it expires.");
  }
}

void revoke_one(const RevokeOptions& o, Context& ctx, const Profile& p, const TokenSet& set) {
  if (o.local) {
    forget(ctx, p.name);
    ctx.info("Forgot the tokens of profile \"" + p.name + "\" (nothing was revoked at the server).");
    return;
  }
  if (set.endpoints.revocation_endpoint.empty()) {
    forget(ctx, p.name);
    ctx.info("The server of profile \"" + p.name + "\" has no revocation endpoint: nothing was revoked there; "
             "the tokens were forgotten here and stay valid at the server until they expire.");
    return;
  }
  revoke_at_server(ctx, p, set);
  forget(ctx, p.name);
  ctx.info("Revoked the tokens of profile \"" + p.name + "\" at the server and forgot them.");
}

int run_revoke(const RevokeOptions& o, Context& ctx) {
  if (!o.all) {
    ctx.narrow_config_to_profile();
    const Profile& p = ctx.profile();
    const auto set = ctx.store().load_one(p.name);
    if (!set) {
      ctx.info("Profile \"" + p.name + "\" holds no tokens; nothing to revoke.");
      return 0;
    }
    revoke_one(o, ctx, p, *set);
    return 0;
  }
  const TokenCache cache = ctx.store().load();
  int worst = 0;
  for (const auto& p : ctx.config().profiles) {
    const auto it = cache.tokens.find(p.name);
    if (it == cache.tokens.end()) continue;
    try {
      revoke_one(o, ctx, p, it->second);
    } catch (const Error& e) {
      ctx.profile_error(p.name, e);
      worst = std::max(worst, e.exit_code());
    }
  }
  return worst;
}

} // namespace

Command register_revoke(CLI::App& parent) {
  auto options = std::make_shared<RevokeOptions>();
  auto* app = parent.add_subcommand("revoke", "Revoke the profile's tokens at the server and forget them");
  app->add_flag("--all", options->all, "Revoke the tokens of every profile");
  app->add_flag("--local", options->local, "Only forget the tokens here; revoke nothing at the server");
  return {app, [options](Context& ctx) { return run_revoke(*options, ctx); }};
}

} // namespace tokenctl::cli
