// The token cache on disk: lock-free reads, and updates under the cache lock.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <string>

#include "sys/file_lock.hpp"
#include "tokenctl/token_cache.hpp"

namespace tokenctl::sys {

inline constexpr std::chrono::milliseconds k_cache_lock_wait = k_lock_wait;

class TokenStore {
public:
  // `own_folder`: the cache's folder is tokenctl's own (the default location), so a folder that
  // group or others can read is tightened to 0700 when the cache is written.
  explicit TokenStore(std::string path, bool own_folder = false) : m_path(std::move(path)), m_own_folder(own_folder) {}

  // Return the cache path.
  [[nodiscard]] const std::string& path() const { return m_path; }
  // Return the lock file path (the cache path + ".lock").
  [[nodiscard]] std::string lock_path() const { return m_path + ".lock"; }

  // Read the cache without locking (an empty cache if the file does not exist).
  // Throws Error(failure) for a damaged, unsafe or unreadable cache.
  [[nodiscard]] TokenCache load() const;
  // Read one profile's token set without locking (nullopt when there is none); cheaper than load()
  // on a cache of many profiles. Throws as load() does.
  [[nodiscard]] std::optional<TokenSet> load_one(std::string_view profile) const;

  // Take the cache lock, re-read the cache, let `change` modify it, and write it back atomically
  // (0600 file, 0700 folder) if `change` returns true. The lock is released on return.
  void update(const std::function<bool(TokenCache&)>& change) const;

  // What update does with a cache file that cannot be parsed (damaged, or of another version).
  enum class OnDamaged { fail, start_empty };
  // Update as above; with OnDamaged::start_empty a damaged cache is replaced by what `change` makes
  // of an empty one (for `login`, which the damage messages recommend). Unsafe files still throw.
  void update(const std::function<bool(TokenCache&)>& change, OnDamaged on_damaged) const;

private:
  std::string m_path;
  bool m_own_folder = false;
};

} // namespace tokenctl::sys
