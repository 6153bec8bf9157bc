// The token cache on disk: reads without the lock (rename is atomic, so a reader sees the old
// file or the new one), and read-modify-write cycles under the sibling lock file.
#include "sys/token_store.hpp"

#include "sys/file_lock.hpp"
#include "sys/files.hpp"

namespace tokenctl::sys {

TokenCache TokenStore::load() const {
  // One byte over the cap, so that parse_token_cache sees a too-big file and words the error.
  const auto bytes = read_private_file_bytes(m_path, k_token_cache_max_bytes + 1);
  if (!bytes) return {};
  return parse_token_cache(bytes->view(), m_path);
}

std::optional<TokenSet> TokenStore::load_one(std::string_view profile) const {
  const auto bytes = read_private_file_bytes(m_path, k_token_cache_max_bytes + 1);
  if (!bytes) return std::nullopt;
  return parse_token_cache_entry(bytes->view(), profile, m_path);
}

void TokenStore::update(const std::function<bool(TokenCache&)>& change) const { update(change, OnDamaged::fail); }

void TokenStore::update(const std::function<bool(TokenCache&)>& change, OnDamaged on_damaged) const {
  make_private_dirs(parent_dir(m_path));
  if (m_own_folder) tighten_private_dir(parent_dir(m_path));
  const FileLock lock = FileLock::acquire(lock_path(), k_cache_lock_wait);
  TokenCache cache;
  const auto bytes = read_private_file_head(m_path, k_token_cache_max_bytes + 1);
  if (bytes) {
    try {
      cache = parse_token_cache(*bytes, m_path);
    } catch (const Error&) {
      if (on_damaged == OnDamaged::fail) throw;
    }
  }
  if (!change(cache)) return;
  remove_stale_temporaries(m_path); // left by a writer killed before its rename; we hold the lock
  write_file_atomic(m_path, serialize_token_cache(cache), 0600);
}

} // namespace tokenctl::sys
