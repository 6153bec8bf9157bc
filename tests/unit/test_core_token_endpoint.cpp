#include <doctest/doctest.h>

#include "support/fakes.hpp"
#include "tokenctl/encoding.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/token_endpoint.hpp"

using namespace tokenctl;

namespace {
HttpResponse json_response(long status, std::string body) {
  return HttpResponse{status, {{"Content-Type", "application/json; charset=utf-8"}}, std::move(body)};
}
const std::string k_endpoint = "https://as.example/token";

std::string jwt(const std::string& payload) {
  return base64url_encode(R"({"alg":"RS256"})") + "." + base64url_encode(payload) + ".c2ln";
}
} // namespace

TEST_SUITE_BEGIN("core.token_endpoint");

TEST_CASE("a normal response") {
  const auto r = parse_token_response(
      json_response(200, R"({"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt",
                             "id_token":"it","scope":"openid api","unknown":{"x":[1,2]}})"),
      k_endpoint);
  CHECK(r.access_token == "at");
  CHECK(r.token_type == "Bearer");
  CHECK(r.expires_in == Seconds(3600));
  CHECK(r.refresh_token == "rt");
  CHECK(r.id_token == "it");
  REQUIRE(r.scopes);
  CHECK(*r.scopes == std::vector<std::string>{"openid", "api"});
}

TEST_CASE("expires_in as a string, absent, zero, negative, fractional or garbage") {
  const auto exp = [](const char* v) {
    return parse_token_response(json_response(200, std::string(R"({"access_token":"a","expires_in":)") + v + "}"),
                                k_endpoint)
        .expires_in;
  };
  CHECK(exp("\"120\"") == Seconds(120));
  // 0 or less: the server says the token is already expired; it is not "valid forever".
  CHECK(exp("0") == Seconds(0));
  CHECK(exp("-5") == Seconds(0));
  CHECK(exp("\"12x\"") == std::nullopt);
  CHECK(exp("null") == std::nullopt);
  CHECK(exp("90.7") == Seconds(90));
  CHECK(exp("1e300") == Seconds(10LL * 365 * 24 * 3600));
  CHECK(parse_token_response(json_response(200, R"({"access_token":"a"})"), k_endpoint).expires_in == std::nullopt);
}

TEST_CASE("comma-separated and empty scopes") {
  CHECK(*parse_token_response(json_response(200, R"({"access_token":"a","scope":"repo,gist"})"), k_endpoint).scopes ==
        std::vector<std::string>{"repo", "gist"});
  CHECK(!parse_token_response(json_response(200, R"({"access_token":"a","scope":""})"), k_endpoint).scopes);
}

TEST_CASE("an error member means failure whatever the status") {
  try {
    parse_token_response(json_response(200, R"({"error":"invalid_grant","error_description":"gone"})"), k_endpoint);
    FAIL("no exception");
  } catch (const OAuthError& e) {
    CHECK(e.code() == "invalid_grant");
    CHECK(e.description() == "gone");
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()) == "the token endpoint https://as.example/token answered invalid_grant: gone");
  }
}

TEST_CASE("the server's error text is kept for the printer to sanitize, and shortened") {
  // Every message is sanitized where it is printed (cli print_error), whatever made it.
  try {
    parse_token_response(
        json_response(400, "{\"error\":\"bad\\u001b[31m\",\"error_description\":\"" + std::string(400, 'x') + "\"}"),
        k_endpoint);
    FAIL("no exception");
  } catch (const OAuthError& e) {
    CHECK(e.code() == "bad\x1b[31m");
    CHECK(sanitize(e.what()).find('\x1b') == std::string::npos);
    CHECK(std::string(e.what()).find(std::string(300, 'x') + "...") != std::string::npos);
    CHECK(std::string(e.what()).find(std::string(301, 'x')) == std::string::npos);
  }
}

TEST_CASE("server trouble and garbage are network errors (exit 4)") {
  const auto kind_of = [](HttpResponse r) {
    try {
      parse_token_response(r, k_endpoint);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::failure;
  };
  CHECK(kind_of(json_response(503, "")) == ErrorKind::network);
  CHECK(kind_of(json_response(429, "{}")) == ErrorKind::network);
  CHECK(kind_of(HttpResponse{200, {{"Content-Type", "text/html"}}, "<html>oops</html>"}) == ErrorKind::network);
  CHECK(kind_of(json_response(200, R"({"access_token":"a")")) == ErrorKind::network);
  CHECK(kind_of(json_response(200, std::string(100000, '[') + std::string(100000, ']'))) == ErrorKind::network);
  CHECK(kind_of(json_response(200, R"({"token_type":"Bearer"})")) == ErrorKind::failure);
  CHECK(kind_of(json_response(200, R"({"access_token":"a","token_type":"DPoP"})")) == ErrorKind::failure);
}

TEST_CASE("no message quotes the body") {
  const std::string marker = "SECRET-MARKER-123";
  for (const auto& body :
       {"{\"access_token\":\"" + marker, "<" + marker + ">", "{\"refresh_token\":\"" + marker + "\"}"}) {
    try {
      parse_token_response(json_response(200, body), k_endpoint);
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(marker) == std::string::npos);
    }
  }
}

TEST_CASE("form-encoded responses are read when the content type says so") {
  const auto r = parse_token_response(HttpResponse{200,
                                                   {{"Content-Type", "application/x-www-form-urlencoded"}},
                                                   "access_token=x%2By&token_type=bearer&scope=repo"},
                                      k_endpoint);
  CHECK(r.access_token == "x+y");
  CHECK(*r.scopes == std::vector<std::string>{"repo"});
}

TEST_CASE("client authentication: none, basic with form-encoding, post") {
  SUBCASE("public client sends client_id in the body") {
    const auto req = form_post(k_endpoint, {{"grant_type", "x"}}, choose_client_auth("tokenctl", std::nullopt, {}), "");
    CHECK(req.body == "grant_type=x&client_id=tokenctl");
    for (const auto& [k, v] : req.headers) CHECK(k != "Authorization");
  }
  SUBCASE("RFC 6749 example and the form-encoded vector") {
    auto auth = choose_client_auth("s6BhdRkqt3", std::string("7Fjfp0ZBr1KtDRbnfVdmIw"), {});
    CHECK(auth.method == AuthMethod::client_secret_basic);
    auto req = form_post(k_endpoint, {}, auth, "");
    CHECK(HttpResponse{0, req.headers, ""}.header("authorization") ==
          "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
    auth = choose_client_auth("my:client", std::string("p@ss w+rd%/="), {"client_secret_basic"});
    req = form_post(k_endpoint, {}, auth, "");
    CHECK(HttpResponse{0, req.headers, ""}.header("Authorization") ==
          "Basic bXklM0FjbGllbnQ6cCU0MHNzK3clMkJyZCUyNSUyRiUzRA==");
    CHECK(req.body.find("client_secret") == std::string::npos);
  }
  SUBCASE("post only when the server lists post and not basic") {
    const auto auth = choose_client_auth("c", std::string("s"), {"client_secret_post", "private_key_jwt"});
    CHECK(auth.method == AuthMethod::client_secret_post);
    const auto req = form_post(k_endpoint, {{"grant_type", "client_credentials"}}, auth, "");
    CHECK(req.body == "grant_type=client_credentials&client_id=c&client_secret=s");
  }
}

TEST_CASE("a configured token_endpoint_auth_method wins over the metadata") {
  CHECK(choose_client_auth("c", std::string("s"), {"client_secret_basic"}, AuthMethod::client_secret_post).method ==
        AuthMethod::client_secret_post);
  CHECK(choose_client_auth("c", std::string("s"), {"client_secret_post"}, AuthMethod::client_secret_basic).method ==
        AuthMethod::client_secret_basic);
  CHECK(choose_client_auth("c", std::nullopt, {"client_secret_basic"}, AuthMethod::none).method == AuthMethod::none);
  SUBCASE("client_secret_post never sends an Authorization header") {
    const auto req = form_post(k_endpoint, {{"grant_type", "refresh_token"}},
                               choose_client_auth("m", std::string("p s"), {}, AuthMethod::client_secret_post), "");
    CHECK(req.body == "grant_type=refresh_token&client_id=m&client_secret=p+s");
    for (const auto& [k, v] : req.headers) CHECK(k != "Authorization");
  }
  CHECK(auth_method_name(AuthMethod::client_secret_basic) == "client_secret_basic");
  CHECK(auth_method_name(AuthMethod::client_secret_post) == "client_secret_post");
  CHECK(auth_method_name(AuthMethod::none) == "none");
}

TEST_CASE("token errors that point at a profile key get a hint naming it") {
  const auto hint_of = [](const std::string& code, std::optional<AuthMethod> method) {
    try {
      parse_token_response(json_response(400, "{\"error\":\"" + code + "\"}"), TokenRequestInfo{k_endpoint, method});
    } catch (const OAuthError& e) {
      CHECK(e.code() == code);
      return e.hint();
    }
    FAIL("accepted");
    return std::string();
  };
  CHECK(hint_of("invalid_client", AuthMethod::client_secret_basic)
            .find("token_endpoint_auth_method (tokenctl used "
                  "client_secret_basic)") != std::string::npos);
  CHECK(hint_of("invalid_scope", std::nullopt).find("profile's scopes") != std::string::npos);
  CHECK(hint_of("unauthorized_client", std::nullopt).find("profile's grant and client_id") != std::string::npos);
  CHECK(hint_of("unsupported_grant_type", std::nullopt).find("profile's grant") != std::string::npos);
  CHECK(hint_of("invalid_grant", std::nullopt).empty());
}

TEST_CASE("a 4xx without an error code is the server refusing, not server trouble (exit 1)") {
  try {
    parse_token_response(HttpResponse{403, {}, ""}, TokenRequestInfo{k_endpoint, AuthMethod::client_secret_basic});
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()) == "the token endpoint https://as.example/token refused the request with HTTP 403 and "
                                   "no error code");
    CHECK(e.hint().find("client_secret_basic") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_token_response(HttpResponse{400, {}, "<html/>"}, k_endpoint), Error);
}

TEST_CASE("the refresh token's lifetime: refresh_token_expires_in, or Keycloak's refresh_expires_in (0: none)") {
  const auto rexp = [](const char* fields) {
    return parse_token_response(json_response(200, std::string(R"({"access_token":"a",)") + fields + "}"), k_endpoint)
        .refresh_expires_in;
  };
  CHECK(rexp(R"("refresh_token_expires_in":31536000)") == Seconds(31536000));
  CHECK(rexp(R"("refresh_expires_in":"1800")") == Seconds(1800));
  CHECK(rexp(R"("refresh_expires_in":0)") == std::nullopt);
  CHECK(rexp(R"("x":1)") == std::nullopt);
  CHECK(rexp(R"("refresh_token_expires_in":60,"refresh_expires_in":30)") == Seconds(60));
}

TEST_CASE("every token is validated where the response is parsed") {
  const auto refused = [](const std::string& body, std::string content_type = "application/json") {
    try {
      parse_token_response(HttpResponse{200, {{"Content-Type", content_type}}, body}, k_endpoint);
    } catch (const UnusableTokenResponse& e) {
      CHECK(std::string(e.what()).find("refusing the response") != std::string::npos);
      return e.refresh_token();
    }
    FAIL("accepted");
    return std::string("<none>");
  };
  const std::string big(350 * 1024, 'a');
  CHECK(refused(R"({"access_token":")" + big + R"(","refresh_token":"rt-new"})") == "rt-new");
  CHECK(refused(R"({"access_token":"a\r\nX-Evil: 1","refresh_token":"rt-new"})") == "rt-new");
  CHECK(refused(R"({"access_token":"a\u001b[2J"})") == "");
  CHECK(refused(R"({"access_token":"a b"})") == "");
  CHECK(refused("access_token=ok&refresh_token=%FF%FE", "application/x-www-form-urlencoded") == "");
  CHECK(refused("access_token=%FF&refresh_token=rt2", "application/x-www-form-urlencoded") == "rt2");
  CHECK(refused(R"({"access_token":"ok","id_token":"not a jwt"})") == "");
  CHECK(refused(R"({"access_token":"ok","refresh_token":")" + big + R"("})") == "");
  CHECK(valid_access_token("eyJhbGciOi.eyJzdWIi.sig-_~+/=="));
  CHECK_FALSE(valid_access_token("=="));
  CHECK_FALSE(valid_access_token("a=b"));
  CHECK_FALSE(valid_access_token(""));
  CHECK(valid_access_token(std::string(k_max_token_bytes, 'x')));
  CHECK_FALSE(valid_access_token(std::string(k_max_token_bytes + 1, 'x')));
  CHECK(valid_refresh_token("any printable ~!@#"));
  CHECK_FALSE(valid_refresh_token("tab\there"));
  CHECK(valid_id_token("a.b.c"));
  CHECK_FALSE(valid_id_token("a.b.c\n"));
}

TEST_CASE("refresh keeps the old refresh token when the server sends none") {
  TokenSet old;
  old.refresh_token = "rt-old";
  old.id_token = "id-old";
  old.scopes = {"a"};
  TokenResponse r;
  r.access_token = "at2";
  r.token_type = "Bearer";
  r.expires_in = Seconds(60);
  const TimePoint t{Seconds(1000)};
  auto next = refreshed_token_set(old, r, t);
  CHECK(next.refresh_token == "rt-old");
  CHECK(next.id_token == "id-old");
  CHECK(next.expiry == TimePoint(Seconds(1060)));
  CHECK(next.issued_at == t);
  r.refresh_token = "rt-new";
  CHECK(refreshed_token_set(old, r, t).refresh_token == "rt-new");
  SUBCASE("the refresh token's expiry is kept unless the server restates it") {
    old.refresh_expiry = TimePoint(Seconds(5000));
    CHECK(refreshed_token_set(old, r, t).refresh_expiry == TimePoint(Seconds(5000)));
    r.refresh_expires_in = Seconds(100);
    CHECK(refreshed_token_set(old, r, t).refresh_expiry == TimePoint(Seconds(1100)));
  }
}

TEST_CASE("id token checks") {
  const TimePoint now{Seconds(1'800'000'000)};
  IdTokenExpectation e{"https://as.example", "tokenctl", "n1", now};
  const auto good = jwt(
      R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":1800000600,"sub":"alice","name":"Alice"})");
  CHECK(check_id_token(good, e)["sub"] == "alice");
  CHECK(describe_subject(check_id_token(good, e)) == "alice (Alice)");
  const auto fails_with = [&](const std::string& token, const char* what) {
    try {
      check_id_token(token, e);
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(std::string(err.what()).find(what) != std::string::npos);
    }
  };
  fails_with(jwt(R"({"iss":"https://evil","aud":"tokenctl","nonce":"n1","exp":1800000600})"), "issuer");
  fails_with(jwt(R"({"iss":"https://as.example","aud":["other"],"nonce":"n1","exp":1800000600})"), "audience");
  fails_with(jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n2","exp":1800000600})"), "nonce");
  fails_with(jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":1700000000})"), "expired");
  fails_with(jwt(R"({"iss":"https://as.example","aud":["tokenctl","x"],"nonce":"n1","exp":1800000600})"),
             "authorized party");
  fails_with("not-a-jwt", "not a JWT");
  fails_with(jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":"soon"})"), "exp is not a number");
  // Far-future values are in the future, with no overflow on the way (UBSan runs this too).
  CHECK_NOTHROW(check_id_token(jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":1e300})"), e));
  CHECK_NOTHROW(check_id_token(
      jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":9223372036854775807})"), e));
  fails_with(jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":-1e300})"), "expired");
}

TEST_CASE("a refreshed id token must name the same iss, sub and aud (OpenID Connect Core 12.2)") {
  const TimePoint now{Seconds(1'800'000'000)};
  const nlohmann::json before = {{"iss", "https://as.example"}, {"sub", "alice"}, {"aud", "tokenctl"}};
  IdTokenExpectation e{"https://as.example", "tokenctl", "", now};
  e.previous = &before;
  CHECK_NOTHROW(
      check_id_token(jwt(R"({"iss":"https://as.example","sub":"alice","aud":"tokenctl","exp":1800000600})"), e));
  const auto fails = [&](const std::string& payload, const char* claim) {
    try {
      check_id_token(jwt(payload), e);
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(std::string(err.what()).find(std::string("its ") + claim) != std::string::npos);
    }
  };
  fails(R"({"iss":"https://as.example","sub":"mallory","aud":"tokenctl","exp":1800000600})", "sub differs");
  fails(R"({"iss":"https://as.example","aud":"tokenctl","exp":1800000600})", "sub differs");
  fails(R"({"iss":"https://as.example","sub":"alice","aud":["tokenctl","other"],"azp":"tokenctl","exp":1800000600})",
        "aud differs");
}

TEST_SUITE_END();
