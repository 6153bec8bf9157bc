// The git credential helper protocol: parsing git's request, and which profile serves it
// (scheme, host case-insensitively, port with its default filled in; never the path).
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "tokenctl/git_credential.hpp"

using namespace tokenctl;

namespace {

using Request = std::map<std::string, std::string>;

Profile profile(std::string name, std::string host) {
  Profile p;
  p.name = std::move(name);
  p.host = std::move(host);
  return p;
}

bool matches(const std::string& profile_host, const Request& request) {
  return credential_matches(profile("p", profile_host), request);
}

} // namespace

TEST_SUITE_BEGIN("core.git_credential");

TEST_CASE("parse_credential_request reads key=value lines up to a blank line or the end") {
  CHECK(parse_credential_request("protocol=https\nhost=git.example.com\npath=org/repo.git\n\n") ==
        Request{{"protocol", "https"}, {"host", "git.example.com"}, {"path", "org/repo.git"}});
  CHECK(parse_credential_request("protocol=https\nhost=git.example.com") ==
        Request{{"protocol", "https"}, {"host", "git.example.com"}});
  CHECK(parse_credential_request("protocol=https\r\nhost=git.example.com\r\n\r\n") ==
        Request{{"protocol", "https"}, {"host", "git.example.com"}});
  CHECK(parse_credential_request("protocol=https\n\nhost=ignored\n") == Request{{"protocol", "https"}});
  CHECK(parse_credential_request("") == Request{});
  CHECK(parse_credential_request("\n") == Request{});
}

TEST_CASE("parse_credential_request: the value is everything after the first '=', maybe empty") {
  CHECK(parse_credential_request("password=a=b==\n") == Request{{"password", "a=b=="}});
  CHECK(parse_credential_request("username=\n") == Request{{"username", ""}});
  CHECK(parse_credential_request("path=with spaces and \t tabs\n") == Request{{"path", "with spaces and \t tabs"}});
}

TEST_CASE("parse_credential_request refuses a line without a key or without '='") {
  for (const char* bad : {"protocol\n", "protocol=https\nhost\n", "=https\n", "protocol=https\n=x\n", " \n",
                          "protocol=https\nhost git.example.com\n\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_credential_request(bad));
  }
}

TEST_CASE("parse_credential_request takes 64 KiB, not a byte more") {
  REQUIRE(k_max_credential_request == 64 * 1024);
  const std::string key = "path=";
  const std::string exact = key + std::string(k_max_credential_request - key.size(), 'a');
  const auto parsed = parse_credential_request(exact);
  REQUIRE(parsed);
  CHECK(parsed->at("path").size() == k_max_credential_request - key.size());
  CHECK_FALSE(parse_credential_request(exact + "a"));
  // The limit is on the whole input, even what follows the blank line.
  CHECK_FALSE(parse_credential_request("protocol=https\n\n" + std::string(k_max_credential_request, 'x')));
}

TEST_CASE("credential_matches: protocol and host, case-insensitively") {
  const std::string host = "https://git.example.com";
  CHECK(matches(host, {{"protocol", "https"}, {"host", "git.example.com"}}));
  CHECK(matches(host, {{"protocol", "HTTPS"}, {"host", "Git.Example.COM"}}));
  CHECK(matches("https://GIT.example.com", {{"protocol", "https"}, {"host", "git.EXAMPLE.com"}}));
  CHECK_FALSE(matches(host, {{"protocol", "https"}, {"host", "example.com"}}));
  CHECK_FALSE(matches(host, {{"protocol", "https"}, {"host", "git.example.com.evil.example"}}));
  CHECK_FALSE(matches(host, {{"protocol", "ssh"}, {"host", "git.example.com"}}));
  CHECK_FALSE(matches(host, {{"protocol", "http"}, {"host", "git.example.com"}}));
  CHECK_FALSE(matches(host, {{"host", "git.example.com"}}));
  CHECK_FALSE(matches(host, {{"protocol", "https"}}));
  CHECK_FALSE(matches("not a url", {{"protocol", "https"}, {"host", "not a url"}}));
}

TEST_CASE("credential_matches: default ports are filled in on both sides") {
  CHECK(matches("https://git.example.com", {{"protocol", "https"}, {"host", "git.example.com:443"}}));
  CHECK(matches("https://git.example.com:443", {{"protocol", "https"}, {"host", "git.example.com"}}));
  CHECK(matches("https://git.example.com:8443", {{"protocol", "https"}, {"host", "git.example.com:8443"}}));
  CHECK_FALSE(matches("https://git.example.com:8443", {{"protocol", "https"}, {"host", "git.example.com"}}));
  CHECK_FALSE(matches("https://git.example.com", {{"protocol", "https"}, {"host", "git.example.com:8443"}}));
  CHECK_FALSE(matches("https://git.example.com", {{"protocol", "https"}, {"host", "git.example.com:80"}}));
  CHECK(matches("http://localhost", {{"protocol", "http"}, {"host", "localhost:80"}}));
  CHECK_FALSE(matches("http://localhost", {{"protocol", "http"}, {"host", "localhost:443"}}));
}

TEST_CASE("credential_matches: a port that is not 1 to 5 digits matches nothing") {
  for (const char* host : {"git.example.com:", "git.example.com:https", "git.example.com:443x",
                           "git.example.com:000443", "git.example.com:-443", "git.example.com: 443"}) {
    CAPTURE(host);
    CHECK_FALSE(matches("https://git.example.com", {{"protocol", "https"}, {"host", host}}));
  }
}

TEST_CASE("credential_matches: plain http only for loopback profiles") {
  CHECK(matches("http://127.0.0.1:8080", {{"protocol", "http"}, {"host", "127.0.0.1:8080"}}));
  CHECK(matches("http://localhost:3000", {{"protocol", "http"}, {"host", "LocalHost:3000"}}));
  CHECK(matches("http://[::1]:8080", {{"protocol", "http"}, {"host", "[::1]:8080"}}));
  CHECK(matches("http://[::1]", {{"protocol", "http"}, {"host", "[::1]"}}));
  CHECK_FALSE(matches("http://[::1]:8080", {{"protocol", "http"}, {"host", "[::1]"}}));
  CHECK_FALSE(matches("http://git.example.com", {{"protocol", "http"}, {"host", "git.example.com"}}));
  CHECK_FALSE(matches("http://10.0.0.1", {{"protocol", "http"}, {"host", "10.0.0.1"}}));
  CHECK_FALSE(matches("http://127.0.0.1:8080", {{"protocol", "https"}, {"host", "127.0.0.1:8080"}}));
}

TEST_CASE("credential_matches ignores the path, in the request and in the profile's host") {
  CHECK(matches("https://git.example.com",
                {{"protocol", "https"}, {"host", "git.example.com"}, {"path", "org/repo.git"}}));
  CHECK(matches("https://git.example.com/gitlab", {{"protocol", "https"}, {"host", "git.example.com"}}));
  CHECK(matches("https://git.example.com/gitlab",
                {{"protocol", "https"}, {"host", "git.example.com"}, {"path", "other/repo.git"}}));
}

TEST_CASE("match_credential_profile returns the first profile that matches, in file order") {
  const std::vector<Profile> profiles = {
      profile("other", "https://other.example.com"), profile("first", "https://git.example.com/a"),
      profile("second", "https://git.example.com/b"), profile("local", "http://127.0.0.1:8080")};
  const Profile* p = match_credential_profile(profiles, {{"protocol", "https"}, {"host", "git.example.com"}});
  REQUIRE(p != nullptr);
  CHECK(p->name == "first");
  p = match_credential_profile(profiles, {{"protocol", "http"}, {"host", "127.0.0.1:8080"}});
  REQUIRE(p != nullptr);
  CHECK(p->name == "local");
  CHECK(match_credential_profile(profiles, {{"protocol", "https"}, {"host", "unknown.example.com"}}) == nullptr);
  CHECK(match_credential_profile({}, {{"protocol", "https"}, {"host", "git.example.com"}}) == nullptr);
}

TEST_CASE("format_credential: username, password and the expiry in Unix seconds when known") {
  CHECK(format_credential("token", "s3cret", std::nullopt) == "username=token\npassword=s3cret\n");
  CHECK(format_credential("token", "s3cret", TimePoint{std::chrono::seconds(1800000000)}) ==
        "username=token\npassword=s3cret\npassword_expiry_utc=1800000000\n");
}

TEST_SUITE_END();
