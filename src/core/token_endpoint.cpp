#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/text.hpp"

#include <algorithm>
#include <cctype>

#include "core/json_guard.hpp"
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

// expires_in as a number or a string of digits (IOP-1); anything else, 0 or negative: unknown.
std::optional<Seconds> expires_in_of(const nlohmann::json& doc) {
  const auto it = doc.find("expires_in");
  if (it == doc.end()) return std::nullopt;
  std::int64_t value = 0;
  if (it->is_number_integer()) {
    value = it->get<std::int64_t>();
  } else if (it->is_number_float()) {
    value = static_cast<std::int64_t>(std::min(it->get<double>(), double(k_max_expires_in)));
  } else if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    value = std::stoll(s);
  } else {
    return std::nullopt;
  }
  if (value <= 0) return std::nullopt;
  return Seconds(std::min(value, k_max_expires_in));
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

} // namespace

ClientAuth choose_client_auth(const std::string& client_id, const std::optional<std::string>& secret,
                              const std::vector<std::string>& server_methods) {
  ClientAuth auth;
  auth.client_id = client_id;
  if (!secret) return auth;
  auth.secret = *secret;
  const auto lists = [&](std::string_view m) {
    return std::find(server_methods.begin(), server_methods.end(), m) != server_methods.end();
  };
  auth.method = !server_methods.empty() && !lists("client_secret_basic") && lists("client_secret_post")
                    ? ClientAuth::Method::post
                    : ClientAuth::Method::basic;
  return auth;
}

HttpRequest form_post(const std::string& endpoint, Params params, const ClientAuth& auth, const std::string& ca_file) {
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint;
  request.ca_file = ca_file;
  request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  switch (auth.method) {
  case ClientAuth::Method::none:
    params.emplace_back("client_id", auth.client_id);
    break;
  case ClientAuth::Method::post:
    params.emplace_back("client_id", auth.client_id);
    params.emplace_back("client_secret", auth.secret);
    break;
  case ClientAuth::Method::basic:
    request.headers.emplace_back(
        "Authorization", "Basic " + base64_encode(form_encode(auth.client_id) + ":" + form_encode(auth.secret)));
    break;
  }
  request.body = encode_params(params);
  return request;
}

TokenResponse parse_token_response(const HttpResponse& response, const std::string& endpoint) {
  const std::string content_type = response.header("Content-Type");
  nlohmann::json doc;
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos ||
      content_type.find("text/plain") != std::string::npos) {
    doc = form_as_json(response.body);
  } else if (json_nesting_depth(response.body, k_max_response_depth) <= k_max_response_depth) {
    doc = nlohmann::json::parse(response.body, nullptr, false);
  }
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status >= 300 && response.status <= 399)
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " answered with a redirect (" + status +
                                        "), which tokenctl does not follow for requests that carry credentials");
  if (doc.is_object() && doc.contains("error")) {
    const std::string code = printable(str(doc, "error"));
    const std::string description = printable(str(doc, "error_description"));
    std::string message = "the token endpoint " + endpoint + " answered " + code;
    if (!description.empty()) message += ": " + description;
    const ErrorKind kind = response.status >= 500 || response.status == 429 ? ErrorKind::network : ErrorKind::failure;
    throw OAuthError(kind, message, code, description);
  }
  if (response.status >= 500 || response.status == 429 || response.status == 408)
    throw Error(ErrorKind::network, "the token endpoint " + endpoint + " failed with " + status);
  if (!doc.is_object())
    throw Error(ErrorKind::network, "the token endpoint " + endpoint + " answered " + status +
                                        " with a body that is not a JSON object");
  if (response.status < 200 || response.status > 299)
    throw Error(ErrorKind::failure, "the token endpoint " + endpoint + " refused the request with " + status);
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
  r.expires_in = expires_in_of(doc);
  r.scopes = scopes_of(str(doc, "scope"));
  return r;
}

TokenSet new_token_set(const TokenResponse& r, TimePoint sent_at, const std::vector<std::string>& requested_scopes,
                       const std::string& client_id, const Endpoints& endpoints) {
  TokenSet set;
  set.access_token = r.access_token;
  set.token_type = r.token_type;
  set.issued_at = sent_at;
  if (r.expires_in) set.expiry = sent_at + *r.expires_in;
  set.refresh_token = r.refresh_token;
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
  if (const auto exp = claims->find("exp"); exp != claims->end() && exp->is_number()) {
    const auto leeway = std::chrono::seconds(120);
    if (TimePoint(Seconds(exp->get<std::int64_t>())) + leeway < expect.now) fail("it has expired");
  }
  if (!expect.nonce.empty() && str(*claims, "nonce") != expect.nonce) fail("its nonce does not match the request");
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
