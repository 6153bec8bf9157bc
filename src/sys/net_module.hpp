// The program's side of the network module: finding and loading tokenctl-net.so on first use,
// and the RandomSource, Hasher and Signer ports on top of it. No libcurl or OpenSSL header here.
#pragma once

#include <string>
#include <vector>

#include "abi/net_module.h"
#include "tokenctl/ports.hpp"

namespace tokenctl::sys {

inline constexpr const char* k_net_module_file = "tokenctl-net.so";

// Return a function that yields the loaded module (throws like net_module() when it cannot).
using NetModuleSource = const tokenctl_net_module& (*)();

// Return the module, loading it on the first call (thread-safe); later calls return the same one.
// Throws Error(failure) "cannot load the network module tokenctl-net.so (searched: A, B):
// <reason>; reinstall tokenctl" when no candidate loads.
const tokenctl_net_module& net_module();

// Return where to look for the module, in order: the folder of `exe_path`, then that folder
// + "/" + `reldir` (TOKENCTL_MODULE_RELDIR in the program). When `exe_path` is not an absolute
// path (/proc/self/exe could not be read, in a chroot or sandbox without /proc), only the
// absolute installation folder `absdir` (TOKENCTL_MODULE_ABSDIR): never a relative path, which
// would load whatever module the working folder holds.
std::vector<std::string> net_module_candidates(const std::string& exe_path, const std::string& reldir,
                                               const std::string& absdir);

// dlopen the first candidate that loads and has a matching ABI version; return its module.
// Throws Error(failure) as net_module() does, naming every candidate and the first reason.
const tokenctl_net_module& load_net_module(const std::vector<std::string>& candidates);

// Random bytes from the module's CSPRNG (OpenSSL RAND_bytes).
class ModuleRandom : public RandomSource {
public:
  explicit ModuleRandom(NetModuleSource source = &net_module) : m_source(source) {}
  // Return `n` random bytes; throws Error(failure) if the CSPRNG fails.
  std::string bytes(std::size_t n) override;

private:
  NetModuleSource m_source;
};

// SHA-256 from the module (OpenSSL EVP).
class ModuleHasher : public Hasher {
public:
  explicit ModuleHasher(NetModuleSource source = &net_module) : m_source(source) {}
  // Return the 32-byte SHA-256 digest of `data`; throws Error(failure) if OpenSSL fails.
  std::string sha256(std::string_view data) override;

private:
  NetModuleSource m_source;
};

// JWS signatures from the module (OpenSSL EVP): RS256, PS256, ES256 over a PEM private key.
class ModuleSigner : public Signer {
public:
  explicit ModuleSigner(NetModuleSource source = &net_module) : m_source(source) {}
  // Return the raw JWS signature of `data`; throws Error(config) "the client assertion key ..."
  // when the key is unusable or does not fit `alg`, Error(failure) when OpenSSL fails.
  std::string sign(std::string_view alg, std::string_view key_pem, std::string_view data) override;
  // Return "rsa" or "ec"; throws Error(config) "the client assertion key ..." saying why not.
  std::string key_kind(std::string_view key_pem) override;

private:
  NetModuleSource m_source;
};

} // namespace tokenctl::sys
