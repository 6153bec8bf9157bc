// Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): parse_metadata's checks
// on one document, and discover()'s order over the client's discovery URLs, with a fake HttpClient.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/fakes.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;

namespace {

const std::string k_issuer = "https://as.example/realms/x";
const std::string k_url = "https://as.example/.well-known/oauth-authorization-server/realms/x";

// A metadata document for k_issuer with the given members after `issuer` and `token_endpoint`.
std::string metadata(const std::string& more = "", const std::string& issuer = k_issuer) {
  return R"({"issuer":")" + issuer + R"(","token_endpoint":"https://as.example/t")" + (more.empty() ? "" : "," + more) +
         "}";
}

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no error was thrown");
  return Error(ErrorKind::failure, "");
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ClientSettings oidc_client() {
  Profile p;
  p.name = "p";
  p.host = k_issuer;
  return resolve_client(p);
}

Endpoints fallback_endpoints() {
  Endpoints e;
  e.issuer = k_issuer;
  e.authorization_endpoint = "https://as.example/fallback/authorize";
  e.token_endpoint = "https://as.example/fallback/token";
  e.revocation_endpoint = "https://as.example/fallback/revoke";
  return e;
}

} // namespace

TEST_SUITE_BEGIN("core.discovery");

TEST_CASE("parse_metadata reads every endpoint and the lists tokenctl uses") {
  const auto e = parse_metadata(R"({
      "issuer": "https://as.example/realms/x",
      "authorization_endpoint": "https://as.example/a",
      "token_endpoint": "https://as.example/t",
      "revocation_endpoint": "https://as.example/r",
      "device_authorization_endpoint": "https://as.example/d",
      "userinfo_endpoint": "https://as.example/u",
      "grant_types_supported": ["authorization_code", "refresh_token"],
      "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
      "authorization_response_iss_parameter_supported": true,
      "jwks_uri": "https://as.example/jwks",
      "scopes_supported": ["openid"]})",
                                k_issuer, k_url);
  CHECK(e.issuer == k_issuer);
  CHECK(e.authorization_endpoint == "https://as.example/a");
  CHECK(e.token_endpoint == "https://as.example/t");
  CHECK(e.revocation_endpoint == "https://as.example/r");
  CHECK(e.device_authorization_endpoint == "https://as.example/d");
  CHECK(e.userinfo_endpoint == "https://as.example/u");
  CHECK(e.grant_types == std::vector<std::string>{"authorization_code", "refresh_token"});
  CHECK(e.token_endpoint_auth_methods == std::vector<std::string>{"client_secret_basic", "private_key_jwt"});
  CHECK(e.iss_parameter_supported);
}

TEST_CASE("parse_metadata: optional endpoints may be absent, the token endpoint may not") {
  const auto e = parse_metadata(metadata(), k_issuer, k_url);
  CHECK(e.token_endpoint == "https://as.example/t");
  CHECK(e.authorization_endpoint.empty());
  CHECK(e.revocation_endpoint.empty());
  CHECK(e.device_authorization_endpoint.empty());
  CHECK(e.userinfo_endpoint.empty());
  CHECK(e.grant_types.empty());
  CHECK(e.token_endpoint_auth_methods.empty());
  CHECK_FALSE(e.iss_parameter_supported);

  const Error missing =
      error_of([] { parse_metadata(R"({"issuer":"https://as.example/realms/x"})", k_issuer, k_url); });
  CHECK(missing.kind() == ErrorKind::failure);
  CHECK(missing.exit_code() == 1);
  CHECK(std::string(missing.what()) == "metadata at " + k_url + " has no token_endpoint");
  // A token endpoint that is not a string counts as absent.
  CHECK(error_of([] {
          parse_metadata(R"({"issuer":"https://as.example/realms/x","token_endpoint":7})", k_issuer, k_url);
        }).kind() == ErrorKind::failure);
}

TEST_CASE("parse_metadata: the issuer must be identical to the one expected") {
  for (const std::string issuer :
       {"https://as.example/realms/x/", "https://AS.example/realms/x", "https://as.example/realms/X",
        "http://as.example/realms/x", "https://as.example:443/realms/x", "https://as.example", ""}) {
    CAPTURE(issuer);
    const Error e = error_of([&] { parse_metadata(metadata("", issuer), k_issuer, k_url); });
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(has(e.what(), "\"" + issuer + "\""));
    CHECK(has(e.what(), "\"" + k_issuer + "\""));
    CHECK(has(e.what(), k_url));
    CHECK(e.hint() == "set the profile's host to the server's exact issuer");
  }
  CHECK(error_of([] { parse_metadata(R"({"token_endpoint":"https://as.example/t"})", k_issuer, k_url); }).kind() ==
        ErrorKind::failure);
  CHECK(error_of([] {
          parse_metadata(R"({"issuer":["https://as.example/realms/x"],"token_endpoint":"https://as.example/t"})",
                         k_issuer, k_url);
        }).kind() == ErrorKind::failure);
}

TEST_CASE("parse_metadata refuses an endpoint that is not https, unless on loopback") {
  for (const char* key : {"authorization_endpoint", "token_endpoint", "revocation_endpoint",
                          "device_authorization_endpoint", "userinfo_endpoint"}) {
    CAPTURE(key);
    const std::string doc = R"({"issuer":"https://as.example/realms/x","token_endpoint":"https://as.example/t",")" +
                            std::string(key) + R"(":"http://as.example/plain"})";
    const Error e = error_of([&] { parse_metadata(doc, k_issuer, k_url); });
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(has(e.what(), std::string(key) + " http://as.example/plain"));
    CHECK(has(e.what(), "plain http is allowed only for loopback hosts"));
    CHECK(has(e.hint(), "name the endpoints in the profile"));
  }
  CHECK(error_of([] {
          parse_metadata(metadata(R"("authorization_endpoint":"as.example/a")"), k_issuer, k_url);
        }).kind() == ErrorKind::failure);
  CHECK(error_of([] {
          parse_metadata(metadata(R"("revocation_endpoint":"https://as.example/r#x")"), k_issuer, k_url);
        }).kind() == ErrorKind::failure);

  const std::string local = "http://127.0.0.1:8080/realms/x";
  const auto e =
      parse_metadata(R"({"issuer":"http://127.0.0.1:8080/realms/x","token_endpoint":"http://127.0.0.1:8080/t",
      "authorization_endpoint":"http://localhost:8080/a"})",
                     local, "http://127.0.0.1:8080/.well-known/openid-configuration");
  CHECK(e.token_endpoint == "http://127.0.0.1:8080/t");
  CHECK(e.authorization_endpoint == "http://localhost:8080/a");
}

TEST_CASE("parse_metadata: token_endpoint_auth_methods_supported, strings only, in order") {
  CHECK(parse_metadata(
            metadata(R"("token_endpoint_auth_methods_supported":["private_key_jwt","none","client_secret_post"])"),
            k_issuer, k_url)
            .token_endpoint_auth_methods == std::vector<std::string>{"private_key_jwt", "none", "client_secret_post"});
  CHECK(parse_metadata(metadata(R"("token_endpoint_auth_methods_supported":["client_secret_basic",7,null,{},"none"])"),
                       k_issuer, k_url)
            .token_endpoint_auth_methods == std::vector<std::string>{"client_secret_basic", "none"});
  for (const char* not_a_list : {R"("client_secret_basic")", "{}", "null", "true", "[]"}) {
    CAPTURE(not_a_list);
    CHECK(parse_metadata(metadata(std::string(R"("token_endpoint_auth_methods_supported":)") + not_a_list), k_issuer,
                         k_url)
              .token_endpoint_auth_methods.empty());
  }
}

TEST_CASE("parse_metadata: the iss parameter flag is true only when the member is true") {
  const std::string key = R"("authorization_response_iss_parameter_supported":)";
  CHECK(parse_metadata(metadata(key + "true"), k_issuer, k_url).iss_parameter_supported);
  for (const char* value : {"false", R"("true")", "1", "null", "[true]", "{}"}) {
    CAPTURE(value);
    CHECK_FALSE(parse_metadata(metadata(key + value), k_issuer, k_url).iss_parameter_supported);
  }
  CHECK_FALSE(parse_metadata(metadata(), k_issuer, k_url).iss_parameter_supported);
}

TEST_CASE("parse_metadata: a body that is not a JSON object is server trouble (exit 4)") {
  for (const char* body : {"", "[]", R"(["issuer"])", R"("https://as.example/realms/x")", "42", "null",
                           "<html>Login</html>", R"({"issuer":"https://as.example/realms/x")"}) {
    CAPTURE(body);
    const Error e = error_of([&] { parse_metadata(body, k_issuer, k_url); });
    CHECK(e.kind() == ErrorKind::network);
    CHECK(e.exit_code() == 4);
    CHECK(std::string(e.what()) == "metadata at " + k_url + " is not a JSON object");
  }
}

TEST_CASE("discover asks the RFC 8414 URL first and stops at its answer") {
  const auto client = oidc_client();
  test::FakeHttp http;
  http.respond(200, metadata(R"("authorization_endpoint":"https://as.example/a")"));
  const auto e = discover(http, client, "/etc/ca.pem");
  CHECK(e.authorization_endpoint == "https://as.example/a");
  REQUIRE(http.requests.size() == 1);
  CHECK(http.requests[0].url == rfc8414_metadata_url(k_issuer));
  CHECK(http.requests[0].url == k_url);
  CHECK(http.requests[0].method == "GET");
  CHECK(http.requests[0].headers == Headers{{"Accept", "application/json"}});
  CHECK(http.requests[0].ca_file == "/etc/ca.pem");
}

TEST_CASE("discover: a 4xx moves on to the OpenID Connect URL") {
  for (long status : {400L, 401L, 403L, 404L, 410L}) {
    CAPTURE(status);
    test::FakeHttp http;
    http.respond(status, "no");
    http.respond(200, metadata());
    const auto e = discover(http, oidc_client(), "");
    CHECK(e.token_endpoint == "https://as.example/t");
    REQUIRE(http.requests.size() == 2);
    CHECK(http.requests[0].url == rfc8414_metadata_url(k_issuer));
    CHECK(http.requests[1].url == oidc_discovery_url(k_issuer));
    CHECK(http.requests[1].url == "https://as.example/realms/x/.well-known/openid-configuration");
  }
}

TEST_CASE("discover: a 5xx or a 429 is server trouble (exit 4), and nothing more is asked") {
  for (long status : {500L, 502L, 503L, 504L, 429L}) {
    CAPTURE(status);
    test::FakeHttp http;
    http.respond(status, "busy");
    http.respond(200, metadata());
    const Error e = error_of([&] { discover(http, oidc_client(), ""); });
    CHECK(e.kind() == ErrorKind::network);
    CHECK(e.exit_code() == 4);
    CHECK(std::string(e.what()) == "metadata request to " + k_url + " failed with HTTP " + std::to_string(status));
    CHECK(http.requests.size() == 1);
  }
  test::FakeHttp http;
  http.respond(404, "");
  http.respond(500, "");
  CHECK(error_of([&] { discover(http, oidc_client(), ""); }).kind() == ErrorKind::network);
  CHECK(http.requests.size() == 2);
}

TEST_CASE("discover: a document found is checked, not skipped for the next URL") {
  test::FakeHttp http;
  http.respond(200, metadata("", "https://other.example"));
  http.respond(200, metadata());
  CHECK(error_of([&] { discover(http, oidc_client(), ""); }).kind() == ErrorKind::failure);
  CHECK(http.requests.size() == 1);
}

TEST_CASE("discover: nothing found and no fallback names every URL tried (exit 1)") {
  test::FakeHttp http;
  http.respond(404, "");
  http.respond(403, "");
  const Error e = error_of([&] { discover(http, oidc_client(), ""); });
  CHECK(e.kind() == ErrorKind::failure);
  CHECK(std::string(e.what()) ==
        "no authorization server metadata found for " + k_issuer + ": tried " + k_url +
            " (HTTP 404), https://as.example/realms/x/.well-known/openid-configuration (HTTP 403)");
  CHECK(has(e.hint(), "authorization_endpoint and token_endpoint"));
}

TEST_CASE("discover: the fallback endpoints when discovery finds nothing, or when there is none") {
  ClientSettings client = oidc_client();
  client.fallback = fallback_endpoints();
  SUBCASE("every URL answers 4xx") {
    test::FakeHttp http;
    http.respond(404, "");
    http.respond(404, "");
    const auto e = discover(http, client, "");
    CHECK(e.token_endpoint == "https://as.example/fallback/token");
    CHECK(e.authorization_endpoint == "https://as.example/fallback/authorize");
    CHECK(http.requests.size() == 2);
  }
  SUBCASE("no discovery URL: no request at all") {
    client.discovery_urls.clear();
    test::FakeHttp http;
    CHECK(discover(http, client, "").token_endpoint == "https://as.example/fallback/token");
    CHECK(http.requests.empty());
  }
  SUBCASE("a fallback without a token endpoint is no fallback") {
    client.fallback->token_endpoint.clear();
    test::FakeHttp http;
    http.respond(404, "");
    http.respond(404, "");
    CHECK(error_of([&] { discover(http, client, ""); }).kind() == ErrorKind::failure);
  }
  SUBCASE("a 5xx is not covered by the fallback") {
    test::FakeHttp http;
    http.respond(503, "");
    CHECK(error_of([&] { discover(http, client, ""); }).kind() == ErrorKind::network);
  }
}

TEST_CASE("discover: metadata without a revocation endpoint takes the fallback's") {
  ClientSettings client = oidc_client();
  client.fallback = fallback_endpoints();
  SUBCASE("absent from the metadata: the fallback's") {
    test::FakeHttp http;
    http.respond(200, metadata());
    const auto e = discover(http, client, "");
    CHECK(e.token_endpoint == "https://as.example/t");
    CHECK(e.revocation_endpoint == "https://as.example/fallback/revoke");
  }
  SUBCASE("in the metadata: the metadata's") {
    test::FakeHttp http;
    http.respond(200, metadata(R"("revocation_endpoint":"https://as.example/r")"));
    CHECK(discover(http, client, "").revocation_endpoint == "https://as.example/r");
  }
  SUBCASE("nothing else is taken from the fallback") {
    test::FakeHttp http;
    http.respond(200, metadata());
    CHECK(discover(http, client, "").authorization_endpoint.empty());
  }
}

TEST_SUITE_END();
