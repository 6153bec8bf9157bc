// tokenctl revoke [--all] [--local]: revoke the refresh token, then the access token, at the
// server's revocation endpoint (RFC 7009), then forget the token set. Read, revoke and forget
// happen under the cache lock, so that a refresh running meanwhile cannot rotate the tokens
// between what is revoked and what is erased. If the server cannot be reached the cache is kept,
// so that the user can try again; --local only forgets.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/secret_storage.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/revocation.hpp"

namespace tokenctl::cli {
namespace {

struct RevokeOptions {
  bool all = false;
  bool local = false;
};

void revoke_at_server(Context& ctx, const Profile& p, const TokenSet& set) {
  const std::string& endpoint = set.endpoints.revocation_endpoint;
  const std::string ca = p.ca_file.value_or("");
  const std::pair<const std::string*, const char*> tokens[] = {{&set.refresh_token, "refresh_token"},
                                                               {&set.access_token, "access_token"}};
  for (const auto& [token, hint] : tokens) {
    if (token->empty()) continue;
    // Per request: a client assertion may be used once (its jti).
    const RevokeResult r =
        revoke_token(ctx.http(), ctx.clock(), endpoint, *token, hint, client_auth_for(ctx, p, set), ca);
    if (r == RevokeResult::unsupported_token_type)
      ctx.info(std::string("The server does not revoke tokens of type ") + hint + "; it stays valid until it expires.");
  }
}

enum class Outcome { none, forgotten, unbound, no_endpoint, revoked };

void revoke_one(const RevokeOptions& o, Context& ctx, const Profile& p) {
  Outcome outcome = Outcome::none;
  ctx.store().update([&](TokenCache& cache) {
    const auto it = cache.tokens.find(p.name);
    if (it == cache.tokens.end()) return false;
    TokenSet& set = it->second;
    if (o.local) outcome = Outcome::forgotten;
    // A set for another issuer or client than the profile names now is forgotten, never sent anywhere.
    else if (!binding_mismatch(set, p).empty())
      outcome = Outcome::unbound;
    else if (set.endpoints.revocation_endpoint.empty())
      outcome = Outcome::no_endpoint;
    else {
      TokenSet with_refresh = set;
      load_refresh_token(ctx, p, with_refresh);
      revoke_at_server(ctx, p, with_refresh); // throws (the cache kept) when the server cannot be reached
      outcome = Outcome::revoked;
    }
    forget_refresh_token(ctx, p, set); // the keyring item goes with the set
    cache.tokens.erase(it);
    return true;
  });
  const std::string name = "profile \"" + p.name + "\"";
  switch (outcome) {
  case Outcome::none: ctx.info("Profile \"" + p.name + "\" holds no tokens; nothing to revoke."); break;
  case Outcome::forgotten: ctx.info("Forgot the tokens of " + name + " (nothing was revoked at the server)."); break;
  case Outcome::unbound:
    ctx.info("Forgot the tokens of " + name +
             ": they were obtained for another server or client than the "
             "profile names now, so nothing was sent anywhere.");
    break;
  case Outcome::no_endpoint:
    ctx.info("The server of " + name +
             " has no revocation endpoint: nothing was revoked there; the tokens were "
             "forgotten here and stay valid at the server until they expire.");
    break;
  case Outcome::revoked: ctx.info("Revoked the tokens of " + name + " at the server and forgot them."); break;
  }
}

int run_revoke(const RevokeOptions& o, Context& ctx) {
  if (!o.all) {
    ctx.narrow_config_to_profile();
    revoke_one(o, ctx, ctx.profile());
    return 0;
  }
  const TokenCache cache = ctx.store().load();
  std::vector<const Profile*> chosen;
  for (const auto& p : ctx.config().profiles)
    if (cache.tokens.count(p.name)) chosen.push_back(&p);
  return for_each_profile(ctx, chosen, [&](const Profile& p) { revoke_one(o, ctx, p); });
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
