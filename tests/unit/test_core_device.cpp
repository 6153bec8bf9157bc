#include <doctest/doctest.h>

#include "support/fakes.hpp"
#include "tokenctl/device.hpp"

using namespace tokenctl;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("core.device");

namespace {
DeviceAuthorization device(Seconds interval = 5s, Seconds expires = 600s) {
  DeviceAuthorization d;
  d.device_code = "dc";
  d.user_code = "ABCD-EFGH";
  d.verification_uri = "https://as.example/device";
  d.interval = interval;
  d.expires_in = expires;
  return d;
}
const ClientAuth k_auth{AuthMethod::none, "tokenctl", "", ""};
} // namespace

TEST_CASE("the device authorization response") {
  HttpResponse r{200, {}, R"({"device_code":"dc","user_code":"U","verification_uri":"https://v","expires_in":300})"};
  const auto d = parse_device_authorization(r, "https://as/device");
  CHECK(d.interval == 5s);
  CHECK(d.expires_in == 300s);
  r.body = R"({"device_code":"dc","user_code":"U","expires_in":300})";
  CHECK_THROWS_AS(parse_device_authorization(r, "https://as/device"), Error);
  r = HttpResponse{400, {}, R"({"error":"invalid_client"})"};
  CHECK_THROWS_AS(parse_device_authorization(r, "https://as/device"), OAuthError);
}

TEST_CASE("polling honours interval and slow_down, then returns the tokens") {
  test::FakeHttp http;
  test::FakeClock clock;
  http.respond(400, R"({"error":"authorization_pending"})");
  http.respond(400, R"({"error":"slow_down"})");
  http.respond(400, R"({"error":"slow_down"})");
  http.respond(200, R"({"access_token":"at","token_type":"Bearer"})");
  const auto r = poll_device_token(http, clock, "https://as/token", k_auth, device(), 3600s, "");
  CHECK(r.access_token == "at");
  CHECK(clock.sleeps == std::vector<std::chrono::milliseconds>{5s, 5s, 10s, 15s});
  CHECK(http.requests.at(0).body ==
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc&client_id=tokenctl");
}

TEST_CASE("access_denied, expired_token, other errors and the deadline end the polling") {
  test::FakeHttp http;
  test::FakeClock clock;
  SUBCASE("denied") {
    http.respond(400, R"({"error":"access_denied"})");
    CHECK_THROWS_WITH(poll_device_token(http, clock, "https://as/token", k_auth, device(), 3600s, ""),
                      "the sign-in was denied (access_denied)");
  }
  SUBCASE("expired") {
    http.respond(400, R"({"error":"expired_token"})");
    CHECK_THROWS_WITH(poll_device_token(http, clock, "https://as/token", k_auth, device(), 3600s, ""),
                      "the device code expired before the sign-in was completed (expired_token)");
  }
  SUBCASE("another error stops at once") {
    http.respond(400, R"({"error":"invalid_grant"})");
    CHECK_THROWS_AS(poll_device_token(http, clock, "https://as/token", k_auth, device(), 3600s, ""), OAuthError);
    CHECK(http.requests.size() == 1);
  }
  SUBCASE("the lesser of the timeout and the code's lifetime") {
    for (int i = 0; i < 10; ++i) http.respond(400, R"({"error":"authorization_pending"})");
    CHECK_THROWS_WITH(poll_device_token(http, clock, "https://as/token", k_auth, device(5s, 600s), 12s, ""),
                      "the sign-in was not completed in time (within --timeout 12s)");
    CHECK(http.requests.size() == 3); // at 5 s, 10 s and, last, at the deadline
    CHECK(clock.sleeps.back() == 2s);
  }
  SUBCASE("the code's own lifetime") {
    for (int i = 0; i < 10; ++i) http.respond(400, R"({"error":"authorization_pending"})");
    CHECK_THROWS_WITH(poll_device_token(http, clock, "https://as/token", k_auth, device(5s, 9s), 3600s, ""),
                      "the sign-in was not completed in time: the device code expired");
  }
  SUBCASE("a connection failure doubles the interval") {
    http.fail("refused", false);
    http.respond(200, R"({"access_token":"at"})");
    poll_device_token(http, clock, "https://as/token", k_auth, device(), 3600s, "");
    CHECK(clock.sleeps == std::vector<std::chrono::milliseconds>{5s, 10s});
  }
}

TEST_SUITE_END();
