#include <doctest/doctest.h>

#include <string>

#include "tokenctl/url.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.url");

TEST_CASE("parse_url splits an https URL and lowercases scheme and host only") {
  const auto url = parse_url("HTTPS://Login.Example.COM:8443/Realms/Corp?a=B&c=%2F#Frag");
  REQUIRE(url);
  CHECK(url->scheme == "https");
  CHECK(url->host == "login.example.com");
  CHECK(url->port == 8443);
  CHECK(url->path == "/Realms/Corp");
  CHECK(url->has_query);
  CHECK(url->query == "a=B&c=%2F");
  CHECK(url->has_fragment);
  CHECK(url->fragment == "Frag");
}

TEST_CASE("parse_url without port, path, query or fragment") {
  const auto url = parse_url("http://localhost");
  REQUIRE(url);
  CHECK(url->port == -1);
  CHECK(url->path.empty());
  CHECK_FALSE(url->has_query);
  CHECK_FALSE(url->has_fragment);

  const auto empty_query = parse_url("https://a.example/?#");
  REQUIRE(empty_query);
  CHECK(empty_query->path == "/");
  CHECK(empty_query->has_query);
  CHECK(empty_query->query.empty());
  CHECK(empty_query->has_fragment);
}

TEST_CASE("parse_url takes IPv6 literals in brackets") {
  const auto url = parse_url("http://[::1]:8020/callback");
  REQUIRE(url);
  CHECK(url->host == "::1");
  CHECK(url->port == 8020);
  CHECK(url->path == "/callback");
  CHECK(parse_url("https://[2001:DB8::A]/")->host == "2001:db8::a");
  CHECK(parse_url("https://[::ffff:192.0.2.1]/"));
  CHECK(parse_url("https://[1:2:3:4:5:6:7:8]/"));
  CHECK_FALSE(parse_url("https://[1:2:3:4:5:6:7:8:9]/"));
  CHECK_FALSE(parse_url("https://[1::2::3]/"));
  CHECK_FALSE(parse_url("https://[::1%25eth0]/"));
  CHECK_FALSE(parse_url("https://[::1/"));
  CHECK_FALSE(parse_url("https://[::1]x/"));
  CHECK_FALSE(parse_url("https://[example.com]/"));
  CHECK_FALSE(parse_url("https://::1/"));
}

TEST_CASE("parse_url refuses what is not an absolute http(s) URL") {
  for (const char* bad : {"", "example.com", "//example.com/", "ftp://example.com/", "https:/x", "https://",
                          "https:///path", "https://:443/", "javascript://x"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_url(bad));
  }
}

TEST_CASE("parse_url refuses userinfo") {
  CHECK_FALSE(parse_url("https://user@example.com/"));
  CHECK_FALSE(parse_url("https://user:pw@example.com/"));
  CHECK_FALSE(parse_url("https://evil.example@good.example/"));
  CHECK(parse_url("https://example.com/a@b")); // '@' in the path is not userinfo
}

TEST_CASE("parse_url checks the port: 1 to 65535, digits only") {
  CHECK(parse_url("https://a.example:1/")->port == 1);
  CHECK(parse_url("https://a.example:65535/")->port == 65535);
  for (const char* bad :
       {"https://a.example:0/", "https://a.example:65536/", "https://a.example:/", "https://a.example:-1/",
        "https://a.example:80x/", "https://a.example:999999/", "https://a.example:1:2/", "https://[::1]:/"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_url(bad));
  }
}

TEST_CASE("parse_url refuses hostile text") {
  for (const char* bad :
       {"https://example.com/%zz", "https://example.com/%", "https://example.com/%4", "https://example.com/a b",
        "https://exa mple.com/", "https://example.com/\n", "https://example.com\r\n/", "https://ex%41mple.com/",
        "https://example.com/\"", "https://example.com/<script>", "https://example.com/?q=%g0",
        "https://example.com/#%", "https://bücher.example/", "https://example.com/ä"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_url(bad));
  }
  CHECK_FALSE(parse_url(std::string("https://example.com/\0x", 22)));
}

TEST_CASE("parse_url copes with a huge URL") {
  const std::string path(1 << 20, 'a');
  const auto url = parse_url("https://example.com/" + path);
  REQUIRE(url);
  CHECK(url->path.size() == path.size() + 1);
  CHECK_FALSE(parse_url("https://" + std::string(1 << 20, '[')));
  CHECK_FALSE(parse_url("https://[" + std::string(1 << 20, ':') + "]/"));
}

TEST_CASE("format_url round-trips parse_url") {
  for (const char* text : {"https://example.com", "https://example.com/", "http://127.0.0.1:8020/cb?x=1",
                           "https://[::1]:9/a/b?c=d#e", "https://h.example/p%2Fq?#", "https://h.example?x"}) {
    CAPTURE(text);
    const auto url = parse_url(text);
    REQUIRE(url);
    CHECK(format_url(*url) == text);
  }
  CHECK(format_url(*parse_url("HTTPS://EXAMPLE.com/Path")) == "https://example.com/Path");
}

TEST_CASE("is_loopback_host: localhost, 127.0.0.0/8 and ::1 only") {
  for (const char* yes : {"localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "127.1.2.3", "::1", "[::1]",
                          "0:0:0:0:0:0:0:1", "::0001"}) {
    CAPTURE(yes);
    CHECK(is_loopback_host(yes));
  }
  for (const char* no :
       {"", "127.0.0.1.example.com", "localhost.example.com", "128.0.0.1", "127.0.0", "127.0.0.256", "127.0.0.1 ",
        "::2", "::", "::ffff:127.0.0.1", "0.0.0.0", "10.0.0.1", "[::1", "example.com", "127.0.0.1:80"}) {
    CAPTURE(no);
    CHECK_FALSE(is_loopback_host(no));
  }
}

TEST_CASE("endpoint_url_problem allows https anywhere and http for loopback only") {
  CHECK(endpoint_url_problem("https://login.example.com/token") == "");
  CHECK(endpoint_url_problem("https://login.example.com/token?x=1") == "");
  CHECK(endpoint_url_problem("http://localhost:8080/token") == "");
  CHECK(endpoint_url_problem("http://127.0.0.1/token") == "");
  CHECK(endpoint_url_problem("http://[::1]:9000/") == "");
  CHECK(endpoint_url_problem("http://login.example.com/token") ==
        "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost)");
  CHECK(endpoint_url_problem("http://10.0.0.1/token") ==
        "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost)");
  CHECK(endpoint_url_problem("login.example.com/token") == "not an absolute https URL");
  CHECK(endpoint_url_problem("") == "not an absolute https URL");
  CHECK(endpoint_url_problem("https://user@login.example.com/") == "not an absolute https URL");
  CHECK(endpoint_url_problem("https://login.example.com/token#x") == "an endpoint URL must not have a fragment ('#')");
}

TEST_CASE("percent_encode keeps only unreserved characters") {
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("a b+c/d?e=f&g%") == "a%20b%2Bc%2Fd%3Fe%3Df%26g%25");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
  CHECK(percent_encode(std::string("\0", 1)) == "%00");
  CHECK(percent_encode("") == "");
}

TEST_CASE("form_encode writes spaces as '+' (RFC 6749 appendix B)") {
  CHECK(form_encode(" %&+\xc2\xa3\xe2\x82\xac") == "+%25%26%2B%C2%A3%E2%82%AC");
  CHECK(form_encode("openid offline_access") == "openid+offline_access");
  CHECK(form_encode("a~b") == "a~b");
}

TEST_CASE("form_decode reverses form_encode and refuses malformed escapes") {
  using namespace std::string_literals;
  for (const std::string& s : {""s, "plain"s, " lead and trail "s, "%+&=?#"s, "\xff\xfe"s, "a\0b"s}) {
    CHECK(form_decode(form_encode(s)) == s);
  }
  CHECK(form_decode("a%2fb%2F") == "a/b/");
  CHECK(form_decode("a+b%20c") == "a b c");
  CHECK_FALSE(form_decode("%zz"));
  CHECK_FALSE(form_decode("%"));
  CHECK_FALSE(form_decode("abc%4"));
  CHECK_FALSE(form_decode("%%41"));
}

TEST_CASE("encode_params and parse_params round-trip, in order") {
  const Params params{{"grant_type", "authorization_code"}, {"code", "a b&c=d"}, {"x", ""}, {"x", "2"}};
  const std::string body = encode_params(params);
  CHECK(body == "grant_type=authorization_code&code=a+b%26c%3Dd&x=&x=2");
  CHECK(parse_params(body) == params);
  CHECK(encode_params({}) == "");
}

TEST_CASE("parse_params tolerates empty pieces and refuses bad escapes") {
  CHECK(parse_params("")->empty());
  CHECK(parse_params("&&")->empty());
  const auto params = parse_params("code=abc&state&&iss=https%3A%2F%2Fa.example");
  REQUIRE(params);
  CHECK(*params == Params{{"code", "abc"}, {"state", ""}, {"iss", "https://a.example"}});
  CHECK(parse_params("a=b=c")->at(0).second == "b=c");
  CHECK_FALSE(parse_params("code=%zz"));
  CHECK_FALSE(parse_params("%=1"));
}

TEST_SUITE_END();
