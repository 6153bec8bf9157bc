#include <doctest/doctest.h>

#include <set>

#include "tokenctl/authorize.hpp"
#include "tokenctl/encoding.hpp"
#include "tokenctl/url.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.authorize");

TEST_CASE("PKCE S256 matches RFC 7636 appendix B") {
  // The RFC's 32 octets, its verifier, and the SHA-256 of that verifier.
  const unsigned char octets[] = {116, 24,  223, 180, 151, 153, 224, 37,  79, 250, 96, 125, 216, 173, 187, 186,
                                  22,  212, 37,  77,  105, 214, 191, 240, 91, 88,  5,  88,  83,  132, 141, 121};
  const std::string verifier = pkce_verifier(std::string(reinterpret_cast<const char*>(octets), sizeof octets));
  CHECK(verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  const unsigned char digest[] = {19,  211, 30,  150, 26,  26,  216, 236, 47,  22,  177, 12, 76,  152, 46,  8,
                                  118, 168, 120, 173, 109, 241, 68,  86,  110, 225, 137, 74, 203, 112, 249, 195};
  CHECK(pkce_challenge(std::string(reinterpret_cast<const char*>(digest), sizeof digest)) ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST_CASE("verifiers from distinct random bytes are distinct, 43 characters, unreserved only") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string bytes(32, '\0');
    for (int j = 0; j < 32; ++j) bytes[std::size_t(j)] = char((i * 31 + j * 7 + (i >> 3) * j) & 0xff);
    bytes[0] = char(i & 0xff);
    bytes[1] = char(i >> 8);
    const std::string v = pkce_verifier(bytes);
    CHECK(v.size() == 43);
    CHECK(v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") ==
          std::string::npos);
    seen.insert(v);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("the authorization URL carries exactly the flow's parameters") {
  AuthorizationRequest r;
  r.endpoint = "https://login.example.com/auth";
  r.client_id = "tokenctl";
  r.redirect_uri = "http://127.0.0.1:4711/callback";
  r.scopes = {"openid", "offline_access"};
  r.state = "st";
  r.code_challenge = "ch";
  r.nonce = "no";
  r.extra_params = {{"sub", "oauth"}};
  const std::string url = authorization_url(r);
  REQUIRE(url.rfind("https://login.example.com/auth?", 0) == 0);
  const auto params = parse_params(url.substr(url.find('?') + 1));
  REQUIRE(params);
  const Params expected = {{"response_type", "code"},
                           {"client_id", "tokenctl"},
                           {"redirect_uri", "http://127.0.0.1:4711/callback"},
                           {"scope", "openid offline_access"},
                           {"state", "st"},
                           {"code_challenge", "ch"},
                           {"code_challenge_method", "S256"},
                           {"nonce", "no"},
                           {"prompt", "consent"},
                           {"sub", "oauth"}};
  CHECK(*params == expected);
  CHECK(url.find("code_verifier") == std::string::npos);
}

TEST_CASE("prompt=consent is left to auth_params when they set prompt, and absent without offline_access") {
  AuthorizationRequest r;
  r.endpoint = "https://a/auth?x=1";
  r.scopes = {"offline_access"};
  r.extra_params = {{"prompt", "login"}};
  const std::string url = authorization_url(r);
  CHECK(url.find("prompt=consent") == std::string::npos);
  CHECK(url.find("prompt=login") != std::string::npos);
  CHECK(url.rfind("https://a/auth?x=1&", 0) == 0);
  r.scopes = {"api"};
  r.extra_params = {};
  CHECK(authorization_url(r).find("prompt") == std::string::npos);
}

TEST_CASE("callbacks: state, iss and error handling") {
  CallbackExpectation e{"s3cret", "https://as.example", true};
  SUBCASE("a good callback yields the code") {
    const auto r = check_callback("code=abc&state=s3cret&iss=https%3A%2F%2Fas.example", e);
    CHECK(r.kind == CallbackResult::Kind::code);
    CHECK(r.code == "abc");
  }
  SUBCASE("a wrong state is foreign (ignored, not fatal) and its code is not returned") {
    const auto r = check_callback("code=abc&state=other&iss=https%3A%2F%2Fas.example", e);
    CHECK(r.kind == CallbackResult::Kind::foreign);
    CHECK(r.code.empty());
    CHECK(r.error == "the callback's state does not match this login (a forged or stale redirect)");
  }
  SUBCASE("a missing, repeated or unparsable state is foreign, errors included") {
    using K = CallbackResult::Kind;
    CHECK(check_callback("code=abc&iss=https%3A%2F%2Fas.example", e).kind == K::foreign);
    CHECK(check_callback("code=abc&state=s3cret&state=s3cret&iss=https%3A%2F%2Fas.example", e).kind == K::foreign);
    CHECK(check_callback("code=abc&state=%zz", e).kind == K::foreign);
    CHECK(check_callback("error=access_denied&state=other&iss=https%3A%2F%2Fas.example", e).kind == K::foreign);
    CHECK(check_callback("", e).kind == K::foreign);
  }
  SUBCASE("a different issuer is rejected (RFC 9207)") {
    const auto r = check_callback("code=abc&state=s3cret&iss=https%3A%2F%2Fevil.example", e);
    CHECK(r.kind == CallbackResult::Kind::rejected);
    CHECK(r.error.find("evil.example") != std::string::npos);
  }
  SUBCASE("a missing iss is rejected when the server advertises it") {
    CHECK(check_callback("code=abc&state=s3cret", e).kind == CallbackResult::Kind::rejected);
    e.iss_required = false;
    CHECK(check_callback("code=abc&state=s3cret", e).kind == CallbackResult::Kind::code);
  }
  SUBCASE("a repeated parameter is rejected") {
    CHECK(check_callback("code=a&code=b&state=s3cret&iss=https%3A%2F%2Fas.example", e).kind ==
          CallbackResult::Kind::rejected);
  }
  SUBCASE("an error response carries error and description") {
    const auto r =
        check_callback("error=access_denied&error_description=no+way&state=s3cret&iss=https%3A%2F%2Fas.example", e);
    CHECK(r.kind == CallbackResult::Kind::denied);
    CHECK(r.error == "access_denied");
    CHECK(r.error_description == "no way");
  }
  SUBCASE("neither code nor error") {
    CHECK(check_callback("state=s3cret&iss=https%3A%2F%2Fas.example", e).kind == CallbackResult::Kind::rejected);
  }
}

TEST_SUITE_END();
