// Files: reading with a size cap; reading files that hold secrets (private, never through a
// symlink) and token files other programs keep fresh; private folders; atomic replacement.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tokenctl/error.hpp"

namespace tokenctl::sys {

// Read a whole file (following symlinks) of at most `max_bytes`; nullopt if it does not exist.
// Throw Error(`kind`) naming the path when it cannot be read or is too big.
std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes, ErrorKind kind);

// Read a file that holds secrets: opened O_NOFOLLOW, a regular file, owned by the effective user,
// no group or other permission bits, at most `max_bytes`. nullopt if it does not exist.
// Throw Error(failure) naming the path and the fix (chmod 600, remove the link, ...) otherwise.
std::optional<std::string> read_private_file(const std::string& path, std::size_t max_bytes);

// Read a file that holds secrets as read_private_file does, except that a longer file is cut to
// its first `max_bytes` bytes instead of refused (callers that word the size error themselves).
std::optional<std::string> read_private_file_head(const std::string& path, std::size_t max_bytes);

// A file's bytes in a buffer that was never zero-filled (the token path reads caches of megabytes).
// A buffer of a megabyte or more is mapped on its own, aligned for transparent huge pages where
// the kernel offers them (madvise mode): a 2 MB cache is then read into one page instead of
// faulting in five hundred, which was most of what `tokenctl token` spent on such a cache.
// Frees a FileBytes buffer as it was made: munmap of the whole mapping, or delete[].
struct FileBytesRelease {
  void* mapping = nullptr; // nullptr: the buffer is from new[]
  std::size_t mapping_size = 0;
  void operator()(char* p) const noexcept;
};

class FileBytes {
public:
  // A buffer of at least `capacity` bytes (at least 1).
  explicit FileBytes(std::size_t capacity);

  [[nodiscard]] char* data() { return m_data.get(); }
  [[nodiscard]] std::size_t capacity() const { return m_capacity; }
  void set_size(std::size_t size) { m_size = size; }
  // The bytes; valid while this object lives.
  [[nodiscard]] std::string_view view() const { return {m_data.get(), m_size}; }

private:
  std::unique_ptr<char, FileBytesRelease> m_data;
  std::size_t m_size = 0;
  std::size_t m_capacity = 0;
};

// Read a file that holds secrets as read_private_file_head does (checked, cut to `max_bytes`), into
// a FileBytes.
std::optional<FileBytes> read_private_file_bytes(const std::string& path, std::size_t max_bytes);

// Read a token file that another program keeps fresh (a Kubernetes projected service-account
// token, a CI job's identity token): followed through symlinks (the kubelet swaps them), a
// regular file not writable by others, at most `max_bytes`, trailing blanks and newlines cut.
// nullopt when it does not exist. Throws Error(failure) naming the path otherwise.
std::optional<std::string> read_token_file(const std::string& path, std::size_t max_bytes);

// Write all of `data` to `fd`, across short writes and EINTR; return false on a write error.
bool write_all(int fd, std::string_view data);

// Create `dir` and its missing parents; the ones created get mode 0700, existing ones are kept.
void make_private_dirs(const std::string& dir);

// Remove the group and other permissions of folder `dir` when the effective user owns it (opened
// O_NOFOLLOW|O_DIRECTORY, changed with fchmod); leave any other folder alone.
void tighten_private_dir(const std::string& dir);

// Make `dir` a folder that only the effective user can use: create it 0700 if it does not exist
// (its parent must exist), remove the group and other bits of one the user owns. Return "" when
// it is such a folder, else why not ("owned by uid N", "a symbolic link", ...): checked with
// lstat and opened O_NOFOLLOW, so that nothing another user planted there is used.
std::string claim_private_dir(const std::string& dir);

// Replace `path` atomically with `data`: a temporary file in the same folder created O_EXCL with
// `mode`, written in full, fsync'd, renamed over `path`, then the folder fsync'd. On any failure
// the temporary file is removed and the old file is left as it was; throws Error(failure).
// Refuses (Error) when `path` is a symbolic link, rather than replace the link by a file: callers
// that must write through a link (netrc) resolve it first and pass the target.
void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0600);

// Remove the temporary files that writes of `path` by killed processes left in its folder (the
// ".NAME.tmp-*" names write_file_atomic uses); errors are ignored. Call it only while holding the
// lock that every writer of `path` takes, so that no live write's temporary can be removed.
void remove_stale_temporaries(const std::string& path);

// Return the folder part of `path` ("." when there is none).
std::string parent_dir(const std::string& path);

namespace detail {
// Test seam: when set, write_file_atomic calls it with the temporary file's path once that file
// is written and fsync'd, just before the rename (a test _exit()s there to simulate a crash).
inline void (*g_before_rename)(const std::string& temp_path) = nullptr;
} // namespace detail

} // namespace tokenctl::sys
