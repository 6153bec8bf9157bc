#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/text.hpp"

#include <algorithm>

#include "core/json_guard.hpp"
#include "tokenctl/client_assertion.hpp"
#include "tokenctl/encoding.hpp"
#include "tokenctl/jwt.hpp"

namespace tokenctl {
namespace {

constexpr std::int64_t k_max_expires_in = 10LL * 365 * 24 * 3600;
constexpr int k_max_response_depth = 16;

std::string str(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A lifetime in seconds as a number or a string of digits, capped at ten years; nullopt
// when absent or not a number. `zero_means_unknown`: Keycloak's refresh_expires_in of 0 means
// "does not expire"; an expires_in of 0 or less means the token is expired on arrival.
std::optional<Seconds> lifetime_of(const nlohmann::json& doc, const char* key, bool zero_means_unknown) {
  const auto it = doc.find(key);
  if (it == doc.end()) return std::nullopt;
  double value = 0;
  if (it->is_number()) {
    value = it->get<double>();
  } else if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    value = static_cast<double>(std::stoll(s));
  } else {
    return std::nullopt;
  }
  if (!(value > 0)) return zero_means_unknown ? std::nullopt : std::optional<Seconds>(Seconds(0));
  return Seconds(static_cast<std::int64_t>(std::min(value, double(k_max_expires_in))));
}

std::optional<std::vector<std::string>> scopes_of(const std::string& scope) {
  if (scope.empty()) return std::nullopt;
  const char sep = scope.find(' ') == std::string::npos && scope.find(',') != std::string::npos ? ',' : ' ';
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= scope.size()) {
    const auto end = std::min(scope.find(sep, start), scope.size());
    if (end > start) out.push_back(scope.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

nlohmann::json form_as_json(std::string_view body) {
  nlohmann::json doc = nlohmann::json::object();
  if (const auto params = parse_params(body))
    for (const auto& [k, v] : *params) doc[k] = v;
  return doc;
}

// Server text in a message: shortened here, sanitized where it is printed.
std::string printable(std::string_view s) { return shorten(s, 300); }

bool all_chars(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// What to look at when the token endpoint refuses a request with `code`, or "".
std::string hint_for(std::string_view code, std::optional<AuthMethod> method) {
  if (code == "invalid_client") {
    if (method == AuthMethod::private_key_jwt)
      return "check the profile's client_id, and that the server holds the public key of client_assertion_key_file "
             "(and its kid), or trusts the identity token of client_assertion for this client";
    std::string used = method ? " (tokenctl used " + std::string(auth_method_name(*method)) + ")" : "";
    return "check the profile's client_id, the secret in client_secret_env, and token_endpoint_auth_method" + used +
           ": some servers take the secret only in the form body (client_secret_post)";
  }
  if (code == "invalid_scope")
    return "check the profile's scopes: the server does not grant one of them to this client";
  if (code == "unauthorized_client")
    return "the client may not use this grant: check the profile's grant and client_id, or the client's settings at "
           "the server";
  if (code == "unsupported_grant_type") return "the server does not offer this grant: check the profile's grant";
  return "";
}

} // namespace

ClientAuth choose_client_auth(const std::string& client_id, const std::optional<std::string>& secret,
                              const std::vector<std::string>& server_methods, std::optional<AuthMethod> configured) {
  ClientAuth auth;
  auth.client_id = client_id;
  if (secret) auth.secret = *secret;
  if (configured) {
    auth.method = *configured;
    return auth;
  }
  if (!secret) return auth;
  const auto lists = [&](std::string_view m) { return contains(server_methods, m); };
  auth.method = !server_methods.empty() && !lists("client_secret_basic") && lists("client_secret_post")
                    ? AuthMethod::client_secret_post
                    : AuthMethod::client_secret_basic;
  return auth;
}

HttpRequest form_post(const std::string& endpoint, Params params, const ClientAuth& auth, const std::string& ca_file) {
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint;
  request.ca_file = ca_file;
  request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  switch (auth.method) {
  case AuthMethod::none:
    if (!auth.client_id.empty()) params.emplace_back("client_id", auth.client_id); // an exchange may name none
    break;
  case AuthMethod::client_secret_post:
    params.emplace_back("client_id", auth.client_id);
    params.emplace_back("client_secret", auth.secret);
    break;
  case AuthMethod::private_key_jwt:
    params.emplace_back("client_id", auth.client_id);
    for (auto& kv : client_assertion_params(auth.assertion)) params.push_back(std::move(kv));
    break;
  case AuthMethod::client_secret_basic:
    request.headers.emplace_back(
        "Authorization", "Basic " + base64_encode(form_encode(auth.client_id) + ":" + form_encode(auth.secret)));
    break;
  }
  request.body = encode_params(params);
  return request;
}

TokenResponse parse_token_response(const HttpResponse& response, const std::string& endpoint) {
  return parse_token_response(response, TokenRequestInfo{endpoint, std::nullopt});
}

namespace {

// The body as a JSON object (a form body too, as some servers send); anything else as not one.
nlohmann::json response_document(const HttpResponse& response) {
  const std::string content_type = response.header("Content-Type");
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos ||
      content_type.find("text/plain") != std::string::npos)
    return form_as_json(response.body);
  if (json_nesting_depth(response.body, k_max_response_depth) <= k_max_response_depth)
    return nlohmann::json::parse(response.body, nullptr, false);
  return nlohmann::json();
}

// Throw for any answer that is not a success with a JSON object: a redirect, an OAuth error, a
// status that means trouble or refusal, a body that is not an object.
void check_token_answer(const HttpResponse& response, const nlohmann::json& doc, const TokenRequestInfo& request) {
  const std::string& endpoint = request.endpoint;
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status >= 300 && response.status <= 399)
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " answered with a redirect (" + status +
                                        "), which tokenctl does not follow for requests that carry credentials");
  if (doc.is_object() && doc.contains("error")) {
    const std::string code = str(doc, "error");
    const std::string description = str(doc, "error_description");
    std::string message = "the token endpoint " + endpoint + " answered " + printable(code);
    if (!description.empty()) message += ": " + printable(description);
    const ErrorKind kind = response.status >= 500 || response.status == 429 ? ErrorKind::network : ErrorKind::failure;
    throw OAuthError(kind, message, code, description, hint_for(code, request.auth_method));
  }
  if (response.status >= 500 || response.status == 429 || response.status == 408)
    throw Error(ErrorKind::network, "the token endpoint " + endpoint + " failed with " + status);
  if (response.status >= 400)
    throw Error(ErrorKind::failure,
                "the token endpoint " + endpoint + " refused the request with " + status + " and no error code",
                response.status == 401 || response.status == 403 ? hint_for("invalid_client", request.auth_method)
                                                                 : std::string());
  if (!doc.is_object())
    throw Error(ErrorKind::network,
                "the token endpoint " + endpoint + " answered " + status + " with a body that is not a JSON object");
  if (response.status < 200 || response.status > 299)
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " refused the request with " + status);
}

// Every token is checked here, once, before anything is stored or printed. A refused access or
// id token still lets a valid new refresh token through (the old one may be spent already).
void check_tokens(const TokenResponse& r, const std::string& endpoint) {
  const bool refresh_ok = r.refresh_token.empty() || valid_refresh_token(r.refresh_token);
  const auto refuse = [&](const std::string& what) {
    throw UnusableTokenResponse("the token endpoint " + endpoint + " issued " + what + "; refusing the response",
                                refresh_ok ? r.refresh_token : std::string());
  };
  if (!valid_access_token(r.access_token))
    refuse(r.access_token.size() > k_max_token_bytes
               ? "an access token of " + std::to_string(r.access_token.size()) + " bytes (more than " +
                     std::to_string(k_max_token_bytes) + ")"
               : std::string("an access token with characters that are not allowed in a token (RFC 6750)"));
  if (!r.id_token.empty() && !valid_id_token(r.id_token)) refuse("an id token that is not a compact JWT");
  if (!refresh_ok) refuse("a refresh token that is too large or has characters that are not allowed");
}

} // namespace

TokenResponse parse_token_response(const HttpResponse& response, const TokenRequestInfo& request) {
  const std::string& endpoint = request.endpoint;
  const nlohmann::json doc = response_document(response);
  check_token_answer(response, doc, request);
  TokenResponse r;
  r.access_token = str(doc, "access_token");
  if (r.access_token.empty())
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " answered without an access_token");
  r.token_type = str(doc, "token_type");
  if (r.token_type.empty() || iequals(r.token_type, "bearer")) {
    r.token_type = "Bearer";
  } else {
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " issued a token of type \"" +
                                        printable(r.token_type) + "\"; tokenctl handles only Bearer tokens");
  }
  r.refresh_token = str(doc, "refresh_token");
  r.id_token = str(doc, "id_token");
  check_tokens(r, endpoint);
  r.expires_in = lifetime_of(doc, "expires_in", false);
  r.refresh_expires_in = lifetime_of(doc, "refresh_token_expires_in", true);
  if (!r.refresh_expires_in) r.refresh_expires_in = lifetime_of(doc, "refresh_expires_in", true);
  r.scopes = scopes_of(str(doc, "scope"));
  r.issued_token_type = str(doc, "issued_token_type");
  return r;
}

bool valid_access_token(std::string_view token) {
  if (token.empty() || token.size() > k_max_token_bytes) return false;
  const auto pad = token.find_last_not_of('=');
  if (pad == std::string_view::npos) return false;
  return all_chars(token.substr(0, pad + 1), [](char c) {
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  });
}

bool refresh_token_rejected(const OAuthError& e) {
  return e.code() == "invalid_grant" ||
         (e.code() == "invalid_request" && e.description().find("efresh token") != std::string::npos);
}

void check_token_for_output(std::string_view token) {
  if (!valid_access_token(token))
    throw Error(ErrorKind::failure, "the cached access token is not a token a header can carry (RFC 6750); refusing it",
                "run tokenctl refresh, or log in again");
}

bool valid_refresh_token(std::string_view token) {
  return !token.empty() && token.size() <= k_max_token_bytes &&
         all_chars(token, [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool valid_id_token(std::string_view token) {
  return !token.empty() && token.size() <= k_max_token_bytes &&
         all_chars(token, [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '='; });
}

TokenSet new_token_set(const TokenResponse& r, TimePoint sent_at, const std::vector<std::string>& requested_scopes,
                       const std::string& client_id, const Endpoints& endpoints) {
  TokenSet set;
  set.access_token = r.access_token;
  set.token_type = r.token_type;
  set.issued_at = sent_at;
  if (r.expires_in) set.expiry = sent_at + *r.expires_in;
  set.refresh_token = r.refresh_token;
  if (r.refresh_expires_in && !r.refresh_token.empty()) set.refresh_expiry = sent_at + *r.refresh_expires_in;
  set.id_token = r.id_token;
  set.scopes = r.scopes.value_or(requested_scopes);
  set.client_id = client_id;
  set.endpoints = endpoints;
  return set;
}

TokenSet refreshed_token_set(const TokenSet& old, const TokenResponse& r, TimePoint sent_at) {
  TokenSet set = old;
  set.access_token = r.access_token;
  set.token_type = r.token_type;
  set.issued_at = sent_at;
  set.expiry = r.expires_in ? std::optional<TimePoint>(sent_at + *r.expires_in) : std::nullopt;
  if (!r.refresh_token.empty()) set.refresh_token = r.refresh_token;
  if (r.refresh_expires_in) set.refresh_expiry = sent_at + *r.refresh_expires_in;
  if (!r.id_token.empty()) set.id_token = r.id_token;
  if (r.scopes) set.scopes = *r.scopes;
  return set;
}

nlohmann::json check_id_token(std::string_view id_token, const IdTokenExpectation& expect) {
  const auto claims = jwt_claims(id_token);
  if (!claims) throw Error(ErrorKind::failure, "the id token from the server is not a JWT");
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::failure, "the id token from the server is not for this login: " + what);
  };
  const std::string iss = str(*claims, "iss");
  if (!expect.issuer.empty() && iss != expect.issuer)
    fail("its issuer \"" + printable(iss) + "\" is not \"" + expect.issuer + "\"");
  const auto aud = claims->find("aud");
  bool audience_ok = false;
  std::size_t audiences = 0;
  if (aud != claims->end() && aud->is_string()) {
    audiences = 1;
    audience_ok = aud->get<std::string>() == expect.client_id;
  } else if (aud != claims->end() && aud->is_array()) {
    audiences = aud->size();
    for (const auto& a : *aud) audience_ok = audience_ok || (a.is_string() && a.get<std::string>() == expect.client_id);
  }
  if (!audience_ok) fail("its audience does not include the client \"" + expect.client_id + "\"");
  const std::string azp = str(*claims, "azp");
  if ((audiences > 1 || !azp.empty()) && azp != expect.client_id && !(azp.empty() && audiences <= 1))
    fail("its authorized party is not the client \"" + expect.client_id + "\"");
  if (const auto exp = claims->find("exp"); exp != claims->end()) {
    if (!exp->is_number()) fail("its exp is not a number");
    // Compared as a double: an exp of 1e300 or INT64_MAX is simply in the future, with no
    // conversion to an integer that could overflow.
    const double leeway = 120;
    if (exp->get<double>() + leeway < static_cast<double>(expect.now.time_since_epoch().count()))
      fail("it has expired");
  }
  if (!expect.nonce.empty() && str(*claims, "nonce") != expect.nonce) fail("its nonce does not match the request");
  if (expect.previous != nullptr) {
    // OpenID Connect Core 12.2: a refreshed id token is about the same user, from the same issuer,
    // for the same client.
    for (const char* claim : {"iss", "sub", "aud"}) {
      const auto before = expect.previous->find(claim);
      const auto now = claims->find(claim);
      const bool same = (before == expect.previous->end()) == (now == claims->end()) &&
                        (before == expect.previous->end() || *before == *now);
      if (!same) fail(std::string("its ") + claim + " differs from the id token it replaces");
    }
  }
  return *claims;
}

std::string describe_subject(const nlohmann::json& claims) {
  std::string who = str(claims, "preferred_username");
  if (who.empty()) who = str(claims, "email");
  if (who.empty()) who = str(claims, "sub");
  const std::string name = str(claims, "name");
  if (!name.empty() && name != who) who += (who.empty() ? "" : " ") + ("(" + name + ")");
  return printable(who);
}

} // namespace tokenctl
