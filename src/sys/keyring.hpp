// storage = "keyring": refresh tokens in the desktop's Secret Service, through the keyring module
// (tokenctl-keyring.so, libsecret), loaded only when a keyring profile needs its refresh token, so
// that `tokenctl token` with a valid access token never loads libsecret, GLib or D-Bus.
#pragma once

#include <chrono>
#include <string>

#include "abi/keyring_module.h"
#include "tokenctl/ports.hpp"

namespace tokenctl::sys {

inline constexpr const char* k_keyring_module_file = "tokenctl-keyring.so";
// Every keyring call ends within this (the contract's 3 seconds).
inline constexpr std::chrono::milliseconds k_keyring_timeout{3000};

// Return the keyring module, loading it on the first call (as net_module()).
const tokenctl_keyring_module& keyring_module();

// The Secret Service as a SecretStore. Every failure is Error(failure) saying which (locked,
// missing service, no answer within 3 s, no default keyring) with the hint to unlock it or to
// use storage = "file": never a silent fallback.
class KeyringSecretStore : public SecretStore {
public:
  using ModuleSource = const tokenctl_keyring_module& (*)();
  explicit KeyringSecretStore(ModuleSource module = &keyring_module) : m_module(module) {}
  void put(const std::string& profile, const std::string& issuer, const std::string& label,
           const std::string& secret) override;
  std::optional<std::string> get(const std::string& profile, const std::string& issuer) override;
  void erase(const std::string& profile, const std::string& issuer) override;

private:
  ModuleSource m_module;
};

} // namespace tokenctl::sys
