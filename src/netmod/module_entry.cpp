// Entry point of the network module tokenctl-net.so: the one exported symbol.
// Everything else in the module is compiled with hidden visibility.
#include <cstddef>

#include "abi/net_module.h"
#include "netmod/curl_http.hpp"
#include "netmod/jws_sign.hpp"
#include "netmod/openssl_crypto.hpp"

namespace {

int http_perform(const tokenctl_http_request* request, long* status, char* errbuf, size_t errbuf_len) {
  if (request == nullptr) return TOKENCTL_HTTP_BAD_REQUEST;
  return tokenctl::netmod::curl_http_perform(*request, status, errbuf, errbuf_len);
}

int random_bytes(unsigned char* out, size_t n) { return tokenctl::netmod::openssl_random_bytes(out, n) ? 0 : -1; }

int sha256(const unsigned char* data, size_t n, unsigned char out[32]) {
  return tokenctl::netmod::openssl_sha256(data, n, out) ? 0 : -1;
}

int jws_sign(const char* alg, const char* key_pem, size_t key_pem_len, const unsigned char* data, size_t data_len,
             unsigned char* sig_out, size_t* sig_len, char* errbuf, size_t errbuf_len) {
  return tokenctl::netmod::jws_sign(alg, key_pem, key_pem_len, data, data_len, sig_out, sig_len, errbuf, errbuf_len);
}

int key_kind(const char* key_pem, size_t len, char* errbuf, size_t errbuf_len) {
  return tokenctl::netmod::jws_key_kind(key_pem, len, errbuf, errbuf_len);
}

const tokenctl_net_module k_module{TOKENCTL_NET_ABI_VERSION, http_perform, random_bytes, sha256, jws_sign, key_kind};

} // namespace

extern "C" __attribute__((visibility("default"))) const tokenctl_net_module* tokenctl_net_module_v1() {
  return &k_module;
}
