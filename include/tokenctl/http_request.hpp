// The head of an HTTP/1.x request (request line and header fields), as the loopback listener
// receives it from a browser or from anything else on this machine. Pure; fed untrusted bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenctl {

inline constexpr std::size_t k_max_request_line = 8 * 1024;
inline constexpr std::size_t k_max_header_block = 16 * 1024;
inline constexpr std::size_t k_max_header_count = 64;

struct RequestHead {
  std::string method;
  std::string target;                                       // as sent: path and query
  std::string path;                                         // target before '?'
  std::string query;                                        // target after '?', "" if none
  std::string version;                                      // "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers; // names as sent, values trimmed

  // Return how many header fields have this name (case-insensitive).
  [[nodiscard]] std::size_t count(std::string_view name) const;
  // Return the value of the first header field of that name (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

enum class HeadStatus {
  ok,          // `head` is set; `size` bytes (up to and including the blank line) were used
  incomplete,  // no blank line yet and no limit passed: read more bytes
  bad_request, // malformed: answer 400
  too_large    // request line over 8 KiB, header block over 16 KiB or over 64 fields: answer 431
};

struct HeadParse {
  HeadStatus status = HeadStatus::incomplete;
  RequestHead head;
  std::size_t size = 0;
  std::string problem; // why it is bad or too large, for a log line
};

// Parse the request head at the start of `bytes` (which may hold more, or less, than the head).
// Lines end with CRLF or a bare LF. The target must be in origin form ("/path?query").
HeadParse parse_request_head(std::string_view bytes);

} // namespace tokenctl
