// Base64 and base64url (RFC 4648): the RFC's test vectors, both alphabets, optional padding on
// decode, and every character outside the URL-safe alphabet refused.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "tokenctl/encoding.hpp"

using namespace tokenctl;

namespace {

// RFC 4648 section 10: input, standard Base64 with padding.
const std::vector<std::pair<std::string, std::string>> k_vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};

std::string without_padding(std::string text) {
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

} // namespace

TEST_SUITE_BEGIN("core.encoding");

TEST_CASE("base64_encode: the RFC 4648 test vectors, with padding") {
  for (const auto& [in, out] : k_vectors) {
    CAPTURE(in);
    CHECK(base64_encode(in) == out);
  }
}

TEST_CASE("base64url_encode: the RFC 4648 test vectors, without padding") {
  for (const auto& [in, out] : k_vectors) {
    CAPTURE(in);
    CHECK(base64url_encode(in) == without_padding(out));
  }
}

TEST_CASE("the two alphabets differ in the last two characters only") {
  // 0xfb 0xff 0xbf is the 6-bit groups 62 63 62 63.
  CHECK(base64_encode("\xfb\xff\xbf") == "+/+/");
  CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64_encode(std::string("\0\0\0", 3)) == "AAAA");
  const std::string bytes = all_bytes();
  std::string url = base64_encode(bytes);
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  CHECK(base64url_encode(bytes) == without_padding(url));
}

TEST_CASE("base64url_decode: the RFC 4648 test vectors, padding optional") {
  for (const auto& [in, out] : k_vectors) {
    CAPTURE(out);
    CHECK(base64url_decode(out) == in);
    CHECK(base64url_decode(without_padding(out)) == in);
  }
  CHECK(base64url_decode("-_-_") == "\xfb\xff\xbf");
  CHECK(base64url_decode("-_8") == "\xfb\xff");
  CHECK(base64url_decode("-_8=") == "\xfb\xff");
}

TEST_CASE("base64url round-trips every byte value at every length modulo 3") {
  const std::string bytes = all_bytes();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{254},
                        std::size_t{255}, std::size_t{256}}) {
    CAPTURE(n);
    const std::string in = bytes.substr(0, n);
    CHECK(base64url_decode(base64url_encode(in)) == in);
  }
}

TEST_CASE("base64url_decode refuses characters outside the URL-safe alphabet") {
  for (const char* bad : {"+/+/", "Zm9v+", "Zm/v", "Zm9v Yg", "Zm9v\nYg", "Zm9v\tYg", " Zm9v", "Zm9v.", "Zm9v*",
                          "Zg==Zg", "=Zg", "Zm9\xc3\xa9", "Zm9v\x80"}) {
    CAPTURE(bad);
    CHECK_FALSE(base64url_decode(bad).has_value());
  }
  CHECK_FALSE(base64url_decode(std::string("Zm\0v", 4)).has_value());
}

TEST_CASE("base64url_decode refuses a length that no encoding has") {
  for (const char* bad : {"Z", "Zm9vY", "Zm9vY=", "Zm9vYmFyZ", "Z==="}) {
    CAPTURE(bad);
    CHECK_FALSE(base64url_decode(bad).has_value());
  }
  CHECK(base64url_decode("") == "");
  CHECK(base64url_decode("==") == "");
}

TEST_SUITE_END();
