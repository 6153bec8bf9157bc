// tokenctl status [--check]: which profile is in effect and why, its host, grant and storage, and
// the state of its tokens, from the files alone; --check also asks the server who the token
// belongs to (OpenID userinfo; for Databricks workspaces the SCIM /Me endpoint), within 5 seconds.
// Like `gh auth status`, it never prints a token.
//
// Exit status: without --check, 0 when the profile holds tokens that can be used (valid or
// refreshable), 3 when a login is needed. With --check, 0 when the server accepts the token, 3
// when it does not (or no token can be had), 4 when the server cannot be asked.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl::cli {
namespace {

constexpr std::chrono::milliseconds k_check_timeout{5000};

struct StatusOptions {
  bool check = false;
};

// What the server said when asked who the token belongs to.
struct CheckResult {
  enum class Outcome { accepted, rejected, unreachable } outcome = Outcome::unreachable;
  std::string endpoint;
  long http_status = 0;
  std::string user;   // who, as the server says
  std::string detail; // why not, for people
};

std::string_view outcome_name(CheckResult::Outcome o) {
  switch (o) {
  case CheckResult::Outcome::accepted: return "accepted";
  case CheckResult::Outcome::rejected: return "rejected";
  case CheckResult::Outcome::unreachable: return "unreachable";
  }
  return "unreachable";
}

// Return the user a userinfo or SCIM /Me answer names.
std::string user_of(const nlohmann::json& doc) {
  if (!doc.is_object()) return "";
  std::string who = describe_subject(doc);
  if (who.empty() && doc.contains("userName") && doc["userName"].is_string()) who = doc["userName"].get<std::string>();
  return shorten(who, 200);
}

// Ask the server who `set`'s access token belongs to.
CheckResult ask_server(Context& ctx, const Profile& p, const TokenSet& set) {
  CheckResult r;
  const ClientSettings client = resolve_client(p);
  const std::string ca = p.ca_file.value_or("");
  auto http = ctx.make_http(k_check_timeout);
  try {
    if (client.databricks && !p.account_id) {
      r.endpoint = without_trailing_slash(p.host) + "/api/2.0/preview/scim/v2/Me";
    } else {
      r.endpoint = set.endpoints.userinfo_endpoint;
      if (r.endpoint.empty()) r.endpoint = discover(*http, client, ca).userinfo_endpoint;
    }
    if (r.endpoint.empty()) {
      r.detail = "the server names no userinfo endpoint, so it cannot be asked who the token is for";
      return r;
    }
    HttpRequest request;
    request.url = r.endpoint;
    request.ca_file = ca;
    request.headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + set.access_token}};
    const HttpResponse response = http->send(request);
    r.http_status = response.status;
    if (response.status == 200) {
      r.outcome = CheckResult::Outcome::accepted;
      r.user = user_of(nlohmann::json::parse(response.body, nullptr, false));
    } else if (response.status == 401 || response.status == 403) {
      r.outcome = CheckResult::Outcome::rejected;
      r.detail = "the server does not accept the token (HTTP " + std::to_string(response.status) + ")";
    } else {
      r.detail = "the server answered HTTP " + std::to_string(response.status);
    }
  } catch (const Error& e) {
    r.detail = e.what();
  }
  return r;
}

std::string token_user(const TokenSet* set) {
  if (set == nullptr || set->id_token.empty()) return "";
  const auto claims = jwt_claims(set->id_token);
  return claims ? describe_subject(*claims) : "";
}

std::string source_text(const ProfileChoice& c) {
  switch (c.source) {
  case ProfileSource::flag: return "named by -p";
  case ProfileSource::environment: return "named by TOKENCTL_PROFILE";
  case ProfileSource::profile_file: return "named by " + c.file;
  case ProfileSource::default_profile: return "default_profile in the config";
  case ProfileSource::fallback: return "no profile named: \"default\"";
  }
  return "";
}

// What status found: the profile's tokens, and the server's answer when asked.
struct Report {
  const Profile& profile;
  ProfileChoice choice;
  TimePoint now;
  std::optional<TokenSet> set;
  std::optional<CheckResult> check;
  std::optional<Error> failure; // why no token could be had for the check
  const TokenSet* current() const { return set ? &*set : nullptr; }
  TokenStatus state() const { return token_status(current(), now); }
  std::string user() const { return check && !check->user.empty() ? check->user : token_user(current()); }
};

// --check: a token fresh enough to show, then the server's word on it.
void check_with_server(Context& ctx, Report& r) {
  try {
    r.set = fresh_token_set(ctx, r.profile, Freshness{});
    if (machine_grant(r.profile)) {
      r.check = CheckResult{CheckResult::Outcome::accepted, r.set->endpoints.token_endpoint, 200, "",
                            "no user: the server issued a token for this client"};
    } else {
      r.check = ask_server(ctx, r.profile, *r.set);
    }
  } catch (const Error& e) {
    r.failure = e;
  }
}

void print_json(Context& ctx, const Report& r) {
  const Profile& p = r.profile;
  const TokenSet* current = r.current();
  const std::string user = r.user();
  nlohmann::json j = {{"profile", p.name},
                      {"source", profile_source_name(r.choice.source)},
                      {"host", p.host},
                      {"grant", grant_name(p.grant)},
                      {"storage", storage_name(p.storage)},
                      {"status", status_name(r.state())}};
  j["expiry"] = current && current->expiry ? nlohmann::json(format_rfc3339(*current->expiry)) : nlohmann::json(nullptr);
  j["user"] = user.empty() ? nlohmann::json(nullptr) : nlohmann::json(user);
  if (r.check)
    j["check"] = {
        {"result", outcome_name(r.check->outcome)},
        {"endpoint", r.check->endpoint},
        {"http_status", r.check->http_status ? nlohmann::json(r.check->http_status) : nlohmann::json(nullptr)}};
  else if (r.failure)
    j["check"] = {{"result", r.failure->kind() == ErrorKind::network ? "unreachable" : "rejected"},
                  {"endpoint", nullptr},
                  {"http_status", nullptr}};
  else
    j["check"] = nullptr;
  ctx.out << json_text(j, 2) << '\n';
}

void print_text(Context& ctx, const Report& r) {
  const Profile& p = r.profile;
  const TokenSet* current = r.current();
  const std::string user = r.user();
  const auto line = [&](const char* label, const std::string& value) {
    ctx.out << label << std::string(16 - std::string_view(label).size(), ' ') << sanitize(value) << '\n';
  };
  line("profile:", p.name + " (" + source_text(r.choice) + ")");
  line("host:", p.host);
  line("grant:", std::string(grant_name(p.grant)));
  line("storage:", std::string(storage_name(p.storage)) +
                       (p.storage == Storage::keyring ? " (the refresh token is in the desktop's keyring)" : ""));
  line("status:", std::string(status_name(r.state())) + (current ? " (" + time_left_text(current, r.now) + ")" : ""));
  if (current && current->refresh_expiry && !current->refresh_token.empty())
    line("login needed:",
         *current->refresh_expiry <= r.now ? "now" : "in " + format_duration(*current->refresh_expiry - r.now));
  if (!user.empty())
    line("user:",
         user + (r.check && !r.check->user.empty() ? " (as the server says)" : " (from the id token, not verified)"));
  if (r.check)
    line("check:", std::string(outcome_name(r.check->outcome)) +
                       (r.check->endpoint.empty() ? "" : " by " + r.check->endpoint) +
                       (r.check->detail.empty() ? "" : ": " + r.check->detail));
}

// The error behind a non-zero exit status, if any.
std::optional<Error> verdict_of(const Report& r) {
  const Profile& p = r.profile;
  if (r.failure) return r.failure;
  if (r.check && r.check->outcome == CheckResult::Outcome::unreachable)
    return Error(ErrorKind::network,
                 "cannot ask the server about the token of profile \"" + p.name + "\": " + r.check->detail);
  if (r.check && r.check->outcome == CheckResult::Outcome::rejected)
    return Error(ErrorKind::login_required, "the server does not accept the token of profile \"" + p.name + "\"",
                 login_hint(p));
  const TokenStatus state = r.state();
  if (!r.check && (state == TokenStatus::logged_out || state == TokenStatus::expired))
    return Error(ErrorKind::login_required, "profile \"" + p.name + "\" is " + std::string(status_name(state)),
                 login_hint(p));
  return std::nullopt;
}

int run_status(const StatusOptions& o, Context& ctx) {
  ctx.narrow_config_to_profile();
  const ProfileChoice choice = ctx.profile_choice();
  const Profile& p = ctx.profile();
  Report report{p, choice, ctx.now(), cached_token_set(ctx, p), std::nullopt, std::nullopt};
  if (o.check) check_with_server(ctx, report);
  if (ctx.json())
    print_json(ctx, report);
  else
    print_text(ctx, report);
  const std::optional<Error> verdict = verdict_of(report);
  if (!verdict) return 0;
  // The status itself is what stdout carries, even then: the reason goes to stderr.
  print_error(ctx.err, *verdict);
  return verdict->exit_code();
}

} // namespace

Command register_status(CLI::App& parent) {
  auto options = std::make_shared<StatusOptions>();
  auto* app = parent.add_subcommand("status", "Say which profile is in effect and why, and the state of its tokens");
  app->add_flag("--check", options->check, "Also ask the server who the token belongs to (5 s at most)");
  return {app, [options](Context& ctx) { return run_status(*options, ctx); }};
}

} // namespace tokenctl::cli
