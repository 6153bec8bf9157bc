// OpenSSL for the network module: random bytes, SHA-256, and the profile's extra CAs.
//
// The profile's ca_file (its PEM text, which the program reads and hands over) is added to the
// store of the SSL_CTX that libcurl hands us, rather than replacing CURLOPT_CAINFO, so that the
// system CAs stay trusted as well.
#include "netmod/openssl_crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <climits>
#include <cstring>
#include <memory>

#include "sys/fd.hpp"

namespace tokenctl::netmod {
namespace {

using sys::CDeleter;
using Bio = std::unique_ptr<BIO, CDeleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, CDeleter<X509_free>>;

// Read the certificates of PEM text: add each to `store` (when not null); return how many, or -1.
int read_pem_certificates(std::string_view pem, X509_STORE* store) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return -1;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return -1;
  int count = 0;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (store != nullptr && X509_STORE_add_cert(store, cert.get()) != 1) {
      // A certificate that is already in the store is not an error.
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_REASON(err) != X509_R_CERT_ALREADY_IN_HASH_TABLE) return -1;
    }
    ++count;
  }
  ERR_clear_error(); // the loop ends on "no start line": that is the end of the text
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

bool openssl_sha256(const unsigned char* data, std::size_t n, unsigned char* out) {
  unsigned int out_len = 0;
  static const unsigned char k_empty = 0;
  return EVP_Digest(data != nullptr ? data : &k_empty, n, out, &out_len, EVP_sha256(), nullptr) == 1 && out_len == 32;
}

std::string ca_pem_problem(std::string_view pem) {
  if (read_pem_certificates(pem, nullptr) <= 0) return "holds no PEM certificate";
  return "";
}

bool add_ca_pem_to_ssl_ctx(void* ssl_ctx, std::string_view pem) {
  if (ssl_ctx == nullptr) return false;
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<const SSL_CTX*>(ssl_ctx));
  if (store == nullptr) return false;
  return read_pem_certificates(pem, store) > 0;
}

} // namespace tokenctl::netmod
