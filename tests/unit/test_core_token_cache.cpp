#include <doctest/doctest.h>

#include <string>

#include "tokenctl/error.hpp"
#include "tokenctl/token_cache.hpp"

using namespace tokenctl;

namespace {

// Planted in hostile caches: no message may ever contain it.
const std::string k_marker = "SECRETMARKER7f3a";
const std::string k_path = "/home/u/.config/tokenctl/token-cache.json";
const std::string k_recovery = "; run \"tokenctl login\" again or delete the file";

TimePoint at(long long unix_seconds) { return TimePoint{std::chrono::seconds{unix_seconds}}; }

TokenSet full_set() {
  TokenSet s;
  s.access_token = "at-" + k_marker;
  s.token_type = "DPoP";
  s.expiry = at(1795464720);
  s.issued_at = at(1795461120);
  s.refresh_token = "rt-1";
  s.id_token = "eyJ.x.y";
  s.scopes = {"openid", "offline_access"};
  s.client_id = "tokenctl";
  s.endpoints.issuer = "https://login.example.com/realms/corp";
  s.endpoints.authorization_endpoint = "https://login.example.com/auth";
  s.endpoints.token_endpoint = "https://login.example.com/token";
  s.endpoints.revocation_endpoint = "https://login.example.com/revoke";
  s.endpoints.device_authorization_endpoint = "https://login.example.com/device";
  s.endpoints.token_endpoint_auth_methods = {"client_secret_basic", "none"};
  s.endpoints.iss_parameter_supported = true;
  return s;
}

void check_same(const TokenSet& a, const TokenSet& b) {
  CHECK(a.access_token == b.access_token);
  CHECK(a.token_type == b.token_type);
  CHECK(a.expiry == b.expiry);
  CHECK(a.issued_at == b.issued_at);
  CHECK(a.refresh_token == b.refresh_token);
  CHECK(a.id_token == b.id_token);
  CHECK(a.scopes == b.scopes);
  CHECK(a.client_id == b.client_id);
  CHECK(a.endpoints.issuer == b.endpoints.issuer);
  CHECK(a.endpoints.authorization_endpoint == b.endpoints.authorization_endpoint);
  CHECK(a.endpoints.token_endpoint == b.endpoints.token_endpoint);
  CHECK(a.endpoints.revocation_endpoint == b.endpoints.revocation_endpoint);
  CHECK(a.endpoints.device_authorization_endpoint == b.endpoints.device_authorization_endpoint);
  CHECK(a.endpoints.token_endpoint_auth_methods == b.endpoints.token_endpoint_auth_methods);
  CHECK(a.endpoints.iss_parameter_supported == b.endpoints.iss_parameter_supported);
}

// Return the message of the Error that parsing `bytes` throws (failing the test if none, or not exit 1).
std::string parse_error(const std::string& bytes) {
  try {
    (void)parse_token_cache(bytes, k_path);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(e.exit_code() == 1);
    const std::string message = e.what();
    CHECK(message.find(k_marker) == std::string::npos);
    CHECK(e.hint().find(k_marker) == std::string::npos);
    return message;
  }
  FAIL("no error for a bad cache");
  return {};
}

std::string damaged(const std::string& what) {
  return "token cache " + k_path + " is damaged (" + what + ")" + k_recovery;
}

// A valid cache with `member` of profile "dev" replaced by the JSON text `value`.
std::string with_member(const std::string& member, const std::string& value) {
  return R"({"version":1,"tokens":{"dev":{"access_token":")" + k_marker + R"(",")" + member + "\":" + value + "}}}";
}

} // namespace

TEST_SUITE_BEGIN("core.token_cache");

TEST_CASE("a cache with every member survives a round trip") {
  TokenCache cache;
  cache.tokens["dev"] = full_set();
  cache.tokens["ci"].access_token = "only";
  const TokenCache back = parse_token_cache(serialize_token_cache(cache), k_path);
  REQUIRE(back.tokens.size() == 2);
  check_same(back.tokens.at("dev"), cache.tokens["dev"]);
  check_same(back.tokens.at("ci"), cache.tokens["ci"]);
  CHECK_FALSE(back.tokens.at("ci").expiry.has_value());
  CHECK(serialize_token_cache(back) == serialize_token_cache(cache));
}

TEST_CASE("serialize writes pretty JSON in a stable order and leaves empty members out") {
  TokenCache cache;
  TokenSet& s = cache.tokens["dev"];
  s.access_token = "A";
  s.expiry = at(1795464720);
  s.scopes = {"openid"};
  cache.tokens["b"].refresh_token = "R";
  CHECK(serialize_token_cache(cache) == R"({
  "version": 1,
  "tokens": {
    "b": {
      "token_type": "Bearer",
      "refresh_token": "R",
      "endpoints": {
        "iss_parameter_supported": false
      }
    },
    "dev": {
      "access_token": "A",
      "token_type": "Bearer",
      "expiry": "2026-11-23T20:12:00Z",
      "scopes": [
        "openid"
      ],
      "endpoints": {
        "iss_parameter_supported": false
      }
    }
  }
}
)");
  CHECK(serialize_token_cache(TokenCache{}) == "{\n  \"version\": 1,\n  \"tokens\": {}\n}\n");
}

TEST_CASE("serialize refuses bytes that are not UTF-8, without quoting them") {
  TokenCache cache;
  cache.tokens["dev"].access_token = k_marker + "\xff";
  try {
    (void)serialize_token_cache(cache);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "cannot save the token cache: a token or name is not valid UTF-8");
  }
}

TEST_CASE("absent members take their defaults and unknown members are ignored") {
  const TokenCache cache = parse_token_cache(
      R"({"version":1,"future":[1],"tokens":{"dev":{"new_member":{"x":[null]},"refresh_token":"r"},"e":{}}})", k_path);
  REQUIRE(cache.tokens.size() == 2);
  const TokenSet& s = cache.tokens.at("dev");
  CHECK(s.access_token.empty());
  CHECK(s.token_type == "Bearer");
  CHECK_FALSE(s.expiry.has_value());
  CHECK_FALSE(s.issued_at.has_value());
  CHECK(s.refresh_token == "r");
  CHECK(s.scopes.empty());
  CHECK_FALSE(s.endpoints.iss_parameter_supported);
  CHECK(parse_token_cache(R"({"version":1,"tokens":{}})", k_path).tokens.empty());
}

TEST_CASE("empty, truncated and non-JSON caches are reported with the byte offset only") {
  CHECK(parse_error("") == "token cache " + k_path + " is empty" + k_recovery);
  CHECK(parse_error(R"({"version":1,"tokens":{"dev":{"access_token":")" + k_marker) ==
        damaged("not JSON at byte 63")); // the end of the input, just after the 62 bytes
  CHECK(parse_error(k_marker) == damaged("not JSON at byte 1"));
  CHECK(parse_error("   \n") == damaged("not JSON at byte 5"));
  CHECK(parse_error(R"({"version":1,"tokens":{}} )" + k_marker) == damaged("not JSON at byte 27"));
  CHECK(parse_error(R"({"version":1,"tokens":{"dev":{"access_token":")" + k_marker + "\xc3\x28\"}}}") ==
        damaged("not JSON at byte 64"));
  CHECK(parse_error(R"({"version":1,"tokens":{},"x":1e999)" + k_marker + "}") ==
        damaged("not JSON: a number is out of range"));
  CHECK(parse_error(R"({"version":1,"tokens":{},"x":1e999})") == damaged("not JSON: a number is out of range"));
}

TEST_CASE("the top level, version and tokens are checked") {
  CHECK(parse_error("[\"" + k_marker + "\"]") == damaged("the top level is not an object"));
  CHECK(parse_error("\"" + k_marker + "\"") == damaged("the top level is not an object"));
  CHECK(parse_error(R"({"tokens":{}})") == damaged("version is missing"));
  CHECK(parse_error(R"({"version":"1","tokens":{}})") == damaged("version is not an integer"));
  CHECK(parse_error(R"({"version":1.0,"tokens":{}})") == damaged("version is not an integer"));
  CHECK(parse_error(R"({"version":7,"tokens":{"x":")" + k_marker + "\"}}") ==
        "token cache " + k_path + " has version 7, which this tokenctl does not read" + k_recovery);
  CHECK(parse_error(R"({"version":-2,"tokens":{}})") ==
        "token cache " + k_path + " has version -2, which this tokenctl does not read" + k_recovery);
  CHECK(parse_error(R"({"version":1})") == damaged("tokens is missing"));
  CHECK(parse_error(R"({"version":1,"tokens":[]})") == damaged("tokens is not an object"));
  CHECK(parse_error(R"({"version":1,"tokens":{"dev":")" + k_marker + "\"}}") == damaged("tokens.dev is not an object"));
}

TEST_CASE("every member's type is checked and named by its path, never quoted") {
  struct Case {
    const char* member;
    std::string value;
    const char* what;
  };
  const std::string m = "\"" + k_marker + "\"";
  const Case cases[] = {
      {"access_token", "17", "tokens.dev.access_token is not a string"},
      {"token_type", "null", "tokens.dev.token_type is not a string"},
      {"expiry", "1795464720", "tokens.dev.expiry is not a string"},
      {"expiry", m, "tokens.dev.expiry is not an RFC 3339 time"},
      {"issued_at", "\"2026-02-30T00:00:00Z\"", "tokens.dev.issued_at is not an RFC 3339 time"},
      {"refresh_token", "[" + m + "]", "tokens.dev.refresh_token is not a string"},
      {"id_token", "{}", "tokens.dev.id_token is not a string"},
      {"scopes", m, "tokens.dev.scopes is not an array"},
      {"scopes", "[\"openid\",7]", "tokens.dev.scopes[1] is not a string"},
      {"client_id", "true", "tokens.dev.client_id is not a string"},
      {"endpoints", m, "tokens.dev.endpoints is not an object"},
      {"endpoints", "{\"issuer\":1}", "tokens.dev.endpoints.issuer is not a string"},
      {"endpoints", "{\"authorization_endpoint\":1}", "tokens.dev.endpoints.authorization_endpoint is not a string"},
      {"endpoints", "{\"token_endpoint\":1}", "tokens.dev.endpoints.token_endpoint is not a string"},
      {"endpoints", "{\"revocation_endpoint\":1}", "tokens.dev.endpoints.revocation_endpoint is not a string"},
      {"endpoints", "{\"device_authorization_endpoint\":1}",
       "tokens.dev.endpoints.device_authorization_endpoint is not a string"},
      {"endpoints", "{\"token_endpoint_auth_methods\":[null]}",
       "tokens.dev.endpoints.token_endpoint_auth_methods[0] is not a string"},
      {"endpoints", "{\"iss_parameter_supported\":" + m + "}",
       "tokens.dev.endpoints.iss_parameter_supported is not true or false"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.member);
    CAPTURE(c.what);
    CHECK(parse_error(with_member(c.member, c.value)) == damaged(c.what));
  }
}

TEST_CASE("a key that does not look like a profile name is not echoed") {
  CHECK(parse_error(R"({"version":1,"tokens":{")" + k_marker + " x\":{\"expiry\":3}}}") ==
        damaged("tokens.<name not shown>.expiry is not a string"));
  const std::string long_key(65, 'a');
  CHECK(parse_error(R"({"version":1,"tokens":{")" + long_key + "\":1}}") ==
        damaged("tokens.<name not shown> is not an object"));
}

TEST_CASE("huge and deeply nested caches are refused before parsing") {
  std::string big = R"({"version":1,"tokens":{"dev":{"access_token":")" + k_marker;
  big.resize(50u * 1024u * 1024u, 'A');
  big += "\"}}}";
  CHECK(parse_error(big) == "token cache " + k_path + " is too large (more than 16777216 bytes)" + k_recovery);

  std::string deep(100000, '[');
  deep += k_marker;
  CHECK(parse_error(deep) == "token cache " + k_path + " is nested too deeply (more than 32 levels)" + k_recovery);

  // 32 levels are fine; 33 are not. Brackets inside strings, escaped quotes included, do not count.
  const auto nested = [](int levels) {
    std::string s = R"({"version":1,"tokens":{},"x":)";
    for (int i = 1; i < levels; ++i) s += "[";
    s += R"("[[[[{{{{\"[[[[")";
    for (int i = 1; i < levels; ++i) s += "]";
    return s + "}";
  };
  CHECK_NOTHROW((void)parse_token_cache(nested(32), k_path));
  CHECK(parse_error(nested(33)) ==
        "token cache " + k_path + " is nested too deeply (more than 32 levels)" + k_recovery);
}

TEST_CASE("status names follow the contract") {
  CHECK(status_name(TokenStatus::valid) == "valid");
  CHECK(status_name(TokenStatus::expired) == "expired");
  CHECK(status_name(TokenStatus::refreshable) == "refreshable");
  CHECK(status_name(TokenStatus::logged_out) == "logged-out");
}

TEST_CASE("token_status classifies a token set at a time") {
  const TimePoint now = at(1795464720);
  CHECK(token_status(nullptr, now) == TokenStatus::logged_out);
  TokenSet s;
  s.access_token = "a";
  CHECK(token_status(&s, now) == TokenStatus::valid); // unknown expiry
  s.expiry = now + std::chrono::seconds{1};
  CHECK(token_status(&s, now) == TokenStatus::valid);
  s.expiry = now;
  CHECK(token_status(&s, now) == TokenStatus::expired);
  s.refresh_token = "r";
  CHECK(token_status(&s, now) == TokenStatus::refreshable);
  s.expiry.reset();
  s.access_token.clear();
  CHECK(token_status(&s, now) == TokenStatus::refreshable); // only a refresh token
  s.refresh_token.clear();
  CHECK(token_status(&s, now) == TokenStatus::expired); // nothing usable at all
}

TEST_SUITE_END();
