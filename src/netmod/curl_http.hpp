// The libcurl side of the network module: one HTTP exchange per call.
#pragma once

#include <cstddef>

#include "abi/net_module.h"

namespace tokenctl::netmod {

// Perform `request` with libcurl and return a tokenctl_http_result; on TOKENCTL_HTTP_OK
// `*status` is the HTTP status. `errbuf` gets a one-line reason. Never throws.
int curl_http_perform(const tokenctl_http_request& request, long* status, char* errbuf,
                      std::size_t errbuf_len) noexcept;

} // namespace tokenctl::netmod
