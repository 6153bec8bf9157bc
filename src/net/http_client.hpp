// The HttpClient port over the network module (libcurl, loaded on the first request).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "sys/net_module.hpp"
#include "tokenctl/ports.hpp"

namespace tokenctl::net {

inline constexpr std::chrono::milliseconds k_connect_timeout{10'000};
inline constexpr std::chrono::milliseconds k_total_timeout{30'000};
inline constexpr std::size_t k_max_response_bytes = 1024 * 1024;
inline constexpr std::size_t k_max_ca_file_bytes = 1024 * 1024;

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout = k_connect_timeout;
  std::chrono::milliseconds total_timeout = k_total_timeout;
  std::size_t max_body_bytes = k_max_response_bytes;
  std::function<void(std::string_view)> verbose_log; // one line per call, already redacted; empty: off
};

class ModuleHttpClient : public HttpClient {
public:
  // Keep the options; the module is fetched from `module` on the first send(), not before.
  explicit ModuleHttpClient(HttpClientOptions options = {}, sys::NetModuleSource module = &sys::net_module)
      : m_options(std::move(options)), m_module(module) {}

  // Perform the request and return the response, whatever its status. Throws Error(config) for a
  // URL that endpoint_url_problem() refuses or an unusable ca_file (nothing is sent), and
  // HttpError for resolve, connect, TLS, timeout, size-cap and other transport failures.
  HttpResponse send(const HttpRequest& request) override;

private:
  void log_request(const HttpRequest& request) const;
  void log_response(const HttpResponse& response) const;

  HttpClientOptions m_options;
  sys::NetModuleSource m_module;
};

// Return `url` without its query and fragment, as error messages name it.
std::string url_for_messages(std::string_view url);
// Return a duration as a user reads it: "30s", "5m", "1500ms".
std::string describe_duration(std::chrono::milliseconds duration);
// Return a size as a user reads it: "1 MiB", "64 KiB", "1000 bytes".
std::string describe_size(std::size_t bytes);

} // namespace tokenctl::net
