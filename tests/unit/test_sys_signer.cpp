// JWS signatures through the built network module (TOKENCTL_TEST_MODULE, loaded with dlopen as
// the program loads it): keys made with the `openssl` command at test time (none is committed),
// every signature verified independently of the module, by OpenSSL's EVP verify in this test and
// by `openssl dgst -verify`; the refused keys and what the module says about them, which must
// never quote the key.
#include <doctest/doctest.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "support/sys_test_dir.hpp"
#include "sys/fd.hpp"
#include "sys/net_module.hpp"
#include "tokenctl/client_assertion.hpp"
#include "tokenctl/encoding.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;

namespace {

using sys::CDeleter;
using Bio = std::unique_ptr<BIO, CDeleter<BIO_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, CDeleter<EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, CDeleter<EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, CDeleter<ECDSA_SIG_free>>;

const tokenctl_net_module& built_module() { return sys::load_net_module({TOKENCTL_TEST_MODULE}); }

std::string quoted(const std::string& path) { return "'" + path + "'"; }

bool run(const std::string& command) { return std::system(("(" + command + ") >/dev/null 2>&1").c_str()) == 0; }

// The keys of these tests, made once per run by the openssl command in a temporary folder.
class Keys {
public:
  Keys() {
    m_ok = run("openssl version");
    if (!m_ok) return;
    const std::string rsa = quoted(path("rsa2048.pem"));
    m_ok = run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + rsa) &&
           run("openssl pkey -in " + rsa + " -traditional -out " + quoted(path("rsa2048-trad.pem"))) &&
           run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " + quoted(path("rsa1024.pem"))) &&
           run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + quoted(path("ec256.pem"))) &&
           run("openssl ecparam -name prime256v1 -genkey -out " + quoted(path("ec256-ecparam.pem"))) &&
           run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " + quoted(path("ec384.pem"))) &&
           run("openssl genpkey -algorithm ED25519 -out " + quoted(path("ed25519.pem"))) &&
           run("openssl pkey -in " + rsa + " -aes-256-cbc -passout pass:hunter2 -out " + quoted(path("enc.pem"))) &&
           run("openssl pkey -in " + rsa + " -traditional -aes128 -passout pass:hunter2 -out " +
               quoted(path("enc-trad.pem"))) &&
           run("openssl pkey -in " + rsa + " -pubout -out " + quoted(path("rsa-pub.pem"))) &&
           run("openssl req -x509 -key " + rsa + " -subj /CN=tokenctl-test -days 1 -out " + quoted(path("cert.pem")));
    if (!m_ok) return;
    test::put_file(path("cert-and-key.pem"), pem("cert.pem") + pem("rsa2048.pem"));
    test::put_file(path("garbage.pem"), "SECRET-GARBAGE-4242 this is no key at all\n");
    const std::string body = pem("rsa2048.pem").substr(28, 64);
    test::put_file(path("openssh.pem"),
                   "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "\n-----END OPENSSH PRIVATE KEY-----\n");
    std::string damaged = pem("rsa2048.pem");
    damaged[100] = damaged[100] == 'A' ? 'B' : 'A';
    damaged.erase(200, 300);
    test::put_file(path("damaged.pem"), damaged);
  }
  // Return whether the keys could be made (the openssl command is there).
  [[nodiscard]] bool ok() const { return m_ok; }
  [[nodiscard]] std::string path(const std::string& name) const { return m_dir / name; }
  [[nodiscard]] std::string pem(const std::string& name) const { return test::get_file(path(name)); }

private:
  test::TestDir m_dir;
  bool m_ok = false;
};

const Keys& keys() {
  static const Keys k;
  return k;
}

#define REQUIRE_KEYS()                                                                                                 \
  if (!keys().ok()) {                                                                                                  \
    MESSAGE("skipped: the openssl command is missing or could not make the test keys");                                \
    return;                                                                                                            \
  }

Pkey private_key(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Return the DER ECDSA-Sig-Value of a JWS ES256 signature (R || S).
std::string raw_to_der(const std::string& raw) {
  REQUIRE(raw.size() == 64);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  REQUIRE(ECDSA_SIG_set0(sig.get(), r, s) == 1);
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  REQUIRE(len > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Verify a JWS signature with OpenSSL's EVP API; `pss_salt` for PS256 (-1: not PSS).
bool evp_verify(const std::string& key_pem, const std::string& alg, const std::string& data, const std::string& sig,
                int pss_salt = 32) {
  Pkey key = private_key(key_pem);
  REQUIRE(key);
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) == 1);
  if (alg == "PS256") {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt) > 0);
  }
  const std::string der = alg == "ES256" ? raw_to_der(sig) : sig;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

// Verify a JWS signature with the `openssl dgst -verify` command and the key's public half.
bool dgst_verify(const std::string& key_name, const std::string& alg, const std::string& data, const std::string& sig) {
  const Keys& k = keys();
  const std::string pub = k.path(key_name + ".pub"), in = k.path("input.bin"), sigfile = k.path("sig.bin");
  if (!run("openssl pkey -in " + quoted(k.path(key_name)) + " -pubout -out " + quoted(pub))) return false;
  test::put_file(in, data);
  test::put_file(sigfile, alg == "ES256" ? raw_to_der(sig) : sig);
  const std::string options =
      alg == "PS256" ? " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256" : "";
  return run("openssl dgst -sha256 -verify " + quoted(pub) + options + " -signature " + quoted(sigfile) + " " +
             quoted(in));
}

struct Refusal {
  int kind = -1;
  std::string message;
};

// Call the module's key_kind directly, with a poisoned buffer.
Refusal module_key_kind(const std::string& pem) {
  char errbuf[512];
  std::fill(std::begin(errbuf), std::end(errbuf), 'Z');
  errbuf[511] = '\0';
  Refusal out;
  out.kind = built_module().key_kind(pem.data(), pem.size(), errbuf, sizeof errbuf);
  out.message = errbuf;
  return out;
}

// Check that `message` holds no 12-character run of any line of the key's text but its labels.
void check_no_key_bytes(const std::string& message, const std::string& pem) {
  std::size_t start = 0;
  while (start < pem.size()) {
    std::size_t end = pem.find('\n', start);
    if (end == std::string::npos) end = pem.size();
    const std::string line = pem.substr(start, end - start);
    start = end + 1;
    if (line.rfind("-----", 0) == 0) continue;
    for (std::size_t i = 0; i + 12 <= line.size(); ++i) {
      INFO("line: " << line.substr(0, 16) << "...");
      REQUIRE(message.find(line.substr(i, 12)) == std::string::npos);
    }
  }
}

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    return e.what();
  }
  FAIL("no error was thrown");
  return "";
}

} // namespace

TEST_SUITE_BEGIN("sys.signer");

TEST_CASE("the module has the signing functions of interface version 3") {
  const tokenctl_net_module& module = built_module();
  CHECK(module.abi_version == 3);
  CHECK((module.jws_sign != nullptr && module.key_kind != nullptr));
}

TEST_CASE("key kinds: RSA 2048 and EC P-256, PKCS#8 and traditional PEM") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  CHECK(signer.key_kind(keys().pem("rsa2048.pem")) == "rsa");
  CHECK(keys().pem("rsa2048-trad.pem").rfind("-----BEGIN RSA PRIVATE KEY-----", 0) == 0);
  CHECK(signer.key_kind(keys().pem("rsa2048-trad.pem")) == "rsa");
  CHECK(signer.key_kind(keys().pem("ec256.pem")) == "ec");
  CHECK(keys().pem("ec256-ecparam.pem").rfind("-----BEGIN EC PARAMETERS-----", 0) == 0); // then EC PRIVATE KEY
  CHECK(signer.key_kind(keys().pem("ec256-ecparam.pem")) == "ec");
  CHECK(signer.key_kind(keys().pem("cert-and-key.pem")) == "rsa"); // a certificate first, then the key
}

TEST_CASE("RS256 signatures verify - with EVP and with openssl dgst") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  const std::string data = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjaSJ9";
  for (std::string name : {"rsa2048.pem", "rsa2048-trad.pem"}) {
    INFO(name);
    const std::string sig = signer.sign("RS256", keys().pem(name), data);
    CHECK(sig.size() == 256);
    CHECK(evp_verify(keys().pem(name), "RS256", data, sig));
    CHECK(dgst_verify(name, "RS256", data, sig));
    CHECK_FALSE(evp_verify(keys().pem(name), "RS256", data + "x", sig));
    CHECK(signer.sign("RS256", keys().pem(name), data) == sig); // PKCS#1 v1.5 is deterministic
  }
}

TEST_CASE("PS256 signatures verify with PSS, MGF1 SHA-256 and a 32-byte salt - and only with that salt") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  const std::string key = keys().pem("rsa2048.pem"), data = "header.payload";
  const std::string sig = signer.sign("PS256", key, data);
  CHECK(sig.size() == 256);
  CHECK(evp_verify(key, "PS256", data, sig, 32));
  CHECK(dgst_verify("rsa2048.pem", "PS256", data, sig));
  // OpenSSL's own default would be the longest salt (222 bytes for a 2048-bit key).
  CHECK_FALSE(evp_verify(key, "PS256", data, sig, RSA_PSS_SALTLEN_MAX));
  CHECK_FALSE(evp_verify(key, "PS256", data, sig, 20));
  CHECK_FALSE(evp_verify(key, "RS256", data, sig));
  CHECK(signer.sign("PS256", key, data) != sig); // a random salt each time
}

TEST_CASE("ES256 signatures: R || S in 64 bytes - verifying once turned back into DER") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  for (std::string name : {"ec256.pem", "ec256-ecparam.pem"}) {
    INFO(name);
    // Several signatures, so that an R or S with leading zero bytes (shorter DER) is likely met.
    for (int i = 0; i < 24; ++i) {
      const std::string data = "h.p" + std::to_string(i);
      const std::string sig = signer.sign("ES256", keys().pem(name), data);
      REQUIRE(sig.size() == 64);
      CHECK(evp_verify(keys().pem(name), "ES256", data, sig));
      CHECK_FALSE(evp_verify(keys().pem(name), "ES256", data + "x", sig));
      if (i == 0) CHECK(dgst_verify(name, "ES256", data, sig));
    }
  }
}

TEST_CASE("an empty signing input is signed too") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  CHECK(evp_verify(keys().pem("ec256.pem"), "ES256", "", signer.sign("ES256", keys().pem("ec256.pem"), "")));
}

TEST_CASE("an alg that does not fit the key is refused as a config error") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  CHECK(config_error([&] { signer.sign("ES256", keys().pem("rsa2048.pem"), "x"); }) ==
        "the client assertion key is an RSA key: ES256 needs an EC P-256 key (RS256 and PS256 sign with an RSA key)");
  CHECK(config_error([&] { signer.sign("PS256", keys().pem("ec256.pem"), "x"); }) ==
        "the client assertion key is an EC key: PS256 needs an RSA key (ES256 signs with an EC P-256 key)");
  CHECK(config_error([&] { signer.sign("HS256", keys().pem("rsa2048.pem"), "x"); }) ==
        "the client assertion key cannot sign for that JWS algorithm: tokenctl signs with RS256, PS256 or ES256");
}

TEST_CASE("refused keys: what the module says, as a config error") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  struct Case {
    const char* file;
    const char* says;
  };
  const Case cases[] = {
      {"rsa1024.pem", "is an RSA key of 1024 bits: RS256 and PS256 need at least 2048"},
      {"ec384.pem", "is an EC key on curve secp384r1: ES256 needs P-256"},
      {"ed25519.pem", "is an ED25519 key tokenctl does not sign with"},
      {"enc.pem", "is encrypted with a passphrase, which tokenctl cannot ask for"},
      {"enc-trad.pem", "is encrypted with a passphrase, which tokenctl cannot ask for"},
      {"rsa-pub.pem", "is a public key: tokenctl signs with the private key"},
      {"cert.pem", "is a certificate: tokenctl signs with the private key"},
      {"garbage.pem", "is not PEM text"},
      {"openssh.pem", "is in OpenSSH's format"},
      {"damaged.pem", "cannot be read: its PEM text is damaged"},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const std::string pem = keys().pem(c.file);
    const Refusal refusal = module_key_kind(pem);
    CHECK(refusal.kind == TOKENCTL_KEY_UNUSABLE);
    CHECK(refusal.message.rfind(c.says, 0) == 0);
    check_no_key_bytes(refusal.message, pem);
    const std::string message = config_error([&] { signer.key_kind(pem); });
    CHECK(message == "the client assertion key " + refusal.message);
    const std::string sign_message = config_error([&] { signer.sign("RS256", pem, "data"); });
    CHECK(sign_message == message);
    check_no_key_bytes(sign_message, pem);
  }
  CHECK(config_error([&] { signer.key_kind(""); }) == "the client assertion key is empty");
  CHECK(config_error([&] { signer.key_kind(std::string(70 * 1024, 'A')); }) ==
        "the client assertion key is over 64 KiB: too large for a PEM private key");
}

TEST_CASE("the garbage text is not repeated back") {
  REQUIRE_KEYS();
  const Refusal refusal = module_key_kind(keys().pem("garbage.pem"));
  CHECK(refusal.message.find("SECRET") == std::string::npos);
  CHECK(refusal.message.find("4242") == std::string::npos);
}

TEST_CASE("the C interface: a buffer too small gets the size needed - nothing else is written") {
  REQUIRE_KEYS();
  const std::string key = keys().pem("rsa2048.pem");
  const unsigned char data[] = {'a', '.', 'b'};
  unsigned char sig[300];
  char errbuf[64] = "untouched";
  std::size_t sig_len = 10;
  CHECK(built_module().jws_sign("RS256", key.data(), key.size(), data, sizeof data, sig, &sig_len, errbuf,
                                sizeof errbuf) == TOKENCTL_SIGN_TOO_SMALL);
  CHECK(sig_len == 256);
  CHECK(std::string(errbuf) == "untouched");
  sig_len = sizeof sig;
  CHECK(built_module().jws_sign("RS256", key.data(), key.size(), data, sizeof data, sig, &sig_len, errbuf,
                                sizeof errbuf) == TOKENCTL_SIGN_OK);
  CHECK(sig_len == 256);
  const std::string ec = keys().pem("ec256.pem");
  sig_len = 63;
  CHECK(built_module().jws_sign("ES256", ec.data(), ec.size(), data, sizeof data, sig, &sig_len, errbuf,
                                sizeof errbuf) == TOKENCTL_SIGN_TOO_SMALL);
  CHECK(sig_len == 64);
  // A short errbuf is cut, and ends in NUL.
  char tiny[8];
  CHECK(built_module().key_kind("x", 1, tiny, sizeof tiny) == TOKENCTL_KEY_UNUSABLE);
  CHECK(std::string(tiny) == "is not ");
  CHECK(built_module().key_kind(nullptr, 0, nullptr, 0) == TOKENCTL_KEY_UNUSABLE);
  sig_len = sizeof sig;
  CHECK(built_module().jws_sign(nullptr, key.data(), key.size(), data, sizeof data, sig, &sig_len, nullptr, 0) ==
        TOKENCTL_SIGN_FAILED);
}

namespace {
// A module whose jws_sign first asks for more room than ModuleSigner offers, then signs.
std::vector<std::size_t> g_offered;
int growing_sign(const char*, const char*, size_t, const unsigned char*, size_t, unsigned char* sig_out,
                 size_t* sig_len, char*, size_t) {
  g_offered.push_back(*sig_len);
  if (*sig_len < 1024) {
    *sig_len = 1024;
    return TOKENCTL_SIGN_TOO_SMALL;
  }
  std::fill(sig_out, sig_out + 1024, 0xAB);
  *sig_len = 1024;
  return TOKENCTL_SIGN_OK;
}
const tokenctl_net_module k_growing{TOKENCTL_NET_ABI_VERSION, nullptr, nullptr, nullptr, growing_sign, nullptr};
const tokenctl_net_module& growing_module() { return k_growing; }
} // namespace

TEST_CASE("ModuleSigner offers more room when a large key needs it") {
  sys::ModuleSigner signer(&growing_module);
  g_offered.clear();
  const std::string sig = signer.sign("RS256", "key", "data");
  CHECK(sig == std::string(1024, '\xAB'));
  REQUIRE(g_offered.size() == 2);
  CHECK(g_offered[1] == 1024);
}

TEST_CASE("a client assertion made by the core with the module's signer verifies") {
  REQUIRE_KEYS();
  sys::ModuleSigner signer(&built_module);
  sys::ModuleRandom random(&built_module);
  for (std::string alg : {"RS256", "PS256", "ES256"}) {
    INFO(alg);
    const std::string name = alg == "ES256" ? "ec256.pem" : "rsa2048.pem";
    ClientAssertionRequest request;
    request.client_id = "ci-bot";
    request.audience = "https://as.example/token";
    request.alg = alg == "RS256" ? "" : alg; // RS256 as the RSA key's default
    request.now = TimePoint(Seconds(1'800'000'000));
    request.jti = assertion_jti(random);
    const std::string jws = make_client_assertion(request, signer, keys().pem(name));
    const auto dot = jws.rfind('.');
    const auto signature = base64url_decode(jws.substr(dot + 1));
    REQUIRE(signature.has_value());
    CHECK(evp_verify(keys().pem(name), alg, jws.substr(0, dot), *signature));
  }
}

TEST_SUITE_END();
