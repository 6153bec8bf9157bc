#include <doctest/doctest.h>

#include "support/fakes.hpp"
#include "tokenctl/revocation.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.revocation");

TEST_CASE("revocation request and answers (RFC 7009)") {
  test::FakeHttp http;
  test::FakeClock clock;
  const auto auth = choose_client_auth("tokenctl", std::nullopt, {});
  const std::string endpoint = "https://as.example/revoke";
  SUBCASE("200 is success whatever the body; the form carries token, hint and client_id") {
    http.respond(200, "garbage");
    CHECK(revoke_token(http, clock, endpoint, "rt", "refresh_token", auth, "") == RevokeResult::revoked);
    CHECK(http.requests.at(0).method == "POST");
    CHECK(http.requests.at(0).body == "token=rt&token_type_hint=refresh_token&client_id=tokenctl");
  }
  SUBCASE("unsupported_token_type is reported, not thrown") {
    http.respond(400, R"({"error":"unsupported_token_type"})");
    CHECK(revoke_token(http, clock, endpoint, "at", "access_token", auth, "") == RevokeResult::unsupported_token_type);
  }
  SUBCASE("503 is retried, then server trouble") {
    for (int i = 0; i < 3; ++i) http.respond(503, "");
    try {
      revoke_token(http, clock, endpoint, "rt", "refresh_token", auth, "");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::network);
    }
    CHECK(http.requests.size() == 3);
  }
  SUBCASE("invalid_client is a failure naming the error") {
    http.respond(401, R"({"error":"invalid_client"})");
    CHECK_THROWS_WITH_AS(
        revoke_token(http, clock, endpoint, "rt", "refresh_token", auth, ""),
        "the revocation endpoint https://as.example/revoke refused the request with HTTP 401: invalid_client",
        OAuthError);
  }
}

TEST_SUITE_END();
