// ModuleHttpClient: the HttpClient port, on top of the module's C interface.
//
// The request and response cross into the module as C structs and callbacks; nothing of C++
// crosses (the module carries its own C++ runtime), so the callbacks catch everything. The
// URL is checked here, before the module is even loaded, and plain http is allowed only for
// loopback hosts. Messages name the URL without its query, which may carry a code or a state.
#include "net/http_client.hpp"

#include <cstring>
#include <vector>

#include "sys/files.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/redact.hpp"
#include "tokenctl/url.hpp"

#ifndef TOKENCTL_VERSION
#define TOKENCTL_VERSION "0"
#endif

namespace tokenctl::net {
namespace {

struct Collector {
  HttpResponse response;
  bool failed = false;
};

void collect_header(void* ctx, const char* name, size_t name_len, const char* value, size_t value_len) {
  auto& collector = *static_cast<Collector*>(ctx);
  try {
    collector.response.headers.emplace_back(std::string(name, name_len), std::string(value, value_len));
  } catch (...) {
    collector.failed = true; // no exception may unwind through the module's C frames
  }
}

void collect_body(void* ctx, const char* data, size_t len) {
  auto& collector = *static_cast<Collector*>(ctx);
  try {
    collector.response.body.append(data, len);
  } catch (...) {
    collector.failed = true;
  }
}

[[noreturn]] void throw_failure(int result, const std::string& url, const std::string& ca_file,
                                const std::string& detail, int os_error, const HttpClientOptions& options) {
  switch (result) {
  case TOKENCTL_HTTP_RESOLVE_FAILED: throw HttpError("cannot resolve the host name of " + url + ": " + detail, false);
  case TOKENCTL_HTTP_CONNECT_FAILED:
    throw HttpError("cannot connect to " + url + ": " + (os_error != 0 ? std::strerror(os_error) : detail), false);
  case TOKENCTL_HTTP_CONNECT_TIMEOUT:
    throw HttpError("timed out after " + describe_duration(options.connect_timeout) + " connecting to " + url, false);
  case TOKENCTL_HTTP_TLS_FAILED:
    throw HttpError("TLS failure talking to " + url + ": " + detail +
                        "; set ca_file in the profile if the server uses a private CA",
                    false);
  case TOKENCTL_HTTP_TIMEOUT:
    throw HttpError("timed out after " + describe_duration(options.total_timeout) + " waiting for " + url, true);
  case TOKENCTL_HTTP_TOO_LARGE:
    throw HttpError(
        "response from " + url + " is larger than " + describe_size(options.max_body_bytes) + "; refusing it", true);
  case TOKENCTL_HTTP_BAD_REQUEST: throw Error(ErrorKind::config, "cannot send a request to " + url + ": " + detail);
  case TOKENCTL_HTTP_BAD_CA:
    throw Error(ErrorKind::config, "cannot send a request to " + url + ": the CA file " + ca_file + " " + detail);
  default: throw HttpError("request to " + url + " failed: " + detail, true);
  }
}

} // namespace

std::string url_for_messages(std::string_view url) { return std::string(url.substr(0, url.find_first_of("?#"))); }

std::string describe_duration(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  if (s >= 60 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string describe_size(std::size_t bytes) {
  constexpr std::size_t kib = 1024, mib = 1024 * 1024;
  if (bytes >= mib && bytes % mib == 0) return std::to_string(bytes / mib) + " MiB";
  if (bytes >= kib && bytes % kib == 0) return std::to_string(bytes / kib) + " KiB";
  return std::to_string(bytes) + " bytes";
}

HttpResponse ModuleHttpClient::send(const HttpRequest& request) {
  const std::string shown_url = url_for_messages(request.url);
  if (std::string problem = endpoint_url_problem(request.url); !problem.empty())
    throw Error(ErrorKind::failure, "refusing to send a request to " + shown_url + ": " + problem);
  auto parsed = parse_url(request.url);
  const bool loopback = parsed && is_loopback_host(parsed->host);
  const bool allow_http = loopback && parsed->scheme == "http";

  Headers headers = request.headers;
  if (find_header(headers, "User-Agent") == nullptr) headers.emplace_back("User-Agent", "tokenctl/" TOKENCTL_VERSION);
  std::vector<tokenctl_http_header> c_headers;
  for (const auto& [name, value] : headers) c_headers.push_back({name.data(), name.size(), value.data(), value.size()});
  HttpRequest logged = request;
  logged.headers = headers;
  log_request(logged);

  // The CA file is read here, not by the module: opened without blocking and required to be a
  // regular file, so that a FIFO or a device in its place cannot hang the request.
  std::string ca_pem;
  if (!request.ca_file.empty()) {
    const std::string refused = "cannot send a request to " + shown_url + ": ";
    std::optional<std::string> text;
    try {
      text = sys::read_file(request.ca_file, k_max_ca_file_bytes, ErrorKind::config);
    } catch (const Error& e) {
      throw Error(ErrorKind::config, refused + "the CA file: " + e.what());
    }
    if (!text)
      throw Error(ErrorKind::config,
                  refused + "cannot read the CA file " + request.ca_file + ": No such file or directory");
    ca_pem = std::move(*text);
  }

  Collector collector;
  int os_error = 0;
  tokenctl_http_request c_request{};
  c_request.method = request.method.c_str();
  c_request.url = request.url.c_str();
  c_request.headers = c_headers.data();
  c_request.header_count = c_headers.size();
  c_request.body = request.body.data();
  c_request.body_len = request.body.size();
  c_request.ca_pem = ca_pem.empty() ? nullptr : ca_pem.data();
  c_request.ca_pem_len = ca_pem.size();
  c_request.connect_timeout_ms = static_cast<long>(m_options.connect_timeout.count());
  c_request.total_timeout_ms = static_cast<long>(m_options.total_timeout.count());
  c_request.max_body_bytes = m_options.max_body_bytes;
  c_request.follow_redirects = request.follow_redirects ? 1 : 0;
  c_request.allow_http = allow_http ? 1 : 0;
  c_request.no_proxy = loopback ? 1 : 0;
  c_request.ctx = &collector;
  c_request.on_header = collect_header;
  c_request.on_body = collect_body;
  c_request.os_error = &os_error;

  const tokenctl_net_module& module = m_module();
  char errbuf[512] = {};
  long status = 0;
  int result = module.http_perform(&c_request, &status, errbuf, sizeof errbuf);
  if (result != TOKENCTL_HTTP_OK) throw_failure(result, shown_url, request.ca_file, errbuf, os_error, m_options);
  if (collector.failed) throw Error(ErrorKind::failure, "out of memory reading the response from " + shown_url);
  collector.response.status = status;
  log_response(collector.response);
  return std::move(collector.response);
}

void ModuleHttpClient::log_request(const HttpRequest& request) const {
  if (!m_options.verbose_log) return;
  m_options.verbose_log("> " + request.method + " " + redact_url(request.url));
  for (const auto& [name, value] : request.headers)
    m_options.verbose_log("> " + name + ": " + redact_header(name, value));
  const std::string* content_type = find_header(request.headers, "Content-Type");
  if (!request.body.empty())
    m_options.verbose_log("> " + redact_body(content_type != nullptr ? *content_type : "", request.body));
}

void ModuleHttpClient::log_response(const HttpResponse& response) const {
  if (!m_options.verbose_log) return;
  m_options.verbose_log("< " + std::to_string(response.status));
  for (const auto& [name, value] : response.headers)
    m_options.verbose_log("< " + name + ": " + redact_header(name, value));
  if (!response.body.empty()) m_options.verbose_log("< " + redact_body(response.header("Content-Type"), response.body));
}

} // namespace tokenctl::net
