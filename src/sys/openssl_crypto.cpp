// OpenSSL for the network module: random bytes, SHA-256, and the profile's extra CAs.
//
// The profile's ca_file is added to the store of the SSL_CTX that libcurl hands us, rather than
// replacing CURLOPT_CAINFO, so that the system CAs stay trusted as well.
#include "sys/openssl_crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

namespace tokenctl::sys {
namespace {

template <auto Fn> struct CDeleter {
  template <class T> void operator()(T* p) const noexcept { Fn(p); }
};
using File = std::unique_ptr<FILE, CDeleter<std::fclose>>;
using X509Ptr = std::unique_ptr<X509, CDeleter<X509_free>>;

// Read the certificates of a PEM file: add each to `store` (when not null); return how many.
int read_pem_certificates(FILE* file, X509_STORE* store) {
  int count = 0;
  for (;;) {
    X509Ptr cert(PEM_read_X509(file, nullptr, nullptr, nullptr));
    if (!cert) break;
    if (store != nullptr && X509_STORE_add_cert(store, cert.get()) != 1) {
      // A certificate that is already in the store is not an error.
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_REASON(err) != X509_R_CERT_ALREADY_IN_HASH_TABLE) return -1;
    }
    ++count;
  }
  ERR_clear_error(); // the loop ends on "no start line": that is the end of the file
  return count;
}

} // namespace

bool openssl_random_bytes(unsigned char* out, std::size_t n) {
  while (n > 0) {
    int chunk = n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) return false;
    out += chunk;
    n -= static_cast<std::size_t>(chunk);
  }
  return true;
}

void openssl_sha256(const unsigned char* data, std::size_t n, unsigned char* out) {
  unsigned int out_len = 0;
  static const unsigned char k_empty = 0;
  if (EVP_Digest(data != nullptr ? data : &k_empty, n, out, &out_len, EVP_sha256(), nullptr) != 1 ||
      out_len != 32) {
    std::memset(out, 0, 32); // cannot happen with the built-in provider; never leave garbage
  }
}

std::string ca_file_problem(const char* path) {
  const std::string name = path;
  File file(std::fopen(path, "re"));
  if (!file) return "cannot read the CA file " + name + ": " + std::strerror(errno);
  int count = read_pem_certificates(file.get(), nullptr);
  if (std::ferror(file.get())) return "cannot read the CA file " + name + ": read error";
  if (count <= 0) return "the CA file " + name + " holds no PEM certificate";
  return "";
}

bool add_ca_file_to_ssl_ctx(void* ssl_ctx, const char* path) {
  if (ssl_ctx == nullptr) return false;
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<const SSL_CTX*>(ssl_ctx));
  if (store == nullptr) return false;
  File file(std::fopen(path, "re"));
  if (!file) return false;
  return read_pem_certificates(file.get(), store) > 0;
}

} // namespace tokenctl::sys
