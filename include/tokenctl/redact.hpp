// Redaction of secrets for verbose logs and displays: every line of `-v` output passes here.
#pragma once

#include <string>
#include <string_view>

namespace tokenctl {

// Return whether a form, query or JSON key names a secret (access_token, code, password, ...),
// compared case-insensitively.
bool is_secret_param(std::string_view name);
// Return the first 4 and last 4 characters joined by "...", or "[redacted]" for a secret shorter
// than 12 characters (which would be mostly shown otherwise).
std::string redact(std::string_view secret);
// Return a form body or query string with the value of every secret key replaced by "[redacted]";
// everything else is kept byte for byte.
std::string redact_form(std::string_view body);
// Return a JSON text with the string value of every secret key replaced by "[redacted]"
// (non-string values by null). A scan over the text: invalid or truncated JSON is redacted too,
// an unterminated secret value up to the end.
std::string redact_json(std::string_view body);
// Return the value of a header for logging: credentials of Authorization and
// Proxy-Authorization (the scheme is kept), and all of Cookie and Set-Cookie, become "[redacted]".
std::string redact_header(std::string_view name, std::string_view value);
// Return `url` with the values of secret keys in its query and fragment, and any userinfo
// password, replaced by "[redacted]".
std::string redact_url(std::string_view url);
// Return a message body for logging: redacted both as JSON and as a form, whatever its
// Content-Type says (`content_type` is kept for the callers' sake and not trusted), and every
// compact JWT in it hidden whatever its key (a CI token service's {"value": JWT}).
std::string redact_body(std::string_view content_type, std::string_view body);

} // namespace tokenctl
