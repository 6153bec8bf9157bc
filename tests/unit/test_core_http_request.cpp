// The HTTP request-head parser: what a browser sends, and what an attacker might.
#include <doctest/doctest.h>

#include <string>

#include "tokenctl/http_request.hpp"

using namespace tokenctl;

namespace {
const std::string k_browser = "GET /callback?code=abc&state=x%20y HTTP/1.1\r\n"
                              "Host: 127.0.0.1:8020\r\n"
                              "User-Agent: Mozilla/5.0 (X11)\r\n"
                              "Accept:text/html \r\n"
                              "\r\n";
}

TEST_SUITE_BEGIN("core.http_request");

TEST_CASE("a browser's request head parses into its parts") {
  HeadParse parsed = parse_request_head(k_browser + "trailing bytes");
  REQUIRE(parsed.status == HeadStatus::ok);
  CHECK(parsed.size == k_browser.size());
  CHECK(parsed.head.method == "GET");
  CHECK(parsed.head.target == "/callback?code=abc&state=x%20y");
  CHECK(parsed.head.path == "/callback");
  CHECK(parsed.head.query == "code=abc&state=x%20y");
  CHECK(parsed.head.version == "HTTP/1.1");
  REQUIRE(parsed.head.headers.size() == 3);
  CHECK(parsed.head.header("host") == "127.0.0.1:8020");
  CHECK(parsed.head.header("ACCEPT") == "text/html");
  CHECK(parsed.head.count("Host") == 1);
  CHECK(parsed.head.header("Cookie").empty());
}

TEST_CASE("bare LF line ends - a target without query - HTTP/1.0") {
  HeadParse parsed = parse_request_head("GET / HTTP/1.0\nHost: x\n\n");
  REQUIRE(parsed.status == HeadStatus::ok);
  CHECK(parsed.head.path == "/");
  CHECK(parsed.head.query.empty());
  CHECK(parsed.head.version == "HTTP/1.0");
  CHECK(parse_request_head("GET /a? HTTP/1.1\r\n\r\n").head.query.empty());
}

TEST_CASE("every proper prefix of a head is incomplete") {
  for (std::size_t cut = 0; cut < k_browser.size(); ++cut)
    CHECK_MESSAGE(parse_request_head(k_browser.substr(0, cut)).status == HeadStatus::incomplete, cut);
}

TEST_CASE("malformed heads are bad requests") {
  for (const char* bad :
       {"GET /a\r\n\r\n", "GET  /a HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1 x\r\n\r\n", "GET http://evil/a HTTP/1.1\r\n\r\n",
        "GET a HTTP/1.1\r\n\r\n", "GET /a HTTP/2.0\r\n\r\n", "G(T /a HTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n",
        "GET /a#frag HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n", "GET /a HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "GET /\x01 HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.1\r\nX: a\x01b\r\n\r\n", "\r\n\r\n"})
    CHECK_MESSAGE(parse_request_head(bad).status == HeadStatus::bad_request, bad);
  HeadParse parsed = parse_request_head("GET /a HTTP/2.0\r\n\r\n");
  CHECK(parsed.problem == "the HTTP version is not 1.0 or 1.1");
}

TEST_CASE("a malformed line is refused before the head is complete") {
  CHECK(parse_request_head("GET /a HTTP/1.1\r\nbad line\r\n").status == HeadStatus::bad_request);
}

TEST_CASE("limits: request line 8 KiB - header block 16 KiB - 64 fields") {
  const std::string long_target = "/" + std::string(k_max_request_line, 'a');
  SUBCASE("a request line over 8 KiB, complete or not") {
    CHECK(parse_request_head("GET " + long_target + " HTTP/1.1\r\n\r\n").status == HeadStatus::too_large);
    CHECK(parse_request_head("GET " + long_target).status == HeadStatus::too_large);
  }
  SUBCASE("a request line of exactly 8 KiB (with its CRLF) is fine, one byte more is not") {
    std::string target = "/" + std::string(k_max_request_line - 16, 'a');
    std::string head = "GET " + target + " HTTP/1.1\r\n\r\n";
    REQUIRE(head.size() - 2 == k_max_request_line);
    CHECK(parse_request_head(head).status == HeadStatus::ok);
    CHECK(parse_request_head("GET " + target + "b HTTP/1.1\r\n\r\n").status == HeadStatus::too_large);
  }
  SUBCASE("a header block over 16 KiB, complete or not") {
    std::string head = "GET / HTTP/1.1\r\nX: " + std::string(k_max_header_block, 'v') + "\r\n";
    CHECK(parse_request_head(head + "\r\n").status == HeadStatus::too_large);
    CHECK(parse_request_head(head.substr(0, head.size() - 2)).status == HeadStatus::too_large);
  }
  SUBCASE("64 fields are fine, 65 are too many") {
    std::string head = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i < k_max_header_count; ++i) head += "X" + std::to_string(i) + ": v\r\n";
    CHECK(parse_request_head(head + "\r\n").status == HeadStatus::ok);
    CHECK(parse_request_head(head + "Y: v\r\n\r\n").status == HeadStatus::too_large);
  }
}

TEST_CASE("a repeated Host header is counted") {
  HeadParse parsed = parse_request_head("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n");
  REQUIRE(parsed.status == HeadStatus::ok);
  CHECK(parsed.head.count("HOST") == 2);
  CHECK(parsed.head.header("Host") == "a");
}

TEST_SUITE_END();
