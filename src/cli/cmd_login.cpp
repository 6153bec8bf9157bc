// tokenctl login: the authorization code flow with PKCE through a loopback listener (RFC 8252),
// the device flow (RFC 8628), or, for client-credentials profiles, a first token. Reads as its
// steps: settle the profile and check everything that can be checked before the first request,
// discover, obtain the tokens (browser, device or client credentials), then save: the cache under
// its lock, and a new profile into the config under the config's lock (never while waiting for
// the browser).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/countdown.hpp"
#include "cli/credentials.hpp"
#include "cli/login_callback.hpp"
#include "cli/secret_storage.hpp"
#include "cli/output.hpp"
#include "cli/token_service.hpp"
#include "net/loopback_listener.hpp"
#include "sys/config_file.hpp"
#include "sys/os.hpp"
#include "sys/qr_encode.hpp"
#include "sys/terminal.hpp"
#include "tokenctl/authorize.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/device.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/qr.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl::cli {
namespace {

struct LoginOptions {
  std::string host;
  std::string client_id;
  std::string scopes;
  std::string account_id;
  std::optional<int> port;
  bool no_browser = false;
  bool device = false;
  bool no_qr = false;
  std::string timeout = "5m";
};

struct SettledProfile {
  Profile profile;
  bool is_new = false;
};

// Apply the command line's overrides to `p`, checking each as the config file's reader would.
void apply_overrides(const LoginOptions& o, Profile& p) {
  if (!o.client_id.empty()) {
    if (!valid_client_id(o.client_id)) throw Error(ErrorKind::usage, "--client-id: not a client id");
    p.client_id = o.client_id;
  }
  if (!o.account_id.empty()) {
    if (!valid_account_id(o.account_id)) throw Error(ErrorKind::usage, "--account-id: not an account id");
    p.account_id = o.account_id;
  }
  if (o.port) p.redirect_port = *o.port;
  if (!o.scopes.empty()) {
    const auto scopes = split_words(o.scopes);
    for (const auto& s : scopes)
      if (!valid_scope(s))
        throw Error(ErrorKind::usage, "--scopes: \"" + shorten(s, 40) + "\" is not a scope",
                    "scopes are printable ASCII without quotes or backslashes, separated by spaces");
    p.scopes = scopes;
  }
}

// The profile this login is for: the configured one with the command line's overrides, or a
// new one from --host (saved to the config after a successful login).
SettledProfile settle_profile(const LoginOptions& o, Context& ctx) {
  const std::string name = ctx.profile_name();
  SettledProfile s;
  if (const Profile* existing = ctx.config().find(name)) {
    s.profile = *existing;
    if (!o.host.empty() && o.host != existing->host)
      throw Error(ErrorKind::usage, "profile \"" + name + "\" already has host " + existing->host,
                  "use another profile name with -p, or edit " + ctx.config().path);
  } else {
    if (o.host.empty())
      throw Error(ErrorKind::config, "no profile \"" + name + "\" in " + ctx.config().path,
                  "create it with: tokenctl login -p " + name + " --host URL");
    if (!valid_profile_name(name))
      throw Error(ErrorKind::usage, "invalid profile name \"" + name + "\": use letters, digits, '.', '_' and '-'");
    if (const std::string problem = host_problem(o.host); !problem.empty())
      throw Error(ErrorKind::usage, "--host " + o.host + ": " + problem);
    s.profile.name = name;
    s.profile.host = o.host;
    s.is_new = true;
  }
  apply_overrides(o, s.profile);
  return s;
}

// Check what can fail after the browser before the first request: the client secret, and for a
// new profile that the config file can take it (so that no login ends with orphaned tokens).
void check_before_requests(Context& ctx, const SettledProfile& s) {
  check_credentials(ctx, s.profile);
  if (!s.is_new) return;
  const std::string& path = ctx.config().path;
  (void)upsert_profile(sys::read_config_text(path), s.profile, path);
}

void open_browser(const LoginOptions& o, Context& ctx, const std::string& shown_url, const std::string& browser_url) {
  ctx.notice("To sign in, open this URL in a browser:");
  ctx.notice("");
  ctx.notice("  " + shown_url);
  ctx.notice("");
  if (o.no_browser) return;
  std::string why_not;
  if (!ctx.browser().open(browser_url, why_not))
    ctx.warn("could not open a browser (" + why_not + "); open the URL above by hand");
}

TokenSet code_flow(const LoginOptions& o, Context& ctx, const Profile& p, const ClientSettings& client,
                   const Endpoints& endpoints, Seconds timeout) {
  if (endpoints.authorization_endpoint.empty())
    throw Error(ErrorKind::failure, "the server for " + p.host + " has no authorization endpoint");
  auto listener = net::LoopbackListener::bind_loopback(client.redirect_port);
  const std::string redirect = redirect_uri(client, listener.port());
  AuthorizationRequest request;
  request.endpoint = endpoints.authorization_endpoint;
  request.client_id = client.client_id;
  request.redirect_uri = redirect;
  request.scopes = client.scopes;
  const std::string verifier = pkce_verifier(ctx.random().bytes(32));
  request.code_challenge = pkce_challenge(ctx.hasher().sha256(verifier));
  request.state = random_token(ctx.random().bytes(24));
  if (contains(client.scopes, "openid")) request.nonce = random_token(ctx.random().bytes(24));
  request.extra_params = p.auth_params;
  const std::string url = authorization_url(request);

  CallbackWait wait(ctx, client, redirect, {request.state, endpoints.issuer, endpoints.iss_parameter_supported}, url,
                    random_token(ctx.random().bytes(16)), timeout);
  // The browser gets a one-time loopback address that redirects to `url`: its argv, readable by
  // every local user, then holds no state, PKCE challenge or nonce (see login_callback.hpp).
  open_browser(o, ctx, url, wait.start_url(listener.port()));
  const bool paste = o.no_browser && ::isatty(STDIN_FILENO) == 1;
  const std::string code = wait.code(listener, paste);

  const ClientAuth auth = client_auth(ctx, p, client.client_id, endpoints);
  const TimePoint sent_at = ctx.now();
  const HttpRequest exchange = form_post(
      endpoints.token_endpoint,
      {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect}, {"code_verifier", verifier}},
      auth, p.ca_file.value_or(""));
  // A code is single-use: the exchange is sent once, never retried.
  const TokenResponse response =
      parse_token_response(ctx.http().send(exchange), {endpoints.token_endpoint, auth.method});
  TokenSet set = new_token_set(response, sent_at, client.scopes, client.client_id, endpoints);
  if (!set.id_token.empty())
    check_id_token(set.id_token, {endpoints.issuer, client.client_id, request.nonce, ctx.now()});
  else if (!request.nonce.empty())
    ctx.warn("the server returned no id token although openid was requested");
  return set;
}

// Draw `url` as a QR code on standard error, for a phone: only on a terminal, sized to it (error
// correction level M when it fits, else L), above the addresses printed as text. When it cannot
// be drawn (too narrow or too short a terminal, no libqrencode), one line says why instead.
// libqrencode is loaded here and unloaded before returning (sys/qr_encode.hpp).
void draw_qr_code(Context& ctx, const std::string& url) {
  const auto size = sys::terminal_size(STDERR_FILENO);
  if (!size) return;
  std::string why_not;
  const auto encoder = sys::QrEncoder::load(why_not);
  if (!encoder) {
    ctx.info("No QR code: " + why_not + "; open the address below.");
    return;
  }
  const int columns = size->columns > 0 ? size->columns : 80;
  // White on black set by escape codes scans on dark and light themes alike; without them (NO_COLOR,
  // TERM=dumb), the terminal's own colours, right on a dark theme (see tokenctl/qr.hpp).
  const QrStyle style =
      qr_style_for(sys::env("TERM").value_or(""), sys::env("COLORTERM").value_or(""), sys::env("NO_COLOR").has_value());
  std::optional<QrMatrix> smallest;
  for (const sys::QrLevel level : {sys::QrLevel::medium, sys::QrLevel::low}) {
    std::optional<QrMatrix> matrix = encoder->encode(url, level);
    if (!matrix) continue;
    const std::vector<std::string> lines = draw_qr(*matrix, style, columns, size->rows);
    if (!lines.empty()) {
      for (const auto& line : lines) ctx.err << line << '\n';
      ctx.err << '\n' << std::flush;
      return;
    }
    smallest = std::move(matrix);
  }
  if (!smallest) {
    ctx.info("No QR code: the address is too long for one; open the address below.");
    return;
  }
  const QrDrawingSize need = qr_drawing_size(*smallest);
  if (need.columns > columns)
    ctx.info("The QR code needs " + std::to_string(need.columns) +
             " columns; widen the terminal or open the address below.");
  else
    ctx.info("The QR code needs " + std::to_string(need.lines) +
             " lines; make the terminal taller or open the address below.");
}

TokenSet device_flow(const LoginOptions& o, Context& ctx, const Profile& p, const ClientSettings& client,
                     const Endpoints& endpoints, Seconds timeout) {
  if (endpoints.device_authorization_endpoint.empty())
    throw Error(ErrorKind::failure,
                "the server for " + p.host +
                    " does not offer the device authorization grant "
                    "(its metadata has no device_authorization_endpoint)",
                "log in without --device");
  const std::string ca = p.ca_file.value_or("");
  const ClientAuth auth = client_auth(ctx, p, client.client_id, endpoints);
  Params params;
  if (!client.scopes.empty()) params.emplace_back("scope", join(client.scopes));
  const std::string& endpoint = endpoints.device_authorization_endpoint;
  const DeviceAuthorization device =
      parse_device_authorization(ctx.http().send(form_post(endpoint, params, auth, ca)), endpoint);
  const std::string& url =
      device.verification_uri_complete.empty() ? device.verification_uri : device.verification_uri_complete;
  if (!o.no_qr) draw_qr_code(ctx, url);
  ctx.notice("To sign in, open " + device.verification_uri + " in a browser and enter the code:");
  ctx.notice("");
  ctx.notice("  " + device.user_code);
  ctx.notice("");
  if (!device.verification_uri_complete.empty()) {
    ctx.notice("Or open this address, which carries the code:");
    ctx.notice("  " + device.verification_uri_complete);
    ctx.notice("");
  }
  if (!o.no_browser) {
    std::string why_not;
    if (!ctx.browser().open(url, why_not)) ctx.warn("could not open a browser (" + why_not + ")");
  }
  const TimePoint sent_at = ctx.now();
  // On a terminal, the time left counts down while polling sleeps (poll_device_token gives up
  // at the same moment: the lesser of the timeout and the code's lifetime).
  Countdown countdown(ctx, "Waiting for the sign-in", Countdown::Clock::now() + std::min(timeout, device.expires_in));
  CountdownClock counting(ctx.clock(), countdown);
  WallClock& clock = countdown.active() ? static_cast<WallClock&>(counting) : ctx.clock();
  const TokenResponse response =
      poll_device_token(ctx.http(), clock, endpoints.token_endpoint, auth, device, timeout, ca);
  countdown.clear();
  TokenSet set = new_token_set(response, sent_at, client.scopes, client.client_id, endpoints);
  if (!set.id_token.empty()) check_id_token(set.id_token, {endpoints.issuer, client.client_id, "", ctx.now()});
  return set;
}

std::string who(const TokenSet& set) {
  if (set.id_token.empty()) return "";
  const auto claims = jwt_claims(set.id_token);
  return claims ? describe_subject(*claims) : "";
}

// Say when the server granted fewer scopes than asked (offline_access dropped: no refresh token).
void report_scopes(Context& ctx, const std::vector<std::string>& asked, const TokenSet& set) {
  std::vector<std::string> missing;
  for (const auto& s : asked)
    if (!contains(set.scopes, s)) missing.push_back(s);
  if (missing.empty()) return;
  ctx.warn("the server granted fewer scopes than asked for: not " + join(missing) +
           " (granted: " + (set.scopes.empty() ? std::string("none") : join(set.scopes)) + ")" +
           (contains(missing, "offline_access") && set.refresh_token.empty()
                ? "; without offline_access there is no refresh token, so the login lasts as long as the access token"
                : ""));
}

void save(Context& ctx, const SettledProfile& s, const TokenSet& set) {
  // A damaged cache is what a fresh login repairs: it is replaced rather than refused.
  std::function<void()> after_write;
  ctx.store().update(
      [&](TokenCache& cache) {
        const auto it = cache.tokens.find(s.profile.name);
        const std::optional<TokenSet> before =
            it == cache.tokens.end() ? std::nullopt : std::optional<TokenSet>(it->second);
        TokenSet stored = set;
        after_write = place_refresh_token(ctx, s.profile, stored, before ? &*before : nullptr);
        cache.tokens[s.profile.name] = stored;
        return true;
      },
      sys::TokenStore::OnDamaged::start_empty);
  if (after_write) after_write();
  if (!s.is_new) return;
  const std::string path = ctx.config().path;
  bool added = false;
  sys::update_config_text(path, [&](const std::string& text) {
    added = text.empty() || parse_config(text, path).find(s.profile.name) == nullptr;
    return std::optional<std::string>(upsert_profile(text, s.profile, path));
  });
  ctx.info((added ? "Added profile \"" : "Updated profile \"") + s.profile.name + "\" in " + path + ".");
}

int run_login(const LoginOptions& o, Context& ctx) {
  const auto timeout = duration_option(o.timeout, "--timeout");
  if (!timeout || *timeout <= Seconds(0))
    throw Error(ErrorKind::usage, "--timeout: the duration must be more than 0",
                "use a number with s, m or h: 90s, 5m, 1h");
  if (!o.host.empty()) ctx.allow_new_config_file();
  const SettledProfile settled = settle_profile(o, ctx);
  const Profile& p = settled.profile;
  check_before_requests(ctx, settled);
  const ClientSettings client = resolve_client(p);
  TokenSet set;
  if (machine_grant(p)) {
    // No user: the first token as `token` would get it (a client-credentials token, or an exchange).
    Freshness now;
    now.force = true;
    set = fresh_token_set(ctx, p, now);
  } else {
    const Endpoints endpoints = discover(ctx.http(), client, p.ca_file.value_or(""));
    set = o.device ? device_flow(o, ctx, p, client, endpoints, *timeout)
                   : code_flow(o, ctx, p, client, endpoints, *timeout);
  }
  report_scopes(ctx, client.scopes, set);
  save(ctx, settled, set);
  const std::string subject = who(set);
  const std::string expiry = set.expiry ? format_rfc3339(*set.expiry) + " (in " + time_left_text(&set, ctx.now()) + ")"
                                        : "an unknown time (the server did not say)";
  ctx.info("Logged in to profile \"" + p.name + "\"" + (subject.empty() ? "" : " as " + subject) +
           "; the access token expires at " + expiry + ".");
  return 0;
}

} // namespace

Command register_login(CLI::App& parent) {
  auto o = std::make_shared<LoginOptions>();
  auto* app = parent.add_subcommand("login", "Sign in with a browser (authorization code + PKCE) and cache the tokens");
  app->add_option("--host", o->host, "Authorization server (issuer) or Databricks host; creates the profile if new");
  app->add_option("--client-id", o->client_id, "OAuth client id");
  app->add_option("--scopes", o->scopes, "Scopes to request, space-separated");
  app->add_option("--account-id", o->account_id, "Databricks account id (account-level login)");
  app->add_option("--port", o->port, "Loopback redirect port (0: any free port)")->check(CLI::Range(0, 65535));
  app->add_flag("--no-browser", o->no_browser,
                "Do not open a browser; print the URL (on a terminal, also accept the redirect address pasted)");
  app->add_flag("--device", o->device, "Use the device authorization grant (RFC 8628): sign in on another device");
  app->add_flag("--no-qr", o->no_qr, "With --device, do not draw the verification address as a QR code");
  app->add_option("--timeout", o->timeout, "How long to wait for the browser (default 5m)");
  return {app, [o](Context& ctx) { return run_login(*o, ctx); }};
}

} // namespace tokenctl::cli
