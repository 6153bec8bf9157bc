// OpenSSL inside the network module: the CSPRNG, SHA-256 and extra trusted CAs for libcurl.
// Only module code (src/net/curl_*.cpp, src/sys/openssl_*.cpp) may include this header.
#pragma once

#include <cstddef>
#include <string>

namespace tokenctl::sys {

// Fill `out` with `n` bytes from OpenSSL's CSPRNG; return false if it failed.
bool openssl_random_bytes(unsigned char* out, std::size_t n);
// Write the SHA-256 digest of `data` to `out` (32 bytes).
void openssl_sha256(const unsigned char* data, std::size_t n, unsigned char* out);
// Return "" if `path` is a readable PEM file with at least one certificate, else why not
// (the message names the file, never its content).
std::string ca_file_problem(const char* path);
// Add the certificates of the PEM file `path` to the trust store of `ssl_ctx` (an SSL_CTX*),
// keeping the CAs already there; return false if that failed.
bool add_ca_file_to_ssl_ctx(void* ssl_ctx, const char* path);

} // namespace tokenctl::sys
