// The pages served to the browser on the loopback redirect. The error and its description come
// from the query string, so from whoever can make the browser open our port: they are escaped
// and shown as text, never as markup.
#include "tokenctl/callback_page.hpp"

namespace tokenctl {
namespace {

constexpr std::string_view k_style =
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;"
    "color:#222;line-height:1.5}h1{font-size:1.4em}.error{color:#a40000}"
    "code{background:#f2f2f2;padding:.1em .3em;word-break:break-all}";

std::string page(std::string_view title, std::string_view body_html) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(title) + "</title>\n";
  out += "<style>" + std::string(k_style) + "</style>\n</head>\n<body>\n";
  out += body_html;
  out += "</body>\n</html>\n";
  return out;
}

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string success_page() {
  return page("Signed in to tokenctl", "<h1>You are signed in to tokenctl</h1>\n"
                                       "<p>You can close this window and return to the terminal.</p>\n");
}

std::string error_page(std::string_view error, std::string_view description) {
  std::string body = "<h1 class=\"error\">tokenctl sign-in failed</h1>\n";
  body += "<p>Error: <code>" + html_escape(error) + "</code></p>\n";
  if (!description.empty()) body += "<p>" + html_escape(description) + "</p>\n";
  body += "<p>Close this window and see the terminal for what to do next.</p>\n";
  return page("tokenctl sign-in failed", body);
}

std::string status_page(int status, std::string_view reason) {
  std::string title = std::to_string(status) + " " + std::string(reason);
  return page(title, "<h1>" + html_escape(title) + "</h1>\n");
}

} // namespace tokenctl
