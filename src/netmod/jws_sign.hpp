// JWS signatures with OpenSSL inside the network module: RS256, PS256 and ES256 over a private
// key in PEM, for RFC 7523 client assertions. Only network-module code (src/netmod) may include
// this header.
#pragma once

#include <cstddef>

namespace tokenctl::netmod {

// The key_kind of the module's interface (abi/net_module.h): return the tokenctl_key_kind of the
// PEM private key `pem`; for TOKENCTL_KEY_UNUSABLE `errbuf` gets a phrase that follows "the key",
// never quoting the key. Never throws.
int jws_key_kind(const char* pem, std::size_t pem_len, char* errbuf, std::size_t errbuf_len) noexcept;

// The jws_sign of the module's interface: sign `data` with the PEM private key `pem` for the JWS
// algorithm `alg` into `sig` (`*sig_len`: in, its size; out, the signature's length, or the size
// needed); return a tokenctl_sign_result, with `errbuf` set as jws_key_kind sets it unless it is
// OK or TOO_SMALL. Never throws.
int jws_sign(const char* alg, const char* pem, std::size_t pem_len, const unsigned char* data, std::size_t data_len,
             unsigned char* sig, std::size_t* sig_len, char* errbuf, std::size_t errbuf_len) noexcept;

} // namespace tokenctl::netmod
