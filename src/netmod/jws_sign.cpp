// JWS signatures for RFC 7523 client assertions (private_key_jwt), with OpenSSL 3's EVP API.
//
// The key arrives as the PEM text the program read from client_assertion_key_file and is
// parsed from the caller's memory (a read-only memory BIO): this file keeps no copy of it.
// A passphrase callback that refuses is always passed, because OpenSSL's default one would
// prompt on the terminal, which a CI job or a `tokenctl token` in a script cannot answer.
//
// Two details that JWS fixes and OpenSSL does not default to:
// - PS256 (RFC 7518 section 3.5) uses a salt as long as the hash, 32 bytes; OpenSSL 3.0 signs
//   with the longest salt the key allows unless told otherwise, which strict verifiers refuse.
// - ES256 (RFC 7518 section 3.4) is R || S, each 32 bytes big-endian; OpenSSL writes the
//   DER ECDSA-Sig-Value (a SEQUENCE of two INTEGERs, 70-72 bytes), converted here.
#include "netmod/jws_sign.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "abi/net_module.h"
#include "sys/fd.hpp"

namespace tokenctl::netmod {
namespace {

using sys::CDeleter;
using Bio = std::unique_ptr<BIO, CDeleter<BIO_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, CDeleter<EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, CDeleter<EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, CDeleter<ECDSA_SIG_free>>;

constexpr std::size_t k_max_pem_bytes = 64 * 1024; // an RSA 16384-bit key is about 13 KiB
constexpr int k_min_rsa_bits = 2048;               // RFC 7518 section 3.3
constexpr std::size_t k_es256_part = 32;           // R and S of a P-256 signature
constexpr int k_pss_salt_len = 32;                 // RFC 7518 section 3.5: the size of the hash

// Leaves OpenSSL's error queue empty when the call returns, on every path.
struct ErrorQueueGuard {
  ErrorQueueGuard() = default;
  ErrorQueueGuard(const ErrorQueueGuard&) = delete;
  ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

void write_message(char* errbuf, std::size_t errbuf_len, const std::string& text) noexcept {
  if (errbuf != nullptr && errbuf_len > 0) std::snprintf(errbuf, errbuf_len, "%s", text.c_str());
}

// OpenSSL's passphrase callback: note that a passphrase was wanted, and give none.
int refuse_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

bool has_label(std::string_view pem, std::string_view label) {
  return pem.find("-----BEGIN " + std::string(label) + "-----") != std::string_view::npos;
}

// Return why PEM text from which OpenSSL read no private key is unusable, from its block labels
// (never from its contents).
std::string why_unreadable(std::string_view pem, bool passphrase_asked) {
  if (passphrase_asked || has_label(pem, "ENCRYPTED PRIVATE KEY") || pem.find("Proc-Type: 4,ENCRYPTED") != pem.npos)
    return "is encrypted with a passphrase, which tokenctl cannot ask for: write it without one "
           "(openssl pkey -in KEY -out PLAIN_KEY) and keep that file private (chmod 600)";
  if (pem.find("-----BEGIN ") == std::string_view::npos)
    return "is not PEM text: tokenctl reads a private key as `openssl genpkey` writes it "
           "(-----BEGIN PRIVATE KEY-----)";
  if (has_label(pem, "OPENSSH PRIVATE KEY"))
    return "is in OpenSSH's format: write an RSA or ECDSA key as PEM with `ssh-keygen -p -m PEM -f KEY`";
  if (pem.find(" PRIVATE KEY-----") != std::string_view::npos || has_label(pem, "PRIVATE KEY"))
    return "cannot be read: its PEM text is damaged, or it is a kind of private key OpenSSL does not know";
  if (has_label(pem, "PUBLIC KEY") || has_label(pem, "RSA PUBLIC KEY"))
    return "is a public key: tokenctl signs with the private key (-----BEGIN PRIVATE KEY-----)";
  if (has_label(pem, "CERTIFICATE"))
    return "is a certificate: tokenctl signs with the private key (-----BEGIN PRIVATE KEY-----)";
  return "holds no private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)";
}

// Return the tokenctl_key_kind of a private key, with `why` set for TOKENCTL_KEY_UNUSABLE.
int classify(EVP_PKEY* key, std::string& why) {
  if (EVP_PKEY_is_a(key, "RSA") == 1) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits >= k_min_rsa_bits) return TOKENCTL_KEY_RSA;
    why = "is an RSA key of " + std::to_string(bits) + " bits: RS256 and PS256 need at least " +
          std::to_string(k_min_rsa_bits) + " (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)";
    return TOKENCTL_KEY_UNUSABLE;
  }
  if (EVP_PKEY_is_a(key, "EC") == 1) {
    char curve[80] = {};
    std::size_t curve_len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &curve_len) != 1) {
      why = "is an EC key with explicit curve parameters: ES256 needs the named curve P-256";
      return TOKENCTL_KEY_UNUSABLE;
    }
    int nid = OBJ_sn2nid(curve);
    if (nid == NID_undef) nid = EC_curve_nist2nid(curve);
    if (nid == NID_X9_62_prime256v1) return TOKENCTL_KEY_EC_P256;
    why = std::string("is an EC key on curve ") + curve +
          ": ES256 needs P-256 (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)";
    return TOKENCTL_KEY_UNUSABLE;
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  why = std::string("is ") + (type != nullptr ? std::string("an ") + type + " key" : "a kind of key") +
        " tokenctl does not sign with: use an RSA (RS256, PS256) or EC P-256 (ES256) key";
  return TOKENCTL_KEY_UNUSABLE;
}

struct LoadedKey {
  Pkey key;
  int kind = TOKENCTL_KEY_UNUSABLE;
  bool failed = false; // OpenSSL itself failed (out of memory), as opposed to an unusable key
};

// Parse a PEM private key from the caller's memory; `why` set when it is unusable.
LoadedKey load_key(std::string_view pem, std::string& why) {
  LoadedKey out;
  if (pem.empty()) {
    why = "is empty";
    return out;
  }
  if (pem.size() > k_max_pem_bytes) {
    why = "is over " + std::to_string(k_max_pem_bytes / 1024) + " KiB: too large for a PEM private key";
    return out;
  }
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    why = "cannot be read: OpenSSL cannot allocate memory";
    out.failed = true;
    return out;
  }
  bool passphrase_asked = false;
  out.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &passphrase_asked));
  if (!out.key) {
    why = why_unreadable(pem, passphrase_asked);
    return out;
  }
  out.kind = classify(out.key.get(), why);
  return out;
}

int fits(std::string_view alg, int kind, std::string& why) {
  const bool rsa_alg = alg == "RS256" || alg == "PS256";
  if (!rsa_alg && alg != "ES256") {
    why = "cannot sign for that JWS algorithm: tokenctl signs with RS256, PS256 or ES256";
    return TOKENCTL_SIGN_BAD_KEY;
  }
  if (rsa_alg && kind != TOKENCTL_KEY_RSA) {
    why = "is an EC key: " + std::string(alg) + " needs an RSA key (ES256 signs with an EC P-256 key)";
    return TOKENCTL_SIGN_BAD_KEY;
  }
  if (!rsa_alg && kind != TOKENCTL_KEY_EC_P256) {
    why = "is an RSA key: ES256 needs an EC P-256 key (RS256 and PS256 sign with an RSA key)";
    return TOKENCTL_SIGN_BAD_KEY;
  }
  return TOKENCTL_SIGN_OK;
}

// Set the RSA padding of a signing context: PKCS#1 v1.5 (RS256) or PSS, MGF1 SHA-256, salt 32 (PS256).
bool set_rsa_padding(EVP_PKEY_CTX* pctx, bool pss) {
  if (!pss) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, k_pss_salt_len) > 0;
}

// Convert a DER ECDSA-Sig-Value to R || S of k_es256_part bytes each into `out`.
bool der_to_raw(const std::vector<unsigned char>& der, std::size_t der_len, unsigned char* out) {
  const unsigned char* p = der.data();
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return false;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  constexpr int part = static_cast<int>(k_es256_part);
  return r != nullptr && s != nullptr && BN_bn2binpad(r, out, part) == part &&
         BN_bn2binpad(s, out + k_es256_part, part) == part;
}

int sign_with(std::string_view alg, EVP_PKEY* key, const unsigned char* data, std::size_t data_len, unsigned char* sig,
              std::size_t* sig_len, std::string& why) {
  const bool es256 = alg == "ES256";
  const int max_size = EVP_PKEY_get_size(key);
  if (max_size <= 0) {
    why = "cannot be used: OpenSSL does not say how long its signatures are";
    return TOKENCTL_SIGN_FAILED;
  }
  const std::size_t needed = es256 ? 2 * k_es256_part : static_cast<std::size_t>(max_size);
  if (*sig_len < needed) {
    *sig_len = needed;
    return TOKENCTL_SIGN_TOO_SMALL;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr; // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      (!es256 && !set_rsa_padding(pctx, alg == "PS256"))) {
    why = "cannot be used: OpenSSL could not set up the " + std::string(alg) + " signature";
    return TOKENCTL_SIGN_FAILED;
  }
  static const unsigned char k_empty = 0;
  const unsigned char* input = data != nullptr ? data : &k_empty;
  std::vector<unsigned char> der(es256 ? static_cast<std::size_t>(max_size) : 0);
  std::size_t out_len = es256 ? der.size() : *sig_len;
  if (EVP_DigestSign(ctx.get(), es256 ? der.data() : sig, &out_len, input, data_len) != 1 ||
      (es256 && !der_to_raw(der, out_len, sig))) {
    why = "cannot be used: OpenSSL failed to make the " + std::string(alg) + " signature";
    return TOKENCTL_SIGN_FAILED;
  }
  *sig_len = es256 ? 2 * k_es256_part : out_len;
  return TOKENCTL_SIGN_OK;
}

} // namespace

int jws_key_kind(const char* pem, std::size_t pem_len, char* errbuf, std::size_t errbuf_len) noexcept {
  ErrorQueueGuard clear_errors;
  if (pem == nullptr && pem_len > 0) {
    write_message(errbuf, errbuf_len, "was not passed (no text)");
    return TOKENCTL_KEY_UNUSABLE;
  }
  try {
    std::string why;
    LoadedKey loaded = load_key(std::string_view(pem != nullptr ? pem : "", pem_len), why);
    if (loaded.kind == TOKENCTL_KEY_UNUSABLE) write_message(errbuf, errbuf_len, why);
    return loaded.kind;
  } catch (...) { // std::bad_alloc: nothing may cross the C interface
    write_message(errbuf, errbuf_len, "cannot be read: out of memory");
    return TOKENCTL_KEY_UNUSABLE;
  }
}

int jws_sign(const char* alg, const char* pem, std::size_t pem_len, const unsigned char* data, std::size_t data_len,
             unsigned char* sig, std::size_t* sig_len, char* errbuf, std::size_t errbuf_len) noexcept {
  ErrorQueueGuard clear_errors;
  if (alg == nullptr || (pem == nullptr && pem_len > 0) || (data == nullptr && data_len > 0) || sig_len == nullptr ||
      (sig == nullptr && *sig_len > 0)) {
    write_message(errbuf, errbuf_len, "cannot be used: the signing call is missing an argument");
    return TOKENCTL_SIGN_FAILED;
  }
  try {
    std::string why;
    LoadedKey loaded = load_key(std::string_view(pem != nullptr ? pem : "", pem_len), why);
    int result = loaded.failed ? TOKENCTL_SIGN_FAILED : TOKENCTL_SIGN_BAD_KEY;
    if (loaded.kind != TOKENCTL_KEY_UNUSABLE) result = fits(alg, loaded.kind, why);
    if (result == TOKENCTL_SIGN_OK) result = sign_with(alg, loaded.key.get(), data, data_len, sig, sig_len, why);
    if (result != TOKENCTL_SIGN_OK && result != TOKENCTL_SIGN_TOO_SMALL) write_message(errbuf, errbuf_len, why);
    return result;
  } catch (...) { // std::bad_alloc: nothing may cross the C interface
    write_message(errbuf, errbuf_len, "cannot be used: out of memory");
    return TOKENCTL_SIGN_FAILED;
  }
}

} // namespace tokenctl::netmod
