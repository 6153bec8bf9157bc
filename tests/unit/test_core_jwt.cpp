// Reading JWT claims without verifying them: exactly three parts, both JSON parts objects, and
// the size and nesting limits that keep hostile tokens away from the parser.
#include <doctest/doctest.h>

#include <string>

#include "tokenctl/encoding.hpp"
#include "tokenctl/jwt.hpp"

using namespace tokenctl;

namespace {

const std::string k_header = R"({"alg":"RS256","typ":"JWT"})";
const std::string k_payload = R"({"iss":"https://as.example","sub":"alice","aud":["tokenctl"],"exp":1800000000})";

std::string jwt(const std::string& header, const std::string& payload, const std::string& signature = "c2ln") {
  return base64url_encode(header) + "." + base64url_encode(payload) + "." + signature;
}

// A payload nested `depth` levels deep: an object holding arrays.
std::string nested_payload(int depth) {
  return R"({"a":)" + std::string(static_cast<std::size_t>(depth - 1), '[') +
         std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
}

} // namespace

TEST_SUITE_BEGIN("core.jwt");

TEST_CASE("a compact JWS: its payload comes back as JSON, the signature unchecked") {
  const auto claims = jwt_claims(jwt(k_header, k_payload));
  REQUIRE(claims);
  CHECK(claims->at("iss") == "https://as.example");
  CHECK(claims->at("sub") == "alice");
  CHECK(claims->at("aud") == nlohmann::json::array({"tokenctl"}));
  CHECK(claims->at("exp") == 1800000000);
  CHECK(jwt_claims(jwt(k_header, k_payload, "")));
  CHECK(jwt_claims(jwt(k_header, k_payload, "not base64url!")));
  CHECK(jwt_claims(jwt(k_header, "{}")) == nlohmann::json::object());
}

TEST_CASE("one, two, four or five parts are not a JWT") {
  const std::string header = base64url_encode(k_header);
  const std::string payload = base64url_encode(k_payload);
  for (const std::string& bad : {std::string(), header, header + "." + payload, header + "." + payload + ".c2ln.c2ln",
                                 header + "." + payload + ".c2ln.c2ln.c2ln", "." + header + "." + payload + ".c2ln"}) {
    CAPTURE(bad);
    CHECK_FALSE(jwt_claims(bad));
  }
}

TEST_CASE("a header or payload that is not base64url is not a JWT") {
  const std::string header = base64url_encode(k_header);
  const std::string payload = base64url_encode(k_payload);
  CHECK_FALSE(jwt_claims(header + "!." + payload + ".c2ln"));
  CHECK_FALSE(jwt_claims(header + "." + payload + "*.c2ln"));
  CHECK_FALSE(jwt_claims(header + "." + payload.substr(0, payload.size() - 1) + "+.c2ln")); // standard alphabet
  CHECK_FALSE(jwt_claims(header + ". " + payload + ".c2ln"));
}

TEST_CASE("a payload that is not a JSON object is not a JWT") {
  for (const char* payload : {"[]", R"(["sub"])", R"("alice")", "42", "null", "true", "", "{", R"({"sub":})",
                              R"({"sub":"alice"} trailing)"}) {
    CAPTURE(payload);
    CHECK_FALSE(jwt_claims(jwt(k_header, payload)));
  }
}

TEST_CASE("a header that is not a JSON object is not a JWT") {
  for (const char* header : {"[]", R"("RS256")", "1", "null", "", "{", R"({"alg":"RS256")"}) {
    CAPTURE(header);
    CHECK_FALSE(jwt_claims(jwt(header, k_payload)));
  }
}

TEST_CASE("a payload nested deeper than 16 levels is refused before parsing") {
  CHECK(jwt_claims(jwt(k_header, nested_payload(16))));
  CHECK_FALSE(jwt_claims(jwt(k_header, nested_payload(17))));
  CHECK_FALSE(jwt_claims(jwt(k_header, "{\"a\":" + std::string(40000, '[') + "}")));
  // Brackets inside strings do not count.
  CHECK(jwt_claims(jwt(k_header, R"({"a":")" + std::string(100, '[') + R"("})")));
}

TEST_CASE("a token over 64 KiB is refused, one of exactly 64 KiB is read") {
  const std::string head = jwt(k_header, k_payload, "");
  REQUIRE(head.size() < 64 * 1024);
  const std::string exact = head + std::string(64 * 1024 - head.size(), 'A');
  CHECK(exact.size() == 64 * 1024);
  CHECK(jwt_claims(exact));
  CHECK_FALSE(jwt_claims(exact + "A"));
}

TEST_SUITE_END();
