// The hot-path readers must agree with the full parsers: same set, same errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/plain_json.hpp"
#include "tokenctl/config.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/token_cache.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.fast_read");

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const std::string k_cache = R"({
  "version": 1,
  "tokens": {
    "a": {"access_token": "A\"x\\", "token_type": "Bearer", "scopes": ["s"], "endpoints": {"issuer": "i"}},
    "b.c": {"access_token": "B", "token_type": "Bearer", "expiry": "2030-01-01T00:00:00Z"},
    "x": {"nested": [[{"deep": [1, 2, {"k": "v"}]}]], "access_token": "X", "token_type": "Bearer"}
  }
})";
} // namespace

TEST_CASE("one set read by the scanner equals the same set read by the full parser") {
  const TokenCache full = parse_token_cache(k_cache, "c.json");
  for (const char* name : {"a", "b.c", "x"}) {
    const auto one = parse_token_cache_entry(k_cache, name, "c.json");
    REQUIRE(one);
    CHECK(serialize_token_cache(TokenCache{{{name, *one}}}) ==
          serialize_token_cache(TokenCache{{{name, full.tokens.at(name)}}}));
  }
  CHECK_FALSE(parse_token_cache_entry(k_cache, "missing", "c.json"));
  CHECK_FALSE(parse_token_cache_entry(R"({"version":1,"tokens":{}})", "a", "c.json"));
}

TEST_CASE("damaged caches give the full parser's errors") {
  const std::vector<std::string> bad = {"",
                                        "{",
                                        "[]",
                                        R"({"version":1})",
                                        R"({"version":2,"tokens":{}})",
                                        R"({"version":1,"tokens":{"a":{"access_token":"A")",
                                        R"({"version":1,"tokens":{"a":{"access_token":1}}})",
                                        R"({"version":1,"tokens":{"a":[]}})",
                                        R"({"version":1,"tokens":{"a":{}}} trailing)",
                                        std::string(1000, '[') + std::string(1000, ']'),
                                        R"({"version":1,"tokens":{"\u0061":{"access_token":1}}})",
                                        R"({"version":1,"tokens":{"a":{"expiry":"soon"}}})"};
  for (const auto& bytes : bad) {
    CAPTURE(bytes);
    const std::string full = error_of([&] { parse_token_cache(bytes, "c.json"); });
    const std::string fast = error_of([&] { parse_token_cache_entry(bytes, "a", "c.json"); });
    CHECK_FALSE(full.empty());
    CHECK(fast == full);
  }
}

TEST_CASE("a duplicated profile: the last one wins, as in the full parser") {
  const std::string twice = R"({"version":1,"tokens":{"a":{"access_token":"first"},"a":{"access_token":"second"}}})";
  CHECK(parse_token_cache_entry(twice, "a", "c.json")->access_token ==
        parse_token_cache(twice, "c.json").tokens.at("a").access_token);
}

TEST_CASE("the config slice keeps the top level and one profile, with their line numbers, and ends there") {
  const std::string text = "default_profile = \"b\"\n\n[profiles.a]\nhost = \"https://a\"\nbogus = 1\n\n"
                           "[profiles.b]\r\nhost = \"https://b\"\r\n[profiles.b.auth_params]\nsub = \"x\"\n"
                           "[profiles.\"c.d\"]\nhost = \"https://c\"\n";
  const auto slice = slice_config(text, "b");
  REQUIRE(slice);
  // Every line up to the profile's last one is there (blank when it is another profile's), so line
  // numbers hold; the lines after it are left out.
  CHECK(*slice == "default_profile = \"b\"\n\n\n\n\n\n[profiles.b]\r\nhost = \"https://b\"\r\n"
                  "[profiles.b.auth_params]\nsub = \"x\"\n");
  const std::string last = *slice_config(text, "c.d");
  CHECK(last.ends_with("[profiles.\"c.d\"]\nhost = \"https://c\"\n"));
  CHECK(std::count(last.begin(), last.end(), '\n') == std::count(text.begin(), text.end(), '\n'));
  const Config c = parse_config(*slice, "cfg");
  REQUIRE(c.profiles.size() == 1);
  CHECK(c.profiles[0].name == "b");
  CHECK(c.profiles[0].line == 7);
  CHECK(c.profiles[0].auth_params.size() == 1);
  CHECK(c.default_profile == "b");
  // The other profile's error is not seen through the slice, but the full parser sees it.
  CHECK(error_of([&] { parse_config(text, "cfg"); }) == "cfg:5: unknown key \"bogus\" in profile \"a\"");
  CHECK(error_of([&] { parse_config(*slice_config(text, "a"), "cfg"); }) ==
        "cfg:5: unknown key \"bogus\" in profile \"a\"");
  CHECK(parse_config(*slice_config(text, "c.d"), "cfg").profiles.at(0).host == "https://c");
  CHECK(parse_config(*slice_top_level(text), "cfg").profiles.empty());
}

TEST_CASE("shapes a line-based cut could get wrong are refused") {
  for (const char* text : {"x = \"\"\"\n[profiles.a]\n\"\"\"\n", "[[profiles]]\nname = 1\n",
                           "[profiles]\na.host = \"h\"\n", "profiles.a.host = \"https://a\"\n", "[other]\nx = 1\n",
                           "[profiles.a] junk\n", "[profiles.a]\nscopes = [\n[1]]\n"}) {
    CAPTURE(text);
    CHECK_FALSE(slice_config(text, "a"));
  }
}

TEST_CASE("the plain JSON reader builds what nlohmann builds, or leaves the text to it") {
  const std::vector<std::string> plain = {
      "{}",
      "[]",
      " { \"a\" : [ 1 , -2 , 0 , -0 , true , false , null , \"\" ] } ",
      R"({"a":{"b":{"c":[[]]}},"a":"later wins","n":123456789012345678,"m":-123456789012345678})",
      "{\"t\":\"" + std::string(1000, 'x') + "!~ /:=+\"}",
      "\"a string\"",
      "7",
      "{\r\n\t\"k\":\"v\"}"};
  for (const auto& text : plain) {
    CAPTURE(text);
    const auto fast = parse_plain_json(text, 32);
    REQUIRE(fast);
    CHECK(*fast == nlohmann::json::parse(text));
    CHECK(fast->dump() == nlohmann::json::parse(text).dump());
  }
  // Unsigned as nlohmann keeps non-negative integers, signed for negative ones.
  CHECK(parse_plain_json("5", 32)->is_number_unsigned());
  CHECK(parse_plain_json("-5", 32)->is_number_integer());
  CHECK_FALSE(parse_plain_json("-5", 32)->is_number_unsigned());
  // Valid JSON that is not plain, and damage: both go to nlohmann.
  const std::vector<std::string> not_plain = {R"({"a":"\u0041"})",
                                              R"({"a":"\"q"})",
                                              "{\"a\":\"caf\xc3\xa9\"}",
                                              "{\"a\":\"tab\there\"}",
                                              "{\"a\":\"\x7f\"}",
                                              "1.5",
                                              "1e3",
                                              "1234567890123456789",
                                              "01",
                                              "-",
                                              "tru",
                                              "nul",
                                              "{\"a\":1,}",
                                              "[1 2]",
                                              "{\"a\" 1}",
                                              "{}x",
                                              "",
                                              "  ",
                                              "\"open",
                                              "[" + std::string(40, '[') + std::string(41, ']')};
  for (const auto& text : not_plain) {
    CAPTURE(text);
    CHECK_FALSE(parse_plain_json(text, 32));
  }
  // The depth limit is nlohmann's guard's: 32 levels read, 33 left to the full parser's error.
  CHECK(parse_plain_json(std::string(32, '[') + std::string(32, ']'), 32));
  CHECK_FALSE(parse_plain_json(std::string(33, '[') + std::string(33, ']'), 32));
}

TEST_SUITE_END();
