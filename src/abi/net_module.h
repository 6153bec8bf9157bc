/* The C interface between the program and its network module (tokenctl-net.so).
 *
 * Where: src/abi holds the C interfaces between the program and the modules it loads, so that
 * both sides include them without one layer reaching into another.
 *
 * Why a module: linking libcurl and OpenSSL costs several milliseconds at every start, and
 * `tokenctl token` with a cached token must not pay it. The program dlopen()s this module on
 * its first HTTP request, CSPRNG read, hash or signature. Only C types cross the boundary: the
 * program and the module each carry their own (static) C++ runtime, so no C++ object or exception
 * may pass.
 */
#ifndef TOKENCTL_NET_MODULE_ABI_H
#define TOKENCTL_NET_MODULE_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TOKENCTL_NET_ABI_VERSION 3
#define TOKENCTL_NET_ENTRY "tokenctl_net_module_v1"

struct tokenctl_http_header {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
};

struct tokenctl_http_request {
  const char* method; /* "GET" or "POST" */
  const char* url;    /* NUL-terminated */
  const struct tokenctl_http_header* headers;
  size_t header_count;
  const char* body; /* may be NULL when body_len == 0 */
  size_t body_len;
  const char* ca_pem; /* extra trusted CAs: PEM text the program read (ca_file), or NULL */
  size_t ca_pem_len;
  long connect_timeout_ms;
  long total_timeout_ms;
  size_t max_body_bytes; /* a longer body aborts the transfer: TOKENCTL_HTTP_TOO_LARGE */
  int follow_redirects;  /* 0 or 1 */
  int allow_http;        /* 1: plain http allowed (the caller checked loopback) */
  int no_proxy;          /* 1: connect directly, whatever the proxy environment says
                                      (loopback hosts: a proxy cannot reach them) */
  void* ctx;
  /* Called once per header line of the final response (after the transfer, before on_body),
   * name and value trimmed. */
  void (*on_header)(void* ctx, const char* name, size_t name_len, const char* value, size_t value_len);
  /* Called with the body of the final response (after the transfer ended well). */
  void (*on_body)(void* ctx, const char* data, size_t len);
  /* Out, may be NULL: the OS error (errno) of a failed connect, else 0. */
  int* os_error;
};

enum tokenctl_http_result {
  TOKENCTL_HTTP_OK = 0,
  TOKENCTL_HTTP_RESOLVE_FAILED = 1,  /* not sent */
  TOKENCTL_HTTP_CONNECT_FAILED = 2,  /* not sent */
  TOKENCTL_HTTP_TLS_FAILED = 3,      /* not sent: handshake or certificate verification */
  TOKENCTL_HTTP_TIMEOUT = 4,         /* may have been sent */
  TOKENCTL_HTTP_TOO_LARGE = 5,       /* response body over max_body_bytes */
  TOKENCTL_HTTP_FAILED = 6,          /* other transfer failure; may have been sent */
  TOKENCTL_HTTP_BAD_REQUEST = 7,     /* malformed URL, refused scheme; not sent */
  TOKENCTL_HTTP_CONNECT_TIMEOUT = 8, /* not sent: timed out before the request went out */
  TOKENCTL_HTTP_BAD_CA = 9           /* not sent: ca_pem holds no certificate */
};

/* What key_kind returns. */
enum tokenctl_key_kind {
  TOKENCTL_KEY_UNUSABLE = 0, /* errbuf says why */
  TOKENCTL_KEY_RSA = 1,      /* an RSA private key of at least 2048 bits: RS256, PS256 */
  TOKENCTL_KEY_EC_P256 = 2   /* an EC private key on P-256 (prime256v1): ES256 */
};

/* What jws_sign returns. */
enum tokenctl_sign_result {
  TOKENCTL_SIGN_OK = 0,
  TOKENCTL_SIGN_BAD_KEY = 1,  /* the key is unusable, or does not fit alg, or alg is unknown */
  TOKENCTL_SIGN_FAILED = 2,   /* OpenSSL failed */
  TOKENCTL_SIGN_TOO_SMALL = 3 /* sig_out is too small: *sig_len is the size needed */
};

struct tokenctl_net_module {
  int abi_version;
  /* Perform one request; on TOKENCTL_HTTP_OK *status is the HTTP status. errbuf gets a
   * one-line description (never any header or body content). */
  int (*http_perform)(const struct tokenctl_http_request* request, long* status, char* errbuf, size_t errbuf_len);
  /* Fill out with n bytes from OpenSSL's CSPRNG; 0 on success. */
  int (*random_bytes)(unsigned char* out, size_t n);
  /* SHA-256 of data into out; 0 on success. */
  int (*sha256)(const unsigned char* data, size_t n, unsigned char out[32]);
  /* Since version 3. The key functions take a private key as the PEM text the program read:
   * PKCS#8 "PRIVATE KEY", or the traditional "RSA PRIVATE KEY" / "EC PRIVATE KEY"; a
   * passphrase-protected key is refused (nobody can be asked for the passphrase). errbuf gets a
   * phrase that follows "the key" ("is encrypted with a passphrase ..."), never any key bytes. */
  /* Sign data with the key for the JWS algorithm alg (NUL-terminated): "RS256" (RSASSA-PKCS1-v1_5
   * SHA-256), "PS256" (RSASSA-PSS, SHA-256, MGF1 SHA-256, salt length 32) or "ES256" (ECDSA P-256
   * SHA-256, written as JWS wants it: R || S, 64 bytes). *sig_len: in, the size of sig_out; out,
   * the signature's length. Returns a tokenctl_sign_result. */
  int (*jws_sign)(const char* alg, const char* key_pem, size_t key_pem_len, const unsigned char* data, size_t data_len,
                  unsigned char* sig_out, size_t* sig_len, char* errbuf, size_t errbuf_len);
  /* Return the tokenctl_key_kind of the key: TOKENCTL_KEY_UNUSABLE (errbuf says why) for text that
   * is not PEM, a public key or certificate, an encrypted key, an RSA key under 2048 bits, an EC
   * key on another curve, or any other kind of key. */
  int (*key_kind)(const char* key_pem, size_t len, char* errbuf, size_t errbuf_len);
};

typedef const struct tokenctl_net_module* (*tokenctl_net_entry_fn)(void);

/* The module's only exported symbol (the program reaches it through dlsym; tests call it). */
const struct tokenctl_net_module* tokenctl_net_module_v1(void);

#ifdef __cplusplus
}
#endif

#endif
