#include <doctest/doctest.h>

#include "support/fakes.hpp"
#include "tokenctl/grants.hpp"

using namespace tokenctl;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("core.grants");

namespace {
TokenSet set_with(Seconds lifetime, TimePoint issued) {
  TokenSet s;
  s.access_token = "at";
  s.issued_at = issued;
  s.expiry = issued + lifetime;
  s.refresh_token = "rt";
  s.endpoints.token_endpoint = "https://as.example/token";
  s.client_id = "tokenctl";
  return s;
}
const TimePoint t0{Seconds(1'800'000'000)};
} // namespace

TEST_CASE("the margin is the requested one, capped at half the lifetime") {
  CHECK(effective_min_ttl(set_with(3600s, t0), 300s) == 300s);
  CHECK(effective_min_ttl(set_with(60s, t0), 300s) == 30s);
  TokenSet unknown;
  CHECK(effective_min_ttl(unknown, 300s) == 300s);
}

TEST_CASE("freshness under the default margin: capped at half the lifetime") {
  const Margin m{300s, false};
  const auto s = set_with(3600s, t0);
  CHECK(fresh_enough(s, m, t0 + 3000s));
  CHECK_FALSE(fresh_enough(s, m, t0 + 3300s));
  CHECK_FALSE(fresh_enough(s, m, t0 + 4000s));
  CHECK(fresh_enough(set_with(60s, t0), m, t0 + 29s)); // 31s left > half of 60s
  CHECK_FALSE(fresh_enough(set_with(60s, t0), m, t0 + 30s));
  TokenSet unknown;
  unknown.access_token = "x";
  CHECK(fresh_enough(unknown, m, t0));
  CHECK(renew_at(unknown, m) == std::nullopt);
  unknown.access_token.clear();
  CHECK_FALSE(fresh_enough(unknown, m, t0));
  CHECK_FALSE(shorter_than_asked(s, m, t0 + 3500s)); // the default margin never warns
}

TEST_CASE("--min-ttl is honoured as asked: no cap at half the lifetime") {
  // A 1-hour token with 55 minutes left, asked for 40 minutes: served; for 2 hours: see below.
  const auto s = set_with(3600s, t0);
  CHECK(fresh_enough(s, Margin{2400s, true}, t0 + 300s));
  CHECK_FALSE(fresh_enough(s, Margin{2400s, true}, t0 + 1201s)); // 39m 59s left: refresh
  CHECK(renew_at(s, Margin{2400s, true}) == t0 + 1200s);
  // Under the default rule, the same 40 minutes would have been capped at 30.
  CHECK(fresh_enough(s, Margin{2400s, false}, t0 + 1500s));
}

TEST_CASE("--min-ttl longer than the tokens live: a token as fresh as the server issues them is served") {
  const Margin two_hours{7200s, true};
  const auto s = set_with(3600s, t0);
  CHECK(freshness_tolerance(3600s) == 300s);
  CHECK(freshness_tolerance(20s) == 5s);
  CHECK(freshness_tolerance(600s) == 60s);
  CHECK(fresh_enough(s, two_hours, t0 + 1s)); // just issued: a new one would not be better
  CHECK(fresh_enough(s, two_hours, t0 + 299s));
  CHECK_FALSE(fresh_enough(s, two_hours, t0 + 300s));
  CHECK(shorter_than_asked(s, two_hours, t0 + 1s));
  CHECK_FALSE(shorter_than_asked(s, Margin{1800s, true}, t0 + 1s));
  TokenSet no_issue = s;
  no_issue.issued_at.reset(); // lifetime unknown: refresh as asked
  CHECK_FALSE(fresh_enough(no_issue, two_hours, t0 + 1s));
}

TEST_CASE("Retry-After") {
  CHECK(parse_retry_after("3") == 3s);
  CHECK(parse_retry_after(" 10 ") == 10s);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == std::nullopt);
  CHECK(parse_retry_after("-1") == std::nullopt);
}

TEST_CASE("refresh: rotation, retries only where the server cannot have used the token") {
  test::FakeHttp http;
  test::FakeClock clock;
  const ClientAuth auth = choose_client_auth("tokenctl", std::nullopt, {});
  SUBCASE("429 with Retry-After then success") {
    http.respond(429, "", {{"Retry-After", "2"}});
    http.respond(200, R"({"access_token":"at2","refresh_token":"rt2","expires_in":60})");
    const auto next = refresh_grant(http, clock, set_with(60s, t0), auth, "");
    CHECK(next.refresh_token == "rt2");
    REQUIRE(http.requests.size() == 2);
    CHECK(http.requests[0].body == "grant_type=refresh_token&refresh_token=rt&client_id=tokenctl");
    CHECK(http.requests[1].body == http.requests[0].body);
    REQUIRE(clock.sleeps.size() == 1);
    CHECK(clock.sleeps[0] == 2000ms);
  }
  SUBCASE("a huge Retry-After is capped") {
    http.respond(503, "", {{"Retry-After", "86400"}});
    http.respond(200, R"({"access_token":"at2"})");
    refresh_grant(http, clock, set_with(60s, t0), auth, "");
    CHECK(clock.sleeps.at(0) == std::chrono::milliseconds(k_max_retry_after));
  }
  SUBCASE("not sent: retried") {
    http.fail("connection refused", false);
    http.respond(200, R"({"access_token":"at2"})");
    CHECK(refresh_grant(http, clock, set_with(60s, t0), auth, "").refresh_token == "rt");
    CHECK(http.requests.size() == 2);
  }
  SUBCASE("may have reached the server: never sent again") {
    http.fail("timed out", true);
    CHECK_THROWS_AS(refresh_grant(http, clock, set_with(60s, t0), auth, ""), HttpError);
    CHECK(http.requests.size() == 1);
  }
  SUBCASE("a 500 is not retried") {
    http.respond(500, "");
    CHECK_THROWS_AS(refresh_grant(http, clock, set_with(60s, t0), auth, ""), Error);
    CHECK(http.requests.size() == 1);
  }
  SUBCASE("attempts are bounded") {
    for (int i = 0; i < 5; ++i) http.respond(503, "");
    CHECK_THROWS_AS(refresh_grant(http, clock, set_with(60s, t0), auth, ""), Error);
    CHECK(http.requests.size() == std::size_t(k_max_token_attempts));
  }
}

TEST_CASE("client credentials") {
  test::FakeHttp http;
  test::FakeClock clock;
  Endpoints e;
  e.token_endpoint = "https://as.example/token";
  http.respond(200, R"({"access_token":"cc","expires_in":"300","token_type":"Bearer"})");
  const auto set =
      client_credentials_grant(http, clock, e, choose_client_auth("ci", std::string("s"), {}), {"api"}, "");
  CHECK(set.access_token == "cc");
  CHECK(set.client_id == "ci");
  CHECK(set.scopes == std::vector<std::string>{"api"});
  CHECK(http.requests.at(0).body == "grant_type=client_credentials&scope=api");
  CHECK(*set.expiry - *set.issued_at == 300s);
}

TEST_SUITE_END();
