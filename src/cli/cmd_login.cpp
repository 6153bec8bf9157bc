// tokenctl login: the authorization code flow with PKCE through a loopback listener (RFC 8252),
// or, for client-credentials profiles, a first token. Reads as its steps: settle the profile,
// discover, listen, send the browser, check the callback, redeem the code, check the id token,
// save (the cache lock is taken only for the save, never while waiting for the browser).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/token_service.hpp"
#include "net/loopback_listener.hpp"
#include "sys/config_file.hpp"
#include "sys/files.hpp"
#include "tokenctl/authorize.hpp"
#include "tokenctl/callback_page.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/device.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/grants.hpp"
#include "tokenctl/jwt.hpp"
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
  std::string timeout = "5m";
};

struct SettledProfile {
  Profile profile;
  bool is_new = false;
};

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
    const auto url = parse_url(o.host);
    const std::string problem = url ? endpoint_url_problem(o.host) : std::string("not an absolute https URL");
    if (!problem.empty() || url->has_query || url->has_fragment)
      throw Error(ErrorKind::config, "--host " + o.host + ": " + (problem.empty() ? "no query or fragment allowed" : problem));
    s.profile.name = name;
    s.profile.host = o.host;
    s.is_new = true;
  }
  Profile& p = s.profile;
  if (!o.client_id.empty()) p.client_id = o.client_id;
  if (!o.account_id.empty()) p.account_id = o.account_id;
  if (o.port) p.redirect_port = *o.port;
  if (!o.scopes.empty()) {
    std::vector<std::string> scopes;
    std::istringstream words(o.scopes);
    for (std::string w; words >> w;) scopes.push_back(w);
    p.scopes = scopes;
  }
  return s;
}

bool wants_openid(const ClientSettings& c) {
  return std::find(c.scopes.begin(), c.scopes.end(), "openid") != c.scopes.end();
}

void open_browser(const LoginOptions& o, Context& ctx, const std::string& url) {
  ctx.notice("To sign in, open this URL in a browser:");
  ctx.notice("");
  ctx.notice("  " + url);
  ctx.notice("");
  if (o.no_browser) return;
  std::string why_not;
  if (!ctx.browser().open(url, why_not)) ctx.warn("could not open a browser (" + why_not + "); open the URL above by hand");
}

// Reads redirect addresses pasted on a terminal (a browser on another machine, whose redirect to
// this machine's loopback address failed), for the listener to watch beside its socket.
class PasteReader {
public:
  PasteReader(Context& ctx, std::string redirect, bool bare) : m_ctx(ctx), m_redirect(std::move(redirect)), m_bare(bare) {}

  // Read what is there; return the query of a complete pasted redirect address, if one came.
  std::optional<std::string> read() {
    char buf[4096];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      m_eof = true;
      return std::nullopt;
    }
    m_buffer.append(buf, static_cast<std::size_t>(n));
    if (m_buffer.size() > 64 * 1024) m_buffer.clear();
    for (auto nl = m_buffer.find('\n'); nl != std::string::npos; nl = m_buffer.find('\n')) {
      std::string line = m_buffer.substr(0, nl);
      m_buffer.erase(0, nl + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      if (line.empty()) continue;
      for (const std::string& prefix : {m_redirect + "?", m_bare ? m_redirect + "/?" : std::string()})
        if (!prefix.empty() && line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      m_ctx.notice("tokenctl: that is not the address of this login; paste the whole address, starting with " +
                   m_redirect + "?");
    }
    return std::nullopt;
  }
  [[nodiscard]] bool eof() const { return m_eof; }

private:
  Context& m_ctx;
  std::string m_redirect;
  bool m_bare;
  std::string m_buffer;
  bool m_eof = false;
};

// Wait for the browser's redirect (or, with `paste`, a pasted redirect address) and return the code.
std::string wait_for_code(Context& ctx, net::LoopbackListener& listener, const ClientSettings& client,
                          const std::string& redirect, const CallbackExpectation& expect, Seconds timeout, bool paste) {
  CallbackResult result;
  bool answered = false;   // a callback or pasted address carrying this login's state came
  int ignored = 0;         // ones that did not (forged or stale), answered 400 and ignored
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string path = client.redirect_path.empty() ? "/" : client.redirect_path;
  std::string timeout_message =
      "no answer from the browser within " + format_duration(timeout) + "; run tokenctl login again";
  // Anyone on this machine can send the listener a request, so one without this login's state
  // must not end the login: it is answered 400, reported once, and the login goes on waiting.
  const auto ignore = [&](const char* what, bool always) {
    if (ignored++ == 0 || always)
      ctx.warn(std::string("ignored ") + what + " whose state does not match this login (a forged or stale "
               "redirect); still waiting for the browser");
    timeout_message = "no answer from the browser within " + format_duration(timeout) + " (" +
                      std::to_string(ignored) + " callback" + (ignored == 1 ? "" : "s") +
                      " for another login ignored); run tokenctl login again";
  };
  const net::CallbackHandler handler = [&](std::string_view request_path, std::string_view query) {
    if (request_path != path) return net::CallbackReply{404, status_page(404, "Not Found"), false};
    CallbackResult checked = check_callback(query, expect);
    if (checked.kind == CallbackResult::Kind::foreign) {
      ignore("a callback", false);
      return net::CallbackReply{400, error_page(checked.error, "This is not the sign-in tokenctl is waiting for."), false};
    }
    result = std::move(checked);
    answered = true;
    if (result.kind == CallbackResult::Kind::code) return net::CallbackReply{200, success_page(), true};
    return net::CallbackReply{400, error_page(result.error, result.error_description), true};
  };
  if (paste) {
    ctx.notice("If the browser is on another machine, sign in there, then paste here the address it was sent to");
    ctx.notice("(it starts with " + redirect + "?) and press Enter.");
    PasteReader reader(ctx, redirect, client.redirect_path.empty());
    net::FdWatch watch;
    watch.fd = STDIN_FILENO;
    watch.on_readable = [&] {
      const auto query = reader.read();
      if (!query) return reader.eof();
      CallbackResult checked = check_callback(*query, expect);
      if (checked.kind == CallbackResult::Kind::foreign) {
        ignore("a pasted address", true);  // someone is typing: say it every time
        return false;
      }
      result = std::move(checked);
      answered = true;
      return true;
    };
    listener.serve(deadline, timeout_message, handler, watch);
    if (!answered) listener.serve(deadline, timeout_message, handler);  // stdin ended: the browser may still come
  } else {
    listener.serve(deadline, timeout_message, handler);
  }
  if (result.kind == CallbackResult::Kind::denied) {
    std::string message = "the authorization server refused the login: " + result.error;
    if (!result.error_description.empty()) message += ": " + result.error_description;
    throw Error(ErrorKind::failure, message);
  }
  if (result.kind == CallbackResult::Kind::rejected)
    throw Error(ErrorKind::failure, "login refused: " + result.error, "run tokenctl login again");
  return result.code;
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
  if (wants_openid(client)) request.nonce = random_token(ctx.random().bytes(24));
  request.extra_params = p.auth_params;
  open_browser(o, ctx, authorization_url(request));

  CallbackExpectation expect{request.state, endpoints.issuer, endpoints.iss_parameter_supported};
  const bool paste = o.no_browser && ::isatty(STDIN_FILENO) == 1;
  const std::string code = wait_for_code(ctx, listener, client, redirect, expect, timeout, paste);
  const ClientAuth auth = choose_client_auth(client.client_id, client_secret(p), endpoints.token_endpoint_auth_methods,
                                            p.token_endpoint_auth_method);
  const TimePoint sent_at = ctx.now();
  const HttpRequest exchange = form_post(endpoints.token_endpoint,
                                         {{"grant_type", "authorization_code"},
                                          {"code", code},
                                          {"redirect_uri", redirect},
                                          {"code_verifier", verifier}},
                                         auth, p.ca_file.value_or(""));
  // A code is single-use: the exchange is sent once, never retried.
  const TokenResponse response = parse_token_response(ctx.http().send(exchange), {endpoints.token_endpoint, auth.method});
  TokenSet set = new_token_set(response, sent_at, client.scopes, client.client_id, endpoints);
  if (!set.id_token.empty())
    check_id_token(set.id_token, {endpoints.issuer, client.client_id, request.nonce, ctx.now()});
  else if (!request.nonce.empty())
    ctx.warn("the server returned no id token although openid was requested");
  return set;
}

TokenSet device_flow(const LoginOptions& o, Context& ctx, const Profile& p, const ClientSettings& client,
                     const Endpoints& endpoints, Seconds timeout) {
  if (endpoints.device_authorization_endpoint.empty())
    throw Error(ErrorKind::failure, "the server for " + p.host + " does not offer the device authorization grant "
                                    "(its metadata has no device_authorization_endpoint)",
                "log in without --device");
  const std::string ca = p.ca_file.value_or("");
  const ClientAuth auth = choose_client_auth(client.client_id, client_secret(p), endpoints.token_endpoint_auth_methods,
                                            p.token_endpoint_auth_method);
  Params params;
  if (!client.scopes.empty()) {
    std::string scope;
    for (const auto& sc : client.scopes) scope += (scope.empty() ? "" : " ") + sc;
    params.emplace_back("scope", scope);
  }
  const std::string& endpoint = endpoints.device_authorization_endpoint;
  const DeviceAuthorization device =
      parse_device_authorization(ctx.http().send(form_post(endpoint, params, auth, ca)), endpoint);
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
    const std::string& url = device.verification_uri_complete.empty() ? device.verification_uri
                                                                       : device.verification_uri_complete;
    if (!ctx.browser().open(url, why_not)) ctx.warn("could not open a browser (" + why_not + ")");
  }
  const TimePoint sent_at = ctx.now();
  const TokenResponse response = poll_device_token(ctx.http(), ctx.clock(), endpoints.token_endpoint, auth, device,
                                                   timeout, ca);
  TokenSet set = new_token_set(response, sent_at, client.scopes, client.client_id, endpoints);
  if (!set.id_token.empty()) check_id_token(set.id_token, {endpoints.issuer, client.client_id, "", ctx.now()});
  return set;
}

std::string who(const TokenSet& set) {
  if (set.id_token.empty()) return "";
  const auto claims = jwt_claims(set.id_token);
  return claims ? describe_subject(*claims) : "";
}

void save(Context& ctx, const SettledProfile& s, const TokenSet& set) {
  // A damaged cache is what a fresh login repairs: it is replaced rather than refused.
  ctx.store().update(
      [&](TokenCache& cache) {
        cache.tokens[s.profile.name] = set;
        return true;
      },
      sys::TokenStore::OnDamaged::start_empty);
  if (!s.is_new) return;
  const std::string path = ctx.config().path;
  const auto text = sys::read_file(path, 4 * 1024 * 1024, ErrorKind::config).value_or("");
  sys::save_config_text(path, upsert_profile(text, s.profile, path));
  ctx.info("Added profile \"" + s.profile.name + "\" to " + path + ".");
}

int run_login(const LoginOptions& o, Context& ctx) {
  const auto timeout = duration_option(o.timeout, "--timeout");
  if (!timeout || *timeout <= Seconds(0))
    throw Error(ErrorKind::usage, "--timeout: the duration must be more than 0", "use a number with s, m or h: 90s, 5m, 1h");
  if (!o.host.empty()) ctx.allow_new_config_file();
  const SettledProfile settled = settle_profile(o, ctx);
  const Profile& p = settled.profile;
  const ClientSettings client = resolve_client(p);
  const std::string ca = p.ca_file.value_or("");
  const Endpoints endpoints = discover(ctx.http(), client, ca);
  TokenSet set;
  if (p.grant == Grant::client_credentials) {
    const ClientAuth auth = choose_client_auth(client.client_id, client_secret(p), endpoints.token_endpoint_auth_methods,
                                            p.token_endpoint_auth_method);
    set = client_credentials_grant(ctx.http(), ctx.clock(), endpoints, auth, client.scopes, ca);
  } else if (o.device) {
    set = device_flow(o, ctx, p, client, endpoints, *timeout);
  } else {
    set = code_flow(o, ctx, p, client, endpoints, *timeout);
  }
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
  app->add_option("--timeout", o->timeout, "How long to wait for the browser (default 5m)");
  return {app, [o](Context& ctx) { return run_login(*o, ctx); }};
}

} // namespace tokenctl::cli
