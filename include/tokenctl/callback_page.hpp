// The HTML pages the loopback listener shows in the browser after a login attempt.
// Self-contained: no script, no external resource; every value from the request is escaped.
#pragma once

#include <string>
#include <string_view>

namespace tokenctl {

// Return `text` with & < > " ' replaced by character references.
std::string html_escape(std::string_view text);
// Return the page for a successful login.
std::string success_page();
// Return the page for a failed login: a title, then `error` and `description` (as the server or
// the request gave them, so untrusted) HTML-escaped; `description` may be empty.
std::string error_page(std::string_view error, std::string_view description);
// Return a minimal page for a plain HTTP status (404 Not Found and friends).
std::string status_page(int status, std::string_view reason);

} // namespace tokenctl
