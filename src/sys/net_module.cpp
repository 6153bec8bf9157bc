// Loading the network module. libcurl and OpenSSL cost several milliseconds to load, and the
// cached `tokenctl token` path needs neither, so they live in tokenctl-net.so, loaded here on the
// first request, where sys/module_loader.hpp says.
#include "sys/net_module.hpp"

#include "sys/module_loader.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl::sys {

std::vector<std::string> net_module_candidates(const std::string& exe_path, const std::string& reldir,
                                               const std::string& absdir) {
  return module_candidates(exe_path, reldir, absdir, k_net_module_file);
}

const tokenctl_net_module& load_net_module(const std::vector<std::string>& candidates) {
  const void* module = load_module(
      candidates, TOKENCTL_NET_ENTRY,
      [](const void* m) {
        const int version = static_cast<const tokenctl_net_module*>(m)->abi_version;
        return version == TOKENCTL_NET_ABI_VERSION
                   ? std::string()
                   : "has interface version " + std::to_string(version) + ", this program needs " +
                         std::to_string(TOKENCTL_NET_ABI_VERSION);
      },
      "network");
  return *static_cast<const tokenctl_net_module*>(module);
}

const tokenctl_net_module& net_module() {
  // A function-local static: initialised once, thread-safe; a throw leaves it for the next call.
  static const tokenctl_net_module& module = load_net_module(module_candidates(k_net_module_file));
  return module;
}

std::string ModuleRandom::bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && m_source().random_bytes(reinterpret_cast<unsigned char*>(out.data()), n) != 0)
    throw Error(ErrorKind::failure, "cannot read random bytes from OpenSSL's generator");
  return out;
}

std::string ModuleHasher::sha256(std::string_view data) {
  std::string out(32, '\0');
  if (m_source().sha256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                        reinterpret_cast<unsigned char*>(out.data())) != 0)
    throw Error(ErrorKind::failure, "cannot compute a SHA-256 digest with OpenSSL");
  return out;
}

namespace {
// The module's messages are phrases that follow "the key"; they never quote the key.
constexpr std::size_t k_signer_errbuf = 512;
constexpr std::size_t k_first_signature_room = 512; // an RSA 4096-bit signature; larger keys ask again

std::string key_message(const char* errbuf) {
  return std::string("the client assertion key ") + (errbuf[0] != '\0' ? errbuf : "cannot be used");
}
} // namespace

std::string ModuleSigner::sign(std::string_view alg, std::string_view key_pem, std::string_view data) {
  const tokenctl_net_module& module = m_source();
  const std::string alg_text(alg);
  std::string sig(k_first_signature_room, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    char errbuf[k_signer_errbuf] = {};
    std::size_t sig_len = sig.size();
    const int result = module.jws_sign(alg_text.c_str(), key_pem.data(), key_pem.size(),
                                       reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                                       reinterpret_cast<unsigned char*>(sig.data()), &sig_len, errbuf, sizeof errbuf);
    if (result == TOKENCTL_SIGN_OK && sig_len <= sig.size()) {
      sig.resize(sig_len);
      return sig;
    }
    if (result == TOKENCTL_SIGN_TOO_SMALL && sig_len > sig.size()) {
      sig.assign(sig_len, '\0');
      continue;
    }
    if (result == TOKENCTL_SIGN_BAD_KEY) throw Error(ErrorKind::config, key_message(errbuf));
    throw Error(ErrorKind::failure, key_message(errbuf));
  }
  throw Error(ErrorKind::failure, "the client assertion key cannot be used: OpenSSL's signature size kept changing");
}

std::string ModuleSigner::key_kind(std::string_view key_pem) {
  char errbuf[k_signer_errbuf] = {};
  switch (m_source().key_kind(key_pem.data(), key_pem.size(), errbuf, sizeof errbuf)) {
  case TOKENCTL_KEY_RSA: return "rsa";
  case TOKENCTL_KEY_EC_P256: return "ec";
  default: throw Error(ErrorKind::config, key_message(errbuf));
  }
}

} // namespace tokenctl::sys
