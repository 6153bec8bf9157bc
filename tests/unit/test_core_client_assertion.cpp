// RFC 7523 client assertions in the core: the exact header and claims, base64url without padding,
// the lifetime clamp, the choice and check of the algorithm, and the form parameters. The
// signature comes from a fake Signer; tests/unit/test_sys_signer.cpp checks the real one.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "tokenctl/client_assertion.hpp"
#include "tokenctl/encoding.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/jwt.hpp"

using namespace tokenctl;
using namespace std::chrono_literals;

namespace {

const TimePoint t0{Seconds(1'800'000'000)};
const std::string k_key = "-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n";

// A Signer that reports a fixed key kind (or refuses the key) and records what it signed.
class FakeSigner : public Signer {
public:
  std::string kind = "rsa";
  std::string refuse_key;                     // the message of a refused key; "": accepted
  std::string signature = "\xfb\xff\xbf sig"; // base64url: "-_-_IHNpZw"
  struct Call {
    std::string alg, key, data;
  };
  std::vector<Call> signed_calls;
  std::vector<std::string> kind_calls;

  std::string sign(std::string_view alg, std::string_view key_pem, std::string_view data) override {
    signed_calls.push_back({std::string(alg), std::string(key_pem), std::string(data)});
    return signature;
  }
  std::string key_kind(std::string_view key_pem) override {
    kind_calls.emplace_back(key_pem);
    if (!refuse_key.empty()) throw Error(ErrorKind::config, refuse_key);
    return kind;
  }
};

class CountingRandom : public RandomSource {
public:
  std::string bytes(std::size_t n) override {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(i);
    return out;
  }
};

ClientAssertionRequest request() {
  ClientAssertionRequest r;
  r.client_id = "ci-bot";
  r.audience = "https://as.example/token";
  r.now = t0;
  r.jti = "AAECAwQFBgcICQoLDA0ODw"; // base64url of the bytes 0..15
  return r;
}

std::vector<std::string> parts(const std::string& jws) {
  std::vector<std::string> out(1);
  for (char c : jws) {
    if (c == '.')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

std::string decoded(const std::string& part) { return base64url_decode(part).value_or("<not base64url>"); }

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

} // namespace

TEST_SUITE_BEGIN("core.client_assertion");

TEST_CASE("an RSA key: RS256, the exact compact JWS, signed over header.payload") {
  FakeSigner signer;
  const std::string jws = make_client_assertion(request(), signer, k_key);
  CHECK(jws ==
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJhdWQiOiJodHRwczovL2FzLmV4YW1wbGUvdG9rZW4iLCJleHAiOjE4MDAwMDAzMDAsImlhdCI6MTgwMDAwMDAwMCwiaXNzIjoiY2ktYm90"
        "IiwianRpIjoiQUFFQ0F3UUZCZ2NJQ1FvTERBME9EdyIsIm5iZiI6MTgwMDAwMDAwMCwic3ViIjoiY2ktYm90In0."
        "-_-_IHNpZw");
  const auto p = parts(jws);
  REQUIRE(p.size() == 3);
  CHECK(decoded(p[0]) == R"({"alg":"RS256","typ":"JWT"})");
  CHECK(decoded(p[1]) == R"({"aud":"https://as.example/token","exp":1800000300,"iat":1800000000,"iss":"ci-bot",)"
                         R"("jti":"AAECAwQFBgcICQoLDA0ODw","nbf":1800000000,"sub":"ci-bot"})");
  REQUIRE(signer.signed_calls.size() == 1);
  CHECK(signer.signed_calls[0].alg == "RS256");
  CHECK(signer.signed_calls[0].key == k_key);
  CHECK(signer.signed_calls[0].data == p[0] + "." + p[1]);
  CHECK(signer.kind_calls == std::vector<std::string>{k_key}); // the key is checked before signing
}

TEST_CASE("an EC key: ES256 - and the kid in the header when set") {
  FakeSigner signer;
  signer.kind = "ec";
  auto r = request();
  r.kid = "key-2026";
  const auto p = parts(make_client_assertion(r, signer, k_key));
  CHECK(decoded(p[0]) == R"({"alg":"ES256","kid":"key-2026","typ":"JWT"})");
  CHECK(signer.signed_calls.at(0).alg == "ES256");
}

TEST_CASE("PS256 when configured for an RSA key") {
  FakeSigner signer;
  auto r = request();
  r.alg = "PS256";
  const auto p = parts(make_client_assertion(r, signer, k_key));
  CHECK(decoded(p[0]) == R"({"alg":"PS256","typ":"JWT"})");
  CHECK(signer.signed_calls.at(0).alg == "PS256");
}

TEST_CASE("base64url without padding in every part, whatever the lengths") {
  FakeSigner signer;
  for (std::string id : {"a", "ab", "abc", "abcd"}) {
    for (std::string sig : {std::string("\xff"), std::string("\xff\xfe"), std::string("\xff\xfe\xfd")}) {
      signer.signature = sig;
      auto r = request();
      r.client_id = id;
      const std::string jws = make_client_assertion(r, signer, k_key);
      CHECK(jws.find('=') == std::string::npos);
      CHECK(jws.find('+') == std::string::npos);
      CHECK(jws.find('/') == std::string::npos);
      CHECK(decoded(parts(jws).at(2)) == sig);
    }
  }
}

TEST_CASE("the lifetime: 300 s by default, never more, at least 1 s") {
  FakeSigner signer;
  auto exp_of = [&](Seconds lifetime) {
    auto r = request();
    r.lifetime = lifetime;
    auto claims = jwt_claims(make_client_assertion(r, signer, k_key));
    REQUIRE(claims.has_value());
    CHECK((*claims)["iat"] == 1'800'000'000);
    return (*claims)["exp"].get<long long>() - 1'800'000'000;
  };
  CHECK(exp_of(300s) == 300);
  CHECK(exp_of(60s) == 60);
  CHECK(exp_of(3600s) == 300);
  CHECK(exp_of(301s) == 300);
  CHECK(exp_of(0s) == 1);
  CHECK(exp_of(-5s) == 1);
  CHECK(request().lifetime == 300s);
}

TEST_CASE("the claims as a server reads them: iss = sub = client id, aud = the token endpoint") {
  FakeSigner signer;
  auto claims = jwt_claims(make_client_assertion(request(), signer, k_key));
  REQUIRE(claims.has_value());
  CHECK((*claims)["iss"] == "ci-bot");
  CHECK((*claims)["sub"] == "ci-bot");
  CHECK((*claims)["aud"] == "https://as.example/token");
  CHECK((*claims)["jti"] == "AAECAwQFBgcICQoLDA0ODw");
  CHECK((*claims)["nbf"] == (*claims)["iat"]);
}

TEST_CASE("JSON escaping of the client id and the kid") {
  FakeSigner signer;
  auto r = request();
  r.client_id = "a\"b\\c";
  r.kid = "k\"1";
  const auto p = parts(make_client_assertion(r, signer, k_key));
  CHECK(decoded(p[0]) == R"({"alg":"RS256","kid":"k\"1","typ":"JWT"})");
  CHECK(decoded(p[1]).find(R"("iss":"a\"b\\c")") != std::string::npos);
}

TEST_CASE("a configured alg that does not fit the key: Error(config) naming client_assertion_alg, nothing signed") {
  FakeSigner signer;
  auto r = request();
  r.alg = "ES256";
  Error e = error_of([&] { make_client_assertion(r, signer, k_key); });
  CHECK(e.kind() == ErrorKind::config);
  CHECK(std::string(e.what()) ==
        "client_assertion_alg = \"ES256\" needs an EC P-256 key, and client_assertion_key_file holds an RSA key: "
        "use RS256 or PS256, or an EC key");
  signer.kind = "ec";
  for (std::string alg : {"RS256", "PS256"}) {
    r.alg = alg;
    e = error_of([&] { make_client_assertion(r, signer, k_key); });
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) == "client_assertion_alg = \"" + alg +
                                       "\" needs an RSA key, and client_assertion_key_file holds an EC key: use "
                                       "ES256, or an RSA key");
  }
  CHECK(signer.signed_calls.empty());
}

TEST_CASE("an algorithm tokenctl does not sign with is refused, shown safely") {
  for (std::string alg : {"HS256", "none", "rs256", "ES384", "EdDSA", "RS256\x1b[2J"}) {
    Error e = error_of([&] { check_assertion_alg(alg, "rsa"); });
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()).rfind("client_assertion_alg = \"", 0) == 0);
    CHECK(std::string(e.what()).find("is not one tokenctl signs with: use RS256, PS256 or ES256") != std::string::npos);
    CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
  }
  CHECK_NOTHROW(check_assertion_alg("RS256", "rsa"));
  CHECK_NOTHROW(check_assertion_alg("PS256", "rsa"));
  CHECK_NOTHROW(check_assertion_alg("ES256", "ec"));
}

TEST_CASE("an unusable key: the signer's error, nothing signed") {
  FakeSigner signer;
  signer.refuse_key = "the client assertion key is a public key";
  Error e = error_of([&] { make_client_assertion(request(), signer, k_key); });
  CHECK(e.kind() == ErrorKind::config);
  CHECK(std::string(e.what()) == "the client assertion key is a public key");
  CHECK(signer.signed_calls.empty());
}

TEST_CASE("the default algorithm follows the key") {
  CHECK(default_assertion_alg("rsa") == "RS256");
  CHECK(default_assertion_alg("ec") == "ES256");
  CHECK(error_of([] { default_assertion_alg("dsa"); }).kind() == ErrorKind::config);
}

TEST_CASE("jti: base64url of 16 random bytes") {
  CountingRandom random;
  CHECK(assertion_jti(random) == "AAECAwQFBgcICQoLDA0ODw");
}

TEST_CASE("a request without client id, audience or a long enough jti is a program error") {
  FakeSigner signer;
  auto r = request();
  r.client_id.clear();
  CHECK(error_of([&] { make_client_assertion(r, signer, k_key); }).kind() == ErrorKind::failure);
  r = request();
  r.audience.clear();
  CHECK(error_of([&] { make_client_assertion(r, signer, k_key); }).kind() == ErrorKind::failure);
  r = request();
  r.jti = "AAECAwQFBgcICQoLDA0OD"; // 21 characters: under 16 bytes
  CHECK(error_of([&] { make_client_assertion(r, signer, k_key); }).kind() == ErrorKind::failure);
  CHECK(signer.signed_calls.empty());
}

TEST_CASE("a client id that is not UTF-8: Error(config) that does not quote the bytes") {
  FakeSigner signer;
  auto r = request();
  r.client_id = "bot\xff\xfe";
  Error e = error_of([&] { make_client_assertion(r, signer, k_key); });
  CHECK(e.kind() == ErrorKind::config);
  CHECK(std::string(e.what()).find('\xff') == std::string::npos);
  CHECK(std::string(e.what()).find("FF") == std::string::npos);
  CHECK(signer.signed_calls.empty());
}

TEST_CASE("the form parameters that carry the assertion") {
  CHECK(client_assertion_params("a.b.c") ==
        Params{{"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
               {"client_assertion", "a.b.c"}});
}

TEST_SUITE_END();
