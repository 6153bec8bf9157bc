// Loading the network module. libcurl and OpenSSL cost several milliseconds to load, and the
// cached `tokenctl token` path needs neither, so they live in tokenctl-net.so, loaded here on the
// first request. It is looked up beside the real executable (a build tree), then in the
// installed library folder relative to it (bin/../lib/tokenctl), never through LD_LIBRARY_PATH
// or the working folder: a path we chose, so that nobody can slip another module in.
#include "sys/net_module.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "tokenctl/error.hpp"

#ifndef TOKENCTL_MODULE_RELDIR
#define TOKENCTL_MODULE_RELDIR "../lib/tokenctl"
#endif
#ifndef TOKENCTL_MODULE_ABSDIR
#define TOKENCTL_MODULE_ABSDIR "/usr/local/lib/tokenctl"
#endif

namespace tokenctl::sys {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<std::size_t>(n));
}

// Try one candidate; return the module or nullptr with `why` set.
const tokenctl_net_module* try_load(const std::string& path, std::string& why) {
  // RTLD_LOCAL: the module's libcurl and OpenSSL symbols stay out of the program's namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    why = err != nullptr ? err : "dlopen failed";
    return nullptr;
  }
  auto entry = reinterpret_cast<tokenctl_net_entry_fn>(dlsym(handle, TOKENCTL_NET_ENTRY));
  const tokenctl_net_module* module = entry != nullptr ? entry() : nullptr;
  if (module == nullptr) {
    why = path + " has no " TOKENCTL_NET_ENTRY;
  } else if (module->abi_version != TOKENCTL_NET_ABI_VERSION) {
    why = path + " has interface version " + std::to_string(module->abi_version) + ", this program needs " +
          std::to_string(TOKENCTL_NET_ABI_VERSION);
  } else {
    return module; // kept loaded for the life of the process
  }
  dlclose(handle);
  return nullptr;
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

} // namespace

std::vector<std::string> net_module_candidates(const std::string& exe_path, const std::string& reldir,
                                               const std::string& absdir) {
  if (exe_path.empty() || exe_path.front() != '/') return {absdir + "/" + k_net_module_file};
  const std::string dir = exe_path.substr(0, exe_path.rfind('/'));  // "" for a program in /
  return {dir + "/" + k_net_module_file, dir + "/" + reldir + "/" + k_net_module_file};
}

const tokenctl_net_module& load_net_module(const std::vector<std::string>& candidates) {
  std::string first_reason, missing_reason;
  for (const auto& path : candidates) {
    std::string why;
    if (const tokenctl_net_module* module = try_load(path, why)) return *module;
    // A file that is there but does not load says more than one that is missing.
    if (exists(path) && first_reason.empty()) first_reason = why;
    if (missing_reason.empty()) missing_reason = why;
  }
  std::string searched;
  for (const auto& path : candidates) searched += (searched.empty() ? "" : ", ") + path;
  std::string reason = !first_reason.empty() ? first_reason : missing_reason;
  throw Error(ErrorKind::failure, std::string("cannot load the network module ") + k_net_module_file +
                                      " (searched: " + searched + "): " + reason + "; reinstall tokenctl");
}

const tokenctl_net_module& net_module() {
  // A function-local static: initialised once, thread-safe; a throw leaves it for the next call.
  static const tokenctl_net_module& module =
      load_net_module(net_module_candidates(self_exe(), TOKENCTL_MODULE_RELDIR, TOKENCTL_MODULE_ABSDIR));
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
