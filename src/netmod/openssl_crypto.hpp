// OpenSSL inside the network module: the CSPRNG, SHA-256 and extra trusted CAs for libcurl.
// Only network-module code (src/netmod) may include this header.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tokenctl::netmod {

// Fill `out` with `n` bytes from OpenSSL's CSPRNG; return false if it failed.
bool openssl_random_bytes(unsigned char* out, std::size_t n);
// Write the SHA-256 digest of `data` to `out` (32 bytes); return false if OpenSSL failed.
bool openssl_sha256(const unsigned char* data, std::size_t n, unsigned char* out);
// Return "" if `pem` holds at least one PEM certificate, else why not (never quoting the text).
std::string ca_pem_problem(std::string_view pem);
// Add the certificates of `pem` to the trust store of `ssl_ctx` (an SSL_CTX*), keeping the CAs
// already there; return false if that failed.
bool add_ca_pem_to_ssl_ctx(void* ssl_ctx, std::string_view pem);

} // namespace tokenctl::netmod
