#include "sys/keyring.hpp"

#include <cstring>

#include "sys/module_loader.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl::sys {
namespace {

constexpr const char* k_file_hint =
    "or set storage = \"file\" in the profile to keep the refresh token in the token cache";

[[noreturn]] void fail(int result, const std::string& doing, const char* detail) {
  const std::string why = detail != nullptr && detail[0] != '\0' ? std::string(": ") + detail : std::string();
  switch (result) {
  case TOKENCTL_KEYRING_LOCKED:
    throw Error(ErrorKind::failure, "the keyring is locked, so tokenctl cannot " + doing + why,
                std::string("unlock it (log in to the desktop, or open your keyring manager) ") + k_file_hint);
  case TOKENCTL_KEYRING_NO_SERVICE:
    throw Error(ErrorKind::failure,
                "no Secret Service (keyring) answers on the session bus, so tokenctl cannot " + doing + why,
                std::string("on a machine without a desktop session, ") + k_file_hint);
  case TOKENCTL_KEYRING_TIMEOUT:
    throw Error(ErrorKind::failure, "the keyring did not answer within 3 seconds, so tokenctl cannot " + doing,
                std::string("check that the keyring service runs and is not waiting for a password, ") + k_file_hint);
  case TOKENCTL_KEYRING_NO_COLLECTION:
    throw Error(ErrorKind::failure, "the keyring has no default collection, so tokenctl cannot " + doing + why,
                std::string("create one in your keyring manager, ") + k_file_hint);
  default: throw Error(ErrorKind::failure, "the keyring refused to let tokenctl " + doing + why, k_file_hint);
  }
}

int timeout_ms() { return static_cast<int>(k_keyring_timeout.count()); }

} // namespace

const tokenctl_keyring_module& keyring_module() {
  static const tokenctl_keyring_module& module = *static_cast<const tokenctl_keyring_module*>(load_module(
      module_candidates(k_keyring_module_file), TOKENCTL_KEYRING_ENTRY,
      [](const void* m) {
        const int version = static_cast<const tokenctl_keyring_module*>(m)->abi_version;
        return version == TOKENCTL_KEYRING_ABI_VERSION
                   ? std::string()
                   : "has interface version " + std::to_string(version) + ", this program needs " +
                         std::to_string(TOKENCTL_KEYRING_ABI_VERSION);
      },
      "keyring"));
  return module;
}

void KeyringSecretStore::put(const std::string& profile, const std::string& issuer, const std::string& label,
                             const std::string& secret) {
  char err[512] = {};
  const int r = m_module().store(profile.c_str(), issuer.c_str(), label.c_str(), secret.data(), secret.size(),
                                 timeout_ms(), err, sizeof err);
  if (r != TOKENCTL_KEYRING_OK) fail(r, "keep the refresh token of profile \"" + profile + "\"", err);
}

std::optional<std::string> KeyringSecretStore::get(const std::string& profile, const std::string& issuer) {
  char err[512] = {};
  char* secret = nullptr;
  std::size_t len = 0;
  const int r = m_module().lookup(profile.c_str(), issuer.c_str(), timeout_ms(), &secret, &len, err, sizeof err);
  if (r == TOKENCTL_KEYRING_NOT_FOUND) return std::nullopt;
  if (r != TOKENCTL_KEYRING_OK) fail(r, "read the refresh token of profile \"" + profile + "\"", err);
  std::string out(secret, len);
  m_module().free_secret(secret, len);
  return out;
}

void KeyringSecretStore::erase(const std::string& profile, const std::string& issuer) {
  char err[512] = {};
  const int r = m_module().erase(profile.c_str(), issuer.c_str(), timeout_ms(), err, sizeof err);
  if (r != TOKENCTL_KEYRING_OK && r != TOKENCTL_KEYRING_NOT_FOUND)
    fail(r, "remove the refresh token of profile \"" + profile + "\"", err);
}

} // namespace tokenctl::sys
