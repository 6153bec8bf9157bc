#include <doctest/doctest.h>

#include "support/fakes.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/discovery.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.client");

namespace {
Profile profile(std::string host) {
  Profile p;
  p.name = "p";
  p.host = std::move(host);
  return p;
}
} // namespace

TEST_CASE("discovery URLs: RFC 8414 inserted, then OIDC appended") {
  CHECK(rfc8414_metadata_url("https://example.com/issuer1") ==
        "https://example.com/.well-known/oauth-authorization-server/issuer1");
  CHECK(rfc8414_metadata_url("https://example.com/") == "https://example.com/.well-known/oauth-authorization-server");
  CHECK(rfc8414_metadata_url("https://example.com") == "https://example.com/.well-known/oauth-authorization-server");
  CHECK(oidc_discovery_url("https://example.com/issuer1/") ==
        "https://example.com/issuer1/.well-known/openid-configuration");
  const auto c = resolve_client(profile("https://login.example.com/realms/corp"));
  CHECK_FALSE(c.databricks);
  CHECK(c.discovery_urls ==
        std::vector<std::string>{"https://login.example.com/.well-known/oauth-authorization-server/realms/corp",
                                 "https://login.example.com/realms/corp/.well-known/openid-configuration"});
  CHECK(c.issuer == "https://login.example.com/realms/corp");
  CHECK(c.client_id == "tokenctl");
  CHECK(redirect_uri(c, 4711) == "http://127.0.0.1:4711/callback");
}

TEST_CASE("Databricks workspace, account and provider override") {
  auto c = resolve_client(profile("https://dbc-a1b2345c-d6e7.cloud.databricks.com/"));
  CHECK(c.databricks);
  CHECK(c.client_id == "databricks-cli");
  CHECK(c.scopes == std::vector<std::string>{"all-apis", "offline_access"});
  CHECK(c.redirect_port == 8020);
  CHECK(redirect_uri(c, 8020) == "http://localhost:8020");
  CHECK(c.issuer == "https://dbc-a1b2345c-d6e7.cloud.databricks.com/oidc");
  CHECK(c.discovery_urls ==
        std::vector<std::string>{
            "https://dbc-a1b2345c-d6e7.cloud.databricks.com/oidc/.well-known/oauth-authorization-server"});
  REQUIRE(c.fallback);
  CHECK(c.fallback->authorization_endpoint == "https://dbc-a1b2345c-d6e7.cloud.databricks.com/oidc/v1/authorize");
  CHECK(c.fallback->token_endpoint == "https://dbc-a1b2345c-d6e7.cloud.databricks.com/oidc/v1/token");

  auto account = profile("https://accounts.cloud.databricks.com");
  account.account_id = "abc-123";
  c = resolve_client(account);
  CHECK(c.issuer == "https://accounts.cloud.databricks.com/oidc/accounts/abc-123");
  CHECK(c.discovery_urls.empty());
  CHECK(c.fallback->token_endpoint == "https://accounts.cloud.databricks.com/oidc/accounts/abc-123/v1/token");

  CHECK(is_databricks(profile("https://adb-1.2.azuredatabricks.net")));
  CHECK(is_databricks(profile("https://1.2.gcp.databricks.com")));
  auto custom = profile("https://data.corp.example");
  CHECK_FALSE(is_databricks(custom));
  custom.provider = Provider::databricks;
  CHECK(is_databricks(custom));
  auto forced = profile("https://x.cloud.databricks.com");
  forced.provider = Provider::oidc;
  CHECK_FALSE(is_databricks(forced));
}

TEST_CASE("endpoint keys in the profile skip discovery") {
  auto p = profile("https://as.example");
  p.authorization_endpoint = "https://as.example/a";
  p.token_endpoint = "https://as.example/t";
  const auto c = resolve_client(p);
  CHECK(c.discovery_urls.empty());
  test::FakeHttp http;
  const auto e = discover(http, c, "");
  CHECK(http.requests.empty());
  CHECK(e.token_endpoint == "https://as.example/t");
}

TEST_CASE("discovery: the issuer must match exactly - 404 moves on - fallback for Databricks") {
  test::FakeHttp http;
  const auto c = resolve_client(profile("https://as.example/realms/x"));
  SUBCASE("RFC 8414 404, then OIDC") {
    http.respond(404, "not here");
    http.respond(200, R"({"issuer":"https://as.example/realms/x","authorization_endpoint":"https://as.example/a",
      "token_endpoint":"https://as.example/t","authorization_response_iss_parameter_supported":true,
      "token_endpoint_auth_methods_supported":["client_secret_post"]})");
    const auto e = discover(http, c, "/ca.pem");
    CHECK(e.token_endpoint == "https://as.example/t");
    CHECK(e.iss_parameter_supported);
    CHECK(e.token_endpoint_auth_methods == std::vector<std::string>{"client_secret_post"});
    CHECK(http.requests.at(1).url == "https://as.example/realms/x/.well-known/openid-configuration");
    CHECK(http.requests.at(1).ca_file == "/ca.pem");
  }
  SUBCASE("trailing slash mismatch is an error naming both") {
    http.respond(200, R"({"issuer":"https://as.example/realms/x/","token_endpoint":"https://as.example/t"})");
    try {
      discover(http, c, "");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("\"https://as.example/realms/x/\"") != std::string::npos);
      CHECK(std::string(e.what()).find("\"https://as.example/realms/x\"") != std::string::npos);
    }
  }
  SUBCASE("plain http endpoint from a non-loopback server is refused") {
    http.respond(200, R"({"issuer":"https://as.example/realms/x","token_endpoint":"http://as.example/t"})");
    CHECK_THROWS_AS(discover(http, c, ""), Error);
  }
  SUBCASE("a 5xx is server trouble") {
    http.respond(502, "");
    try {
      discover(http, c, "");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::network);
    }
  }
  SUBCASE("nothing found anywhere") {
    http.respond(404, "");
    http.respond(404, "");
    CHECK_THROWS_AS(discover(http, c, ""), Error);
  }
}

TEST_CASE("Databricks falls back to the documented endpoints") {
  test::FakeHttp http;
  http.respond(404, "");
  const auto e = discover(http, resolve_client(profile("https://x.cloud.databricks.com")), "");
  CHECK(e.authorization_endpoint == "https://x.cloud.databricks.com/oidc/v1/authorize");
}

TEST_SUITE_END();
