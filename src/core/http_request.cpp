// Parser of HTTP/1.x request heads (RFC 9112 sections 2 to 5), strict where leniency would help
// an attacker (line folding, spaces before the colon, control characters, absolute targets) and
// bounded everywhere, so that a peer who never finishes its head is told "too large", not
// waited for.
#include "tokenctl/http_request.hpp"
#include "tokenctl/text.hpp"

#include <optional>

namespace tokenctl {
namespace {

// RFC 9110 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

// Visible ASCII only: no space, no controls, no bytes >= 0x80 (browsers percent-encode those).
bool is_target(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  return true;
}

bool is_field_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

HeadParse fail(HeadStatus status, std::string problem) {
  HeadParse result;
  result.status = status;
  result.problem = std::move(problem);
  return result;
}

// Return the line starting at `pos` (without its CRLF or LF) and move `pos` past it;
// nullopt if `bytes` ends before the line does.
std::optional<std::string_view> next_line(std::string_view bytes, std::size_t& pos) {
  std::size_t lf = bytes.find('\n', pos);
  if (lf == std::string_view::npos) return std::nullopt;
  std::string_view line = bytes.substr(pos, lf - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = lf + 1;
  return line;
}

bool parse_request_line(std::string_view line, RequestHead& head, std::string& problem) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    problem = "the request line is not METHOD TARGET VERSION";
    return false;
  }
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    problem = "the method is malformed";
    return false;
  }
  if (!is_target(target)) {
    problem = "the target is not an absolute path";
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    problem = "the HTTP version is not 1.0 or 1.1";
    return false;
  }
  head.method = method;
  head.target = target;
  head.version = version;
  std::size_t q = target.find('?');
  head.path = target.substr(0, q);
  head.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return true;
}

bool parse_field(std::string_view line, RequestHead& head, std::string& problem) {
  if (line.front() == ' ' || line.front() == '\t') {
    problem = "obsolete line folding";
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    problem = "a header field is malformed";
    return false;
  }
  std::string_view value = trim(line.substr(colon + 1), " \t");
  if (!is_field_value(value)) {
    problem = "a header value holds control characters";
    return false;
  }
  head.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return true;
}

} // namespace

std::size_t RequestHead::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) ++n;
  return n;
}

std::string RequestHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return "";
}

HeadParse parse_request_head(std::string_view bytes) {
  std::size_t pos = 0;
  auto request_line = next_line(bytes, pos);
  if (!request_line) {
    if (bytes.size() > k_max_request_line) return fail(HeadStatus::too_large, "the request line is over 8 KiB");
    return fail(HeadStatus::incomplete, "");
  }
  if (pos > k_max_request_line) return fail(HeadStatus::too_large, "the request line is over 8 KiB");
  HeadParse result;
  std::string problem;
  if (!parse_request_line(*request_line, result.head, problem)) return fail(HeadStatus::bad_request, problem);
  const std::size_t block_start = pos;
  for (;;) {
    auto line = next_line(bytes, pos);
    if (!line) {
      if (bytes.size() - block_start > k_max_header_block)
        return fail(HeadStatus::too_large, "the header block is over 16 KiB");
      return fail(HeadStatus::incomplete, "");
    }
    if (pos - block_start > k_max_header_block) return fail(HeadStatus::too_large, "the header block is over 16 KiB");
    if (line->empty()) break;
    if (result.head.headers.size() == k_max_header_count)
      return fail(HeadStatus::too_large, "more than 64 header fields");
    if (!parse_field(*line, result.head, problem)) return fail(HeadStatus::bad_request, problem);
  }
  result.status = HeadStatus::ok;
  result.size = pos;
  return result;
}

} // namespace tokenctl
