// tokenctl show: one profile in detail, tokens redacted unless --reveal, JWT claims decoded
// (and labelled as not verified). Reads the config and the cache only.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/redact.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

struct ShowOptions {
  bool reveal = false;
};

nlohmann::json endpoints_json(const Endpoints& e) {
  const auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  return {{"issuer", or_null(e.issuer)},
          {"authorization_endpoint", or_null(e.authorization_endpoint)},
          {"token_endpoint", or_null(e.token_endpoint)},
          {"revocation_endpoint", or_null(e.revocation_endpoint)},
          {"device_authorization_endpoint", or_null(e.device_authorization_endpoint)}};
}

nlohmann::json build(const Profile& p, const TokenSet* set, TimePoint now, bool reveal) {
  const ClientSettings client = resolve_client(p);
  const auto token_field = [&](const std::string& t) {
    return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(reveal ? t : redact(t));
  };
  nlohmann::json j = {{"name", p.name},
                      {"host", p.host},
                      {"provider", client.databricks ? "databricks" : "oidc"},
                      {"source", p.origin == ProfileOrigin::databricks ? "databricks" : "config"},
                      {"storage", storage_name(p.storage)},
                      {"grant", grant_name(p.grant)},
                      {"status", status_name(token_status(set, now))}};
  add_expiry_json(j, set, now);
  j["client_id"] = set ? set->client_id : client.client_id;
  j["scopes_requested"] = client.scopes;
  if (set == nullptr) {
    j["endpoints"] = nullptr;
    j["scopes_granted"] = nullptr;
    j["refresh_token_held"] = false;
    j["variants"] = nlohmann::json::array();
    j["refresh_expiry"] = nullptr;
    return j;
  }
  j["endpoints"] = endpoints_json(set->endpoints);
  j["scopes_granted"] = set->scopes;
  j["refresh_token_held"] = !set->refresh_token.empty() || set->refresh_in_keyring;
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& [key, v] : set->variants) {
    nlohmann::json one = {{"shape", key}};
    add_expiry_json(one, &v, now);
    variants.push_back(std::move(one));
  }
  j["variants"] = std::move(variants);
  j["refresh_expiry"] = set->refresh_expiry && !set->refresh_token.empty()
                            ? nlohmann::json(format_rfc3339(*set->refresh_expiry))
                            : nlohmann::json(nullptr);
  j["access_token"] = token_field(set->access_token);
  j["refresh_token"] = set->refresh_in_keyring ? nlohmann::json("(in the keyring)") : token_field(set->refresh_token);
  j["id_token"] = token_field(set->id_token);
  const auto at_claims = jwt_claims(set->access_token);
  const auto id_claims = jwt_claims(set->id_token);
  j["access_token_claims"] = at_claims ? *at_claims : nlohmann::json(nullptr);
  j["id_token_claims"] = id_claims ? *id_claims : nlohmann::json(nullptr);
  j["claims_verified"] = false;
  return j;
}

void print_claims(std::ostream& out, const char* label, const std::string& token, const nlohmann::json& claims) {
  out << label << " claims (decoded, NOT verified): ";
  if (token.empty())
    out << "no token\n";
  else if (claims.is_null())
    out << "not a JWT\n";
  else {
    out << '\n';
    for (const auto& [key, value] : claims.items()) out << "  " << sanitize(key) << ": " << json_text(value) << '\n';
  }
}

void print_text(std::ostream& out, const nlohmann::json& j, const TokenSet* set, TimePoint now) {
  const auto line = [&](const char* label, const std::string& value) {
    out << label << std::string(24 - std::string_view(label).size(), ' ') << sanitize(value) << '\n';
  };
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string("-"); };
  const auto join = [](const nlohmann::json& list) { return tokenctl::join(list.get<std::vector<std::string>>()); };
  line("profile:", j["name"]);
  line("host:", j["host"]);
  line("provider:", j["provider"]);
  line("grant:", j["grant"]);
  line("storage:", j["storage"]);
  line("client id:", j["client_id"]);
  line("status:", text(j["status"]) + (set ? " (" + time_left_text(set, now) + ")" : ""));
  line("expiry:", text(j["expiry"]));
  line("scopes requested:",
       j["scopes_requested"].empty() ? "(none: no scope parameter is sent)" : join(j["scopes_requested"]));
  if (set == nullptr) return;
  const auto& e = j["endpoints"];
  line("issuer:", text(e["issuer"]));
  line("authorization endpoint:", text(e["authorization_endpoint"]));
  line("token endpoint:", text(e["token_endpoint"]));
  line("revocation endpoint:", text(e["revocation_endpoint"]));
  line("device endpoint:", text(e["device_authorization_endpoint"]));
  line("scopes granted:", join(j["scopes_granted"]));
  line("refresh token held:", j["refresh_token_held"].get<bool>() ? "yes" : "no");
  for (const auto& v : j["variants"])
    line("variant:",
         text(v["shape"]) + " (" + (v["expiry"].is_string() ? "expires " + text(v["expiry"]) : "no expiry") + ")");
  if (!j["refresh_expiry"].is_string())
    line("refresh token expiry:", "unknown");
  else if (*set->refresh_expiry <= now)
    line("refresh token expiry:", text(j["refresh_expiry"]) + " (expired)");
  else
    line("refresh token expiry:",
         text(j["refresh_expiry"]) + " (in " + format_duration(*set->refresh_expiry - now) + ")");
  line("access token:", text(j["access_token"]));
  line("refresh token:", text(j["refresh_token"]));
  line("id token:", text(j["id_token"]));
  print_claims(out, "id token", set->id_token, j["id_token_claims"]);
  print_claims(out, "access token", set->access_token, j["access_token_claims"]);
}

int run_show(const ShowOptions& o, Context& ctx) {
  ctx.narrow_config_to_profile();
  const Profile& profile = ctx.profile();
  const auto cached = ctx.store().load_one(profile.name);
  const std::string mismatch = cached ? binding_mismatch(*cached, profile) : std::string();
  if (!mismatch.empty())
    ctx.warn("the tokens cached for profile \"" + profile.name + "\" are not for what it names now (" + mismatch +
             "); they are treated as logged out until the next login");
  const TokenSet* set = cached && mismatch.empty() ? &*cached : nullptr;
  const TimePoint now = ctx.now();
  const nlohmann::json j = build(profile, set, now, o.reveal);
  if (ctx.json())
    ctx.out << json_text(j, 2) << '\n';
  else
    print_text(ctx.out, j, set, now);
  return 0;
}

} // namespace

Command register_show(CLI::App& parent) {
  auto options = std::make_shared<ShowOptions>();
  auto* app = parent.add_subcommand("show", "Show one profile in detail (tokens redacted)");
  app->add_flag("--reveal", options->reveal, "Show the tokens in full");
  return {app, [options](Context& ctx) { return run_show(*options, ctx); }};
}

} // namespace tokenctl::cli
