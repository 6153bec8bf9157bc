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

TEST_SUITE_BEGIN("core/token_endpoint");

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
    return parse_token_response(json_response(200, std::string(R"({"access_token":"a","expires_in":)") + v + "}"), k_endpoint)
        .expires_in;
  };
  CHECK(exp("\"120\"") == Seconds(120));
  CHECK(exp("0") == std::nullopt);
  CHECK(exp("-5") == std::nullopt);
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
    parse_token_response(json_response(400, "{\"error\":\"bad\\u001b[31m\",\"error_description\":\"" +
                                                 std::string(400, 'x') + "\"}"),
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
  for (const auto& body : {"{\"access_token\":\"" + marker, "<" + marker + ">", "{\"refresh_token\":\"" + marker + "\"}"}) {
    try {
      parse_token_response(json_response(200, body), k_endpoint);
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(marker) == std::string::npos);
    }
  }
}

TEST_CASE("form-encoded responses are read when the content type says so") {
  const auto r = parse_token_response(
      HttpResponse{200, {{"Content-Type", "application/x-www-form-urlencoded"}}, "access_token=x%2By&token_type=bearer&scope=repo"},
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
    CHECK(auth.method == ClientAuth::Method::basic);
    auto req = form_post(k_endpoint, {}, auth, "");
    CHECK(HttpResponse{0, req.headers, ""}.header("authorization") == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
    auth = choose_client_auth("my:client", std::string("p@ss w+rd%/="), {"client_secret_basic"});
    req = form_post(k_endpoint, {}, auth, "");
    CHECK(HttpResponse{0, req.headers, ""}.header("Authorization") ==
          "Basic bXklM0FjbGllbnQ6cCU0MHNzK3clMkJyZCUyNSUyRiUzRA==");
    CHECK(req.body.find("client_secret") == std::string::npos);
  }
  SUBCASE("post only when the server lists post and not basic") {
    const auto auth = choose_client_auth("c", std::string("s"), {"client_secret_post", "private_key_jwt"});
    CHECK(auth.method == ClientAuth::Method::post);
    const auto req = form_post(k_endpoint, {{"grant_type", "client_credentials"}}, auth, "");
    CHECK(req.body == "grant_type=client_credentials&client_id=c&client_secret=s");
  }
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
}

TEST_CASE("id token checks") {
  const TimePoint now{Seconds(1'800'000'000)};
  IdTokenExpectation e{"https://as.example", "tokenctl", "n1", now};
  const auto good = jwt(R"({"iss":"https://as.example","aud":"tokenctl","nonce":"n1","exp":1800000600,"sub":"alice","name":"Alice"})");
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
  fails_with(jwt(R"({"iss":"https://as.example","aud":["tokenctl","x"],"nonce":"n1","exp":1800000600})"), "authorized party");
  fails_with("not-a-jwt", "not a JWT");
}

TEST_SUITE_END();
