#include "tokenctl/discovery.hpp"

#include <nlohmann/json.hpp>

#include "tokenctl/error.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

std::string string_member(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void check_endpoint(const std::string& value, const char* key, const std::string& url, bool required) {
  if (value.empty()) {
    if (required) throw Error(ErrorKind::failure, "metadata at " + url + " has no " + key);
    return;
  }
  const std::string problem = endpoint_url_problem(value);
  if (!problem.empty())
    throw Error(ErrorKind::failure,
                "the server's metadata at " + url + " lists " + key + " " + value +
                    ", which tokenctl will not use: " + problem,
                "the server is misconfigured (or not the one meant); tell its administrators, or name the "
                "endpoints in the profile");
}

} // namespace

Endpoints parse_metadata(std::string_view body, const std::string& expected_issuer, const std::string& url) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) throw Error(ErrorKind::network, "metadata at " + url + " is not a JSON object");
  Endpoints e;
  e.issuer = string_member(doc, "issuer");
  if (e.issuer != expected_issuer)
    throw Error(ErrorKind::failure,
                "metadata at " + url + " names the issuer \"" + e.issuer + "\", but the profile expects \"" +
                    expected_issuer + "\"; they must be identical (RFC 8414 section 3.3)",
                "set the profile's host to the server's exact issuer");
  e.authorization_endpoint = string_member(doc, "authorization_endpoint");
  e.token_endpoint = string_member(doc, "token_endpoint");
  e.revocation_endpoint = string_member(doc, "revocation_endpoint");
  e.device_authorization_endpoint = string_member(doc, "device_authorization_endpoint");
  e.userinfo_endpoint = string_member(doc, "userinfo_endpoint");
  check_endpoint(e.authorization_endpoint, "authorization_endpoint", url, false);
  check_endpoint(e.token_endpoint, "token_endpoint", url, true);
  check_endpoint(e.revocation_endpoint, "revocation_endpoint", url, false);
  check_endpoint(e.device_authorization_endpoint, "device_authorization_endpoint", url, false);
  check_endpoint(e.userinfo_endpoint, "userinfo_endpoint", url, false);
  for (const auto& [key, out] : {std::pair<const char*, std::vector<std::string>*>{
                                     "token_endpoint_auth_methods_supported", &e.token_endpoint_auth_methods},
                                 {"grant_types_supported", &e.grant_types}})
    if (const auto it = doc.find(key); it != doc.end() && it->is_array())
      for (const auto& m : *it)
        if (m.is_string()) out->push_back(m.get<std::string>());
  if (const auto it = doc.find("authorization_response_iss_parameter_supported"); it != doc.end())
    e.iss_parameter_supported = it->is_boolean() && it->get<bool>();
  return e;
}

Endpoints discover(HttpClient& http, const ClientSettings& client, const std::string& ca_file) {
  std::string tried;
  for (const auto& url : client.discovery_urls) {
    HttpRequest request;
    request.url = url;
    request.headers = {{"Accept", "application/json"}};
    request.ca_file = ca_file;
    const HttpResponse response = http.send(request);
    if (response.status == 200) {
      Endpoints e = parse_metadata(response.body, client.issuer, url);
      if (client.fallback && !client.fallback->revocation_endpoint.empty() && e.revocation_endpoint.empty())
        e.revocation_endpoint = client.fallback->revocation_endpoint;
      // What the profile names wins over what the server publishes.
      for (const auto& [mine, theirs] : {std::pair{&client.pinned.authorization_endpoint, &e.authorization_endpoint},
                                         std::pair{&client.pinned.token_endpoint, &e.token_endpoint},
                                         std::pair{&client.pinned.revocation_endpoint, &e.revocation_endpoint}})
        if (!mine->empty()) *theirs = *mine;
      return e;
    }
    if (response.status >= 500 || response.status == 429)
      throw Error(ErrorKind::network,
                  "metadata request to " + url + " failed with HTTP " + std::to_string(response.status));
    tried += (tried.empty() ? "" : ", ") + url + " (HTTP " + std::to_string(response.status) + ")";
  }
  if (client.fallback && !client.fallback->token_endpoint.empty()) return *client.fallback;
  throw Error(ErrorKind::failure, "no authorization server metadata found for " + client.issuer + ": tried " + tried,
              "check the profile's host, or set authorization_endpoint and token_endpoint");
}

} // namespace tokenctl
