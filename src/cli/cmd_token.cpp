// tokenctl token: print the profile's access token, refreshed first when it is about to expire.
// With a fresh cached token this reads two small files and prints: no network module is loaded.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/shape_options.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/token_endpoint.hpp"

namespace tokenctl::cli {
namespace {

struct TokenOptions {
  std::string min_ttl;
  bool header = false;
  bool exec_credential = false;
  bool id_token = false;
  ShapeOptions shape;
};

// The id token's expiry (its exp claim), if it has one.
std::optional<TimePoint> id_token_expiry(const std::string& id_token) {
  const auto claims = jwt_claims(id_token);
  if (!claims || !claims->contains("exp") || !(*claims)["exp"].is_number()) return std::nullopt;
  return TimePoint(Seconds(static_cast<std::int64_t>(std::clamp((*claims)["exp"].get<double>(), 0.0, 253402300799.0))));
}

// A kubectl client.authentication.k8s.io/v1 ExecCredential (what `kubectl` exec plugins print),
// carrying `token` (the access token, or with --id-token the id token, as kubelogin does).
nlohmann::json exec_credential(const std::string& token, const std::optional<TimePoint>& expiry) {
  nlohmann::json status = {{"token", token}};
  if (expiry) status["expirationTimestamp"] = format_rfc3339(*expiry);
  return {{"apiVersion", "client.authentication.k8s.io/v1"},
          {"kind", "ExecCredential"},
          {"spec", {{"interactive", false}}},
          {"status", status}};
}

int run_token(const TokenOptions& o, Context& ctx) {
  Freshness freshness;
  freshness.min_ttl = duration_option(o.min_ttl, "--min-ttl");
  freshness.id_token = o.id_token;
  freshness.shape = o.shape.shape();
  if (o.id_token && !freshness.shape.plain())
    throw Error(ErrorKind::usage, "--id-token cannot be combined with --scope, --resource or --audience");
  ctx.narrow_config_to_profile();
  const Profile& profile = ctx.profile();
  const TokenSet set = fresh_token_set(ctx, profile, freshness);
  if (o.id_token) {
    if (!valid_id_token(set.id_token)) throw Error(ErrorKind::failure, "the cached id token is not a JWT; refusing it");
    const auto expiry = id_token_expiry(set.id_token);
    if (o.exec_credential) {
      ctx.out << json_text(exec_credential(set.id_token, expiry)) << '\n';
    } else if (ctx.json()) {
      nlohmann::json j = {{"id_token", set.id_token}};
      j["expiry"] = expiry ? nlohmann::json(format_rfc3339(*expiry)) : nlohmann::json(nullptr);
      j["expires_in"] = expiry ? nlohmann::json((*expiry - ctx.now()).count()) : nlohmann::json(nullptr);
      ctx.out << json_text(j) << '\n';
    } else if (o.header)
      ctx.out << "Authorization: Bearer " << set.id_token << '\n';
    else
      ctx.out << set.id_token << '\n';
    return 0;
  }
  check_token_for_output(set.access_token);
  if (o.exec_credential) {
    ctx.out << json_text(exec_credential(set.access_token, set.expiry)) << '\n';
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

int run_plain_token(Context& ctx) { return run_token(TokenOptions{}, ctx); }

Command register_token(CLI::App& parent) {
  auto options = std::make_shared<TokenOptions>();
  auto* app = parent.add_subcommand("token", "Print the profile's access token (refreshed first if needed)");
  app->add_option("--min-ttl", options->min_ttl,
                  "Refresh first if less than this is left (default: refresh_margin, 5m)");
  auto* header = app->add_flag("--header", options->header, "Print \"Authorization: Bearer TOKEN\" instead");
  app->add_flag("--exec-credential", options->exec_credential,
                "Print a kubectl client.authentication.k8s.io/v1 ExecCredential instead")
      ->excludes(header);
  app->add_flag("--id-token", options->id_token, "Print the OpenID id token instead (refreshed first when due)");
  add_shape_options(*app, options->shape);
  return {app, [options](Context& ctx) { return run_token(*options, ctx); }};
}

} // namespace tokenctl::cli
