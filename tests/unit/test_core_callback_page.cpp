// The pages shown in the browser: self-contained, and never markup from the request.
#include <doctest/doctest.h>

#include <string>

#include "tokenctl/callback_page.hpp"

using namespace tokenctl;

namespace {
bool self_contained(const std::string& html) {
  for (const char* bad : {"<script", "src=", "href=", "http://", "https://", "@import", "url("})
    if (html.find(bad) != std::string::npos) return false;
  return true;
}
} // namespace

TEST_SUITE_BEGIN("core.callback_page");

TEST_CASE("html_escape replaces the five special characters") {
  CHECK(html_escape("<a href=\"x\">Tom & 'Jerry'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  CHECK(html_escape("plain text") == "plain text");
  CHECK(html_escape("") == "");
}

TEST_CASE("the success page says so and loads nothing") {
  std::string page = success_page();
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("You are signed in to tokenctl") != std::string::npos);
  CHECK(page.find("You can close this window") != std::string::npos);
  CHECK(page.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(self_contained(page));
}

TEST_CASE("the error page shows error and description escaped - never as markup") {
  std::string page =
      error_page("access_denied<script>alert(1)</script>", "The user said \"no\" & <img src=x onerror=alert(2)>");
  CHECK(page.find("tokenctl sign-in failed") != std::string::npos);
  CHECK(page.find("access_denied&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("The user said &quot;no&quot; &amp; &lt;img src=x onerror=alert(2)&gt;") != std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(self_contained(page.substr(0, page.find("The user said")))); // the head and style load nothing
}

TEST_CASE("an empty description leaves no empty paragraph") {
  std::string page = error_page("invalid_request", "");
  CHECK(page.find("<code>invalid_request</code>") != std::string::npos);
  CHECK(page.find("<p></p>") == std::string::npos);
}

TEST_CASE("status pages") {
  std::string page = status_page(404, "Not Found");
  CHECK(page.find("<title>404 Not Found</title>") != std::string::npos);
  CHECK(self_contained(page));
}

TEST_SUITE_END();
