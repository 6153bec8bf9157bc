// One HTTP exchange with libcurl's easy interface, behind the module's C interface.
//
// Why the response is buffered here and handed over only at the end: with redirects followed
// (discovery GETs) or a "100 Continue", libcurl reports the headers of every response it sees;
// only the final response's headers and body may reach the program. Both are capped, so memory
// stays bounded: the body by max_body_bytes (also told to libcurl, which refuses a longer
// Content-Length up front), the headers by k_max_header_bytes.
#include "netmod/curl_http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netmod/openssl_crypto.hpp"
#include "sys/fd.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::netmod {
namespace {

using sys::CDeleter;
using CurlEasy = std::unique_ptr<CURL, CDeleter<curl_easy_cleanup>>;
using CurlList = std::unique_ptr<curl_slist, CDeleter<curl_slist_free_all>>;

constexpr std::size_t k_max_header_bytes = 256 * 1024;
constexpr long k_max_redirects = 5;
constexpr long k_low_speed_time_s = 15; // below 1 byte/s for this long ends the transfer

struct Transfer {
  std::size_t max_body = 0;
  std::size_t header_bytes = 0;
  bool too_large = false;
  std::vector<std::pair<std::string, std::string>> headers; // of the latest response
  std::string body;                                         // of the latest response
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  size_t n = size * count;
  if (n > transfer.max_body - transfer.body.size()) {
    transfer.too_large = true;
    return 0; // anything but n aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer.body.append(data, n);
  return n;
}

size_t on_header_line(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  size_t n = size * count;
  transfer.header_bytes += n;
  if (transfer.header_bytes > k_max_header_bytes) {
    transfer.too_large = true;
    return 0;
  }
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) { // a new response starts: forget the previous one
    transfer.headers.clear();
    transfer.body.clear();
    transfer.header_bytes = n;
    return n;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) { // obsolete line folding
    if (!transfer.headers.empty()) transfer.headers.back().second += " " + std::string(trim(line));
    return n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    transfer.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  return n;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  const auto& request = *static_cast<const tokenctl_http_request*>(user);
  return add_ca_pem_to_ssl_ctx(ssl_ctx, std::string_view(request.ca_pem, request.ca_pem_len))
             ? CURLE_OK
             : CURLE_SSL_CACERT_BADFILE;
}

bool has_ca_pem(const tokenctl_http_request& request) { return request.ca_pem != nullptr && request.ca_pem_len > 0; }

void put_error(char* errbuf, std::size_t errbuf_len, std::string_view text) {
  if (errbuf == nullptr || errbuf_len == 0) return;
  std::size_t n = std::min(text.size(), errbuf_len - 1);
  std::memcpy(errbuf, text.data(), n);
  errbuf[n] = '\0';
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Build the request header list; false for a name or value that could split lines.
bool build_headers(const tokenctl_http_request& request, CurlList& list) {
  // Never send "Expect: 100-continue": the body is small and some servers mishandle it.
  list.reset(curl_slist_append(nullptr, "Expect:"));
  if (!list) return false;
  for (std::size_t i = 0; i < request.header_count; ++i) {
    const auto& h = request.headers[i];
    std::string_view name(h.name, h.name_len), value(h.value, h.value_len);
    if (name.empty() || has_line_break(name) || has_line_break(value) || name.find(':') != std::string_view::npos)
      return false;
    // "Name;" is libcurl's way to send a header with an empty value.
    std::string line = value.empty() ? std::string(name) + ";" : std::string(name) + ": " + std::string(value);
    if (curl_slist_append(list.get(), line.c_str()) == nullptr) return false; // the head stays the same
  }
  return true;
}

int map_result(CURLcode code, CURL* easy, const Transfer& transfer) {
  switch (code) {
  case CURLE_OK: return TOKENCTL_HTTP_OK;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return TOKENCTL_HTTP_RESOLVE_FAILED;
  case CURLE_COULDNT_CONNECT: return TOKENCTL_HTTP_CONNECT_FAILED;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_USE_SSL_FAILED: return TOKENCTL_HTTP_TLS_FAILED;
  case CURLE_OPERATION_TIMEDOUT: {
    curl_off_t pretransfer = 0; // 0: the request never went out
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    return pretransfer == 0 ? TOKENCTL_HTTP_CONNECT_TIMEOUT : TOKENCTL_HTTP_TIMEOUT;
  }
  case CURLE_FILESIZE_EXCEEDED: return TOKENCTL_HTTP_TOO_LARGE;
  case CURLE_WRITE_ERROR: return transfer.too_large ? TOKENCTL_HTTP_TOO_LARGE : TOKENCTL_HTTP_FAILED;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
  case CURLE_BAD_FUNCTION_ARGUMENT: return TOKENCTL_HTTP_BAD_REQUEST;
  default: return TOKENCTL_HTTP_FAILED;
  }
}

// Set the options that keep a transfer safe and bounded; false if libcurl refused one.
bool set_limits(CURL* easy, const tokenctl_http_request& request, char* curl_errbuf) {
  const char* protocols = request.allow_http ? "https,http" : "https";
  long low_speed_time = k_low_speed_time_s;
  if (request.total_timeout_ms > 0) low_speed_time = std::clamp(request.total_timeout_ms / 1000, 1L, low_speed_time);
  const auto max_body = static_cast<curl_off_t>(request.max_body_bytes);
  return curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_errbuf) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_MAXREDIRS, k_max_redirects) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, request.total_timeout_ms) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, low_speed_time) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, max_body) == CURLE_OK;
}

// Set the URL, method, headers, body and callbacks; false if libcurl refused one.
bool set_exchange(CURL* easy, const tokenctl_http_request& request, Transfer& transfer, curl_slist* headers) {
  bool ok = curl_easy_setopt(easy, CURLOPT_URL, request.url) == CURLE_OK &&
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
            curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer) == CURLE_OK &&
            curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header_line) == CURLE_OK &&
            curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer) == CURLE_OK &&
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
  if (std::strcmp(request.method, "POST") != 0) return ok && curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) == CURLE_OK;
  static const char k_no_body[] = "";
  const auto body_len = static_cast<curl_off_t>(request.body_len); // set first: the body may hold NUL bytes
  return ok && curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, body_len) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body != nullptr ? request.body : k_no_body) == CURLE_OK;
}

// Set the proxy and trust options; false if libcurl refused one.
bool set_connection(CURL* easy, const tokenctl_http_request& request) {
  // Without no_proxy, proxies come from the environment (http_proxy, https_proxy, no_proxy) as
  // curl does by default. CURLOPT_CAINFO stays at the system bundle: ca_file is added to it.
  bool ok = !request.no_proxy || curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") == CURLE_OK;
  if (has_ca_pem(request))
    ok = ok && curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) == CURLE_OK &&
         curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, const_cast<tokenctl_http_request*>(&request)) == CURLE_OK;
  return ok;
}

bool global_init() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ok;
}

// Return TOKENCTL_HTTP_OK if the request may go out, else why not (with errbuf set).
int check_request(const tokenctl_http_request& request, char* errbuf, std::size_t errbuf_len) {
  if (request.url == nullptr || request.method == nullptr ||
      (std::strcmp(request.method, "GET") != 0 && std::strcmp(request.method, "POST") != 0)) {
    put_error(errbuf, errbuf_len, "only GET and POST requests with a URL are supported");
    return TOKENCTL_HTTP_BAD_REQUEST;
  }
  if (has_ca_pem(request)) {
    std::string problem = ca_pem_problem(std::string_view(request.ca_pem, request.ca_pem_len));
    if (!problem.empty()) {
      put_error(errbuf, errbuf_len, problem);
      return TOKENCTL_HTTP_BAD_CA;
    }
  }
  if (!global_init()) {
    put_error(errbuf, errbuf_len, "cannot initialise libcurl");
    return TOKENCTL_HTTP_FAILED;
  }
  return TOKENCTL_HTTP_OK;
}

// Hand the final response's headers, then its body, to the caller.
void deliver(const tokenctl_http_request& request, const Transfer& transfer) {
  if (request.on_header != nullptr)
    for (const auto& [name, value] : transfer.headers)
      request.on_header(request.ctx, name.data(), name.size(), value.data(), value.size());
  if (request.on_body != nullptr && !transfer.body.empty())
    request.on_body(request.ctx, transfer.body.data(), transfer.body.size());
}

int perform(const tokenctl_http_request& request, long* status, char* errbuf, std::size_t errbuf_len) {
  if (int refused = check_request(request, errbuf, errbuf_len); refused != TOKENCTL_HTTP_OK) return refused;
  CurlEasy easy(curl_easy_init());
  CurlList headers;
  if (!easy) {
    put_error(errbuf, errbuf_len, "cannot create a libcurl handle");
    return TOKENCTL_HTTP_FAILED;
  }
  if (!build_headers(request, headers)) {
    put_error(errbuf, errbuf_len, "a request header name or value is malformed");
    return TOKENCTL_HTTP_BAD_REQUEST;
  }
  Transfer transfer;
  transfer.max_body = request.max_body_bytes;
  char curl_errbuf[CURL_ERROR_SIZE] = {};
  if (!set_limits(easy.get(), request, curl_errbuf) || !set_exchange(easy.get(), request, transfer, headers.get()) ||
      !set_connection(easy.get(), request)) {
    put_error(errbuf, errbuf_len, "libcurl refused an option");
    return TOKENCTL_HTTP_BAD_REQUEST;
  }
  CURLcode code = curl_easy_perform(easy.get());
  int result = map_result(code, easy.get(), transfer);
  if (result != TOKENCTL_HTTP_OK) {
    long os_errno = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_OS_ERRNO, &os_errno);
    if (request.os_error != nullptr) *request.os_error = static_cast<int>(os_errno);
    // curl's own texts: they name hosts, ports and TLS reasons, never header or body bytes.
    std::string text = curl_easy_strerror(code);
    if (curl_errbuf[0] != '\0') text += std::string(": ") + curl_errbuf;
    put_error(errbuf, errbuf_len, text);
    return result;
  }
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, status);
  deliver(request, transfer);
  return TOKENCTL_HTTP_OK;
}

} // namespace

int curl_http_perform(const tokenctl_http_request& request, long* status, char* errbuf,
                      std::size_t errbuf_len) noexcept {
  try {
    if (status != nullptr) *status = 0;
    if (request.os_error != nullptr) *request.os_error = 0;
    long ignored = 0;
    return perform(request, status != nullptr ? status : &ignored, errbuf, errbuf_len);
  } catch (...) { // out of memory: no exception may leave the module
    put_error(errbuf, errbuf_len, "out of memory");
    return TOKENCTL_HTTP_FAILED;
  }
}

} // namespace tokenctl::netmod
