// Redaction: every planted marker secret must disappear, everything else must stay.
#include <doctest/doctest.h>

#include <string>

#include "tokenctl/redact.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.redact");

TEST_CASE("redact shows the first and last 4 characters of a long secret only") {
  CHECK(redact("abcdEFGHIJKLmnop") == "abcd...mnop");
  CHECK(redact("123456789012") == "1234...9012");
  CHECK(redact("12345678901") == "[redacted]");
  CHECK(redact("") == "[redacted]");
}

TEST_CASE("secret parameter names - case-insensitively") {
  for (const char* key :
       {"access_token", "refresh_token", "id_token", "code", "code_verifier", "client_secret", "token", "device_code",
        "password", "client_assertion", "assertion", "subject_token", "ACCESS_TOKEN", "Code"})
    CHECK_MESSAGE(is_secret_param(key), key);
  for (const char* key : {"state", "scope", "grant_type", "client_id", "expires_in", "token_type", "codes", ""})
    CHECK_MESSAGE(!is_secret_param(key), key);
}

TEST_CASE("redact_form hides secret values and keeps the rest byte for byte") {
  CHECK(redact_form("grant_type=refresh_token&refresh_token=MARKER1&client_id=cli&client_secret=MARKER2") ==
        "grant_type=refresh_token&refresh_token=[redacted]&client_id=cli&client_secret=[redacted]");
  CHECK(redact_form("code=MARKER&state=abc&code_verifier=MARKER") ==
        "code=[redacted]&state=abc&code_verifier=[redacted]");
  CHECK(redact_form("a=1&&b&=c") == "a=1&&b&=c");
  CHECK(redact_form("") == "");
  SUBCASE("encoded key names are recognised") {
    CHECK(redact_form("access%5Ftoken=MARKER&x=1") == "access%5Ftoken=[redacted]&x=1");
    CHECK(redact_form("Password=MARKER") == "Password=[redacted]");
  }
  SUBCASE("a value with '=' inside is hidden whole") {
    CHECK(redact_form("assertion=MARKER.a=b==&x=1") == "assertion=[redacted]&x=1");
  }
}

TEST_CASE("redact_json hides secret values in objects at any depth") {
  CHECK(redact_json(R"({"access_token":"MARKER1","token_type":"Bearer","expires_in":3600})") ==
        R"({"access_token":"[redacted]","token_type":"Bearer","expires_in":3600})");
  CHECK(redact_json(R"({"a":{"refresh_token" : "MARKER\"quoted\\"}, "b":["id_token","x"]})") ==
        R"({"a":{"refresh_token" : "[redacted]"}, "b":["id_token","x"]})");
  SUBCASE("a non-string secret value becomes null") {
    CHECK(redact_json(R"({"code":12345678,"x":1})") == R"({"code":null,"x":1})");
  }
  SUBCASE("an escaped key name is still recognised") {
    CHECK(redact_json(R"({"access\u005ftoken":"MARKER"})") == R"({"access\u005ftoken":"[redacted]"})");
  }
  SUBCASE("a value that mentions a key is not a key") {
    CHECK(redact_json(R"({"error":"code","error_description":"bad code"})") ==
          R"({"error":"code","error_description":"bad code"})");
  }
}

TEST_CASE("redact_json needs no valid JSON: a truncated body is redacted to its end") {
  std::string body = R"({"token_type":"Bearer","access_token":"MARKERtruncated)";
  std::string out = redact_json(body);
  CHECK(out == R"({"token_type":"Bearer","access_token":"[redacted]")");
  CHECK(out.find("MARKER") == std::string::npos);
  CHECK(redact_json(R"({"access_token")") == R"({"access_token")");
  CHECK(redact_json(R"({"access_token":)") == R"({"access_token":)");
  CHECK(redact_json(R"({"access_token": "MARK\)") == R"({"access_token": "[redacted]")");
  CHECK(redact_json("garbage \" with a quote") == "garbage \" with a quote");
}

TEST_CASE("redact_header hides credentials and cookies - keeps the scheme") {
  CHECK(redact_header("Authorization", "Bearer MARKER") == "Bearer [redacted]");
  CHECK(redact_header("authorization", "Basic MARKER") == "Basic [redacted]");
  CHECK(redact_header("Proxy-Authorization", "MARKER") == "[redacted]");
  CHECK(redact_header("Cookie", "a=MARKER") == "[redacted]");
  CHECK(redact_header("set-cookie", "s=MARKER; HttpOnly") == "[redacted]");
  CHECK(redact_header("Content-Type", "application/json") == "application/json");
}

TEST_CASE("redact_url hides secret query and fragment values and a userinfo password") {
  CHECK(redact_url("http://127.0.0.1:8020/cb?code=MARKER&state=xyz&iss=https%3A%2F%2Fa") ==
        "http://127.0.0.1:8020/cb?code=[redacted]&state=xyz&iss=https%3A%2F%2Fa");
  CHECK(redact_url("https://a/cb#access_token=MARKER&token_type=Bearer") ==
        "https://a/cb#access_token=[redacted]&token_type=Bearer");
  CHECK(redact_url("https://a/cb?x=1#id_token=MARKER") == "https://a/cb?x=1#id_token=[redacted]");
  CHECK(redact_url("https://user:MARKER@host/p") == "https://user:[redacted]@host/p");
  CHECK(redact_url("https://host/p") == "https://host/p");
  CHECK(redact_url("https://host") == "https://host");
}

TEST_CASE("redact_body picks JSON or form redaction") {
  CHECK(redact_body("application/json; charset=utf-8", R"({"token":"MARKER"})") == R"({"token":"[redacted]"})");
  CHECK(redact_body("", R"(  {"password":"MARKER"})") == R"(  {"password":"[redacted]"})");
  CHECK(redact_body("application/x-www-form-urlencoded", "token=MARKER") == "token=[redacted]");
  CHECK(redact_body("text/plain", "access_token=MARKER&scope=repo") == "access_token=[redacted]&scope=repo");
}

TEST_CASE("no marker survives a realistic token response") {
  const std::string body = R"({"access_token":"MARKERat-eyJhbGciOi","token_type":"Bearer","expires_in":"3599",)"
                           R"("refresh_token":"MARKERrt","id_token":"MARKERid","scope":"openid offline_access",)"
                           R"("device_code":"MARKERdc","subject_token":"MARKERst"})";
  CHECK(redact_json(body).find("MARKER") == std::string::npos);
  for (std::size_t cut = 0; cut <= body.size(); ++cut)
    CHECK_MESSAGE(redact_json(body.substr(0, cut)).find("MARKER") == std::string::npos, cut);
}

TEST_CASE("redact_body hides secrets whatever the Content-Type claims (the token parser may read it otherwise)") {
  const std::string bom = "\xEF\xBB\xBF";
  // JSON with a BOM sent as text/html: the parser reads it as JSON.
  CHECK(redact_body("text/html", bom + R"({"access_token":"AAAA0123456789","refresh_token":"RRRR0123456789"})")
            .find("0123456789") == std::string::npos);
  // A form body labelled JSON, and a JSON body labelled as a form.
  CHECK(redact_body("application/json", "access_token=AAAA0123456789&x=1") == "access_token=[redacted]&x=1");
  CHECK(redact_body("application/x-www-form-urlencoded", R"({"access_token":"AAAA0123456789"})") ==
        R"({"access_token":"[redacted]"})");
  // A secret form value runs to the next '&', as tokenctl's parser reads it.
  CHECK(redact_body("application/x-www-form-urlencoded", "access_token=AAAA;BBBB&refresh_token=R&x=1") ==
        "access_token=[redacted]&refresh_token=[redacted]&x=1");
  // Pairs after ';' in a value that is not secret are searched too.
  CHECK(redact_body("", "a=b;access_token=AAAA;c=d") == "a=b;access_token=[redacted];c=d");
}

TEST_CASE("redact_body hides a token wherever else the body repeats it") {
  // A server echoing the token under a name that is not secret (found by fuzz_redact).
  CHECK(redact_body("application/x-www-form-urlencoded", "access_token=AAAA012467&echo=AAAA012467") ==
        "access_token=[redacted]&echo=[redacted]");
  CHECK(redact_body("application/json", R"({"access_token":"AAAA0123456789","debug":"got AAAA0123456789"})") ==
        R"({"access_token":"[redacted]","debug":"got [redacted]"})");
  // Short values are not searched for: they would hide ordinary text.
  CHECK(redact_body("", "code=abc&note=abc") == "code=[redacted]&note=abc");
}

TEST_CASE("redact_body hides compact JWTs under any key") {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOngifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
  CHECK(redact_body("application/json", R"({"count":1,"value":")" + jwt + R"("})") ==
        R"({"count":1,"value":"[redacted]"})");
  CHECK(redact_body("text/plain", "token is " + jwt + " ok") == "token is [redacted] ok");
  CHECK(redact_body("", "eyJ alone, eyJa.b not three parts") == "eyJ alone, eyJa.b not three parts");
  CHECK(redact_body("", R"({"oidcToken":"opaque-not-a-jwt-0123"})") == R"({"oidcToken":"[redacted]"})");
}

TEST_SUITE_END();
