// Files that hold secrets: read only when private, replaced only atomically.
//
// Every check is made on the opened descriptor (fstat), never on the path, so the file cannot be
// swapped between the check and the read; O_NOFOLLOW keeps a planted symlink from redirecting a
// read or a write. Modes are set with fchmod after creation, so the inherited umask never matters.
// The atomic write is the usual one: a temporary file created O_EXCL in the same folder,
// written in full, fsync'd, closed, renamed over the target, then the folder fsync'd. A guard
// removes the temporary on every failure path, so only a crash can leave one behind, and then the
// old file is still whole.
#include "sys/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include "sys/fd.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::sys {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

Error failure(const std::string& message, const std::string& hint = {}) {
  return Error(ErrorKind::failure, message, hint);
}

// Read from `fd` until end of file or until `limit` bytes are held; return false on a read error.
bool read_up_to(int fd, std::size_t limit, std::string& out, std::size_t size_hint) {
  // Read straight into the string, sized from fstat's hint (+1 to see the end), growing only if
  // the file grew: a 2 MB cache is then read with one copy, not forty reallocations.
  std::size_t used = 0;
  out.resize(std::min(limit, std::max<std::size_t>(size_hint + 1, 4096)));
  while (used < limit) {
    if (used == out.size()) out.resize(std::min(limit, out.size() * 2));
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return true;
}

std::string too_large(const std::string& path, std::size_t max_bytes) {
  return path + " is too large (more than " + std::to_string(max_bytes) + " bytes)";
}

// Refuse a secret file that is not a regular file of ours with no group or other bits.
void check_private(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) throw failure(path + " is not a regular file; refusing to read tokens from it");
  if (st.st_uid != ::geteuid()) throw failure(path + " is owned by uid " + std::to_string(st.st_uid) + ", not by you");
  if ((st.st_mode & 077) != 0) {
    const char* how = (st.st_mode & 044) ? "readable" : (st.st_mode & 022) ? "writable" : "accessible";
    throw failure(path + " is " + how + " by group or others (mode " + octal_mode(st.st_mode) + "); run: chmod 600 " +
                  path);
  }
}

// Open and check a secret file (nullopt when it does not exist); `st` gets its fstat.
std::optional<Fd> open_private(const std::string& path, struct stat& st) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw failure(path + " is a symbolic link; refusing to read tokens through it");
    throw failure("cannot read " + path + ": " + errno_text(errno));
  }
  if (::fstat(fd.get(), &st) != 0) throw failure("cannot read " + path + ": " + errno_text(errno));
  check_private(path, st);
  return fd;
}

// Open and check a secret file; read at most `max_bytes`, or refuse a longer one unless `cut`.
std::optional<std::string> read_private(const std::string& path, std::size_t max_bytes, bool cut) {
  struct stat st {};
  const std::optional<Fd> fd = open_private(path, st);
  if (!fd) return std::nullopt;
  if (!cut && static_cast<std::uintmax_t>(st.st_size) > max_bytes) throw failure(too_large(path, max_bytes));
  std::string data;
  const std::size_t limit = cut || max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  if (!read_up_to(fd->get(), limit, data, static_cast<std::size_t>(st.st_size)))
    throw failure("cannot read " + path + ": " + errno_text(errno));
  if (data.size() > max_bytes) throw failure(too_large(path, max_bytes)); // it grew meanwhile
  return data;
}

// Return the last component of `path`.
std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A uniquely named temporary file in a folder, removed by the destructor unless committed.
class TempFile {
public:
  explicit TempFile(int dirfd) : m_dirfd(dirfd) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    m_fd.reset();
    if (m_created && !m_committed) ::unlinkat(m_dirfd, m_name.c_str(), 0);
  }
  // Create the file beside `target` with `mode`; throw Error(failure) naming `target` if impossible.
  void create(const std::string& target, mode_t mode);
  [[nodiscard]] int fd() const { return m_fd.get(); }
  [[nodiscard]] const std::string& name() const { return m_name; }
  // Close the descriptor; return close(2)'s result.
  int close() {
    const int fd = m_fd.release();
    return fd >= 0 ? ::close(fd) : 0;
  }
  // Keep the file: it has been renamed to its final name.
  void commit() { m_committed = true; }

private:
  int m_dirfd;
  std::string m_name;
  Fd m_fd;
  bool m_created = false;
  bool m_committed = false;
};

void TempFile::create(const std::string& target, mode_t mode) {
  static std::atomic<unsigned> counter{0};
  const std::string base = base_name(target).substr(0, 100); // room for the suffix in NAME_MAX
  for (int attempt = 0; attempt < 100 && !m_created; ++attempt) {
    const auto nanos = std::chrono::steady_clock::now().time_since_epoch().count();
    m_name = "." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(nanos % 1000000007);
    const int fd = ::openat(m_dirfd, m_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) throw failure("cannot write " + target + ": " + errno_text(errno));
    m_fd.reset(fd);
    m_created = true;
  }
  if (!m_created) throw failure("cannot write " + target + ": no free temporary file name");
  if (::fchmod(m_fd.get(), mode) != 0) throw failure("cannot write " + target + ": " + errno_text(errno));
}

} // namespace

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes, ErrorKind kind) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error(kind, "cannot read " + path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw Error(kind, "cannot read " + path + ": " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) throw Error(kind, "cannot read " + path + ": it is a folder");
  if (!S_ISREG(st.st_mode)) throw Error(kind, "cannot read " + path + ": not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) throw Error(kind, too_large(path, max_bytes));
  std::string data;
  const std::size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  if (!read_up_to(fd.get(), limit, data, static_cast<std::size_t>(st.st_size)))
    throw Error(kind, "cannot read " + path + ": " + errno_text(errno));
  if (data.size() > max_bytes) throw Error(kind, too_large(path, max_bytes));
  return data;
}

std::optional<std::string> read_token_file(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw failure("cannot read " + path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw failure("cannot read " + path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw failure(path + " is not a regular file; refusing to read a token from it");
  if ((st.st_mode & 002) != 0)
    throw failure(path + " is writable by others (mode " + octal_mode(st.st_mode) +
                      "); refusing to read a token from it",
                  "run: chmod o-w " + path);
  std::string data;
  if (!read_up_to(fd.get(), max_bytes + 1, data, static_cast<std::size_t>(st.st_size)))
    throw failure("cannot read " + path + ": " + errno_text(errno));
  if (data.size() > max_bytes) throw failure(too_large(path, max_bytes));
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r' || data.back() == ' ')) data.pop_back();
  return data;
}

std::optional<std::string> read_private_file(const std::string& path, std::size_t max_bytes) {
  return read_private(path, max_bytes, false);
}

std::optional<std::string> read_private_file_head(const std::string& path, std::size_t max_bytes) {
  return read_private(path, max_bytes, true);
}

namespace {
constexpr std::size_t k_huge_page = std::size_t{2} << 20;
constexpr std::size_t k_mapped_buffer_from = std::size_t{1} << 20;
} // namespace

FileBytes::FileBytes(std::size_t capacity) : m_capacity(std::max<std::size_t>(capacity, 1)) {
  if (m_capacity >= k_mapped_buffer_from) {
    // Whole huge pages, plus one to align the start on a huge-page boundary.
    const std::size_t pages = (m_capacity + k_huge_page - 1) / k_huge_page * k_huge_page;
    void* mapping = ::mmap(nullptr, pages + k_huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping != MAP_FAILED) {
      const auto start = (reinterpret_cast<std::uintptr_t>(mapping) + k_huge_page - 1) & ~(k_huge_page - 1);
      m_data = std::unique_ptr<char, FileBytesRelease>(reinterpret_cast<char*>(start),
                                                       FileBytesRelease{mapping, pages + k_huge_page});
      // Only advice: where the kernel has no huge pages to give, the pages are ordinary ones.
      static_cast<void>(::madvise(m_data.get(), pages, MADV_HUGEPAGE));
      return;
    }
  }
  m_data = std::unique_ptr<char, FileBytesRelease>(new char[m_capacity]); // NOLINT(cppcoreguidelines-owning-memory)
}

void FileBytesRelease::operator()(char* p) const noexcept {
  if (mapping != nullptr)
    ::munmap(mapping, mapping_size);
  else
    delete[] p; // NOLINT(cppcoreguidelines-owning-memory)
}

std::optional<FileBytes> read_private_file_bytes(const std::string& path, std::size_t max_bytes) {
  struct stat st {};
  const std::optional<Fd> fd = open_private(path, st);
  if (!fd) return std::nullopt;
  // Sized from fstat (+1 to see the end), grown only if the file grew meanwhile; never zero-filled.
  FileBytes bytes(std::min(max_bytes, static_cast<std::size_t>(st.st_size) + 1));
  std::size_t used = 0;
  while (used < max_bytes) {
    if (used == bytes.capacity()) {
      FileBytes bigger(std::min(max_bytes, bytes.capacity() * 2 + 4096));
      std::memcpy(bigger.data(), bytes.data(), used);
      bytes = std::move(bigger);
    }
    const ssize_t n = ::read(fd->get(), bytes.data() + used, bytes.capacity() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw failure("cannot read " + path + ": " + errno_text(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  bytes.set_size(used);
  return bytes;
}

void tighten_private_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 077) != 0)
    static_cast<void>(::fchmod(fd, st.st_mode & 0700));
  ::close(fd);
}

std::string claim_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_text(errno);
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno == ELOOP || errno == ENOTDIR ? "it is not a folder (or a symbolic link)" : errno_text(errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_text(errno);
  if (st.st_uid != ::geteuid()) return "it is owned by uid " + std::to_string(st.st_uid);
  if ((st.st_mode & 077) != 0 && ::fchmod(fd.get(), st.st_mode & 0700) != 0)
    return "its mode " + octal_mode(st.st_mode) + " cannot be tightened: " + errno_text(errno);
  return "";
}

void make_private_dirs(const std::string& dir) {
  std::size_t pos = 0;
  while (pos < dir.size()) {
    std::size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    const std::string prefix = dir.substr(0, next);
    pos = next + 1;
    if (prefix.empty() || prefix.back() == '/') continue; // the root, or a doubled slash
    struct stat st {};
    if (::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (::mkdir(prefix.c_str(), 0700) != 0) {
      const int e = errno;
      if (e == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      throw failure("cannot create folder " + prefix + ": " +
                    (e == EEXIST ? std::string("a file of that name exists") : errno_text(e)));
    }
    // mkdir's mode passed through the umask: set it on the folder just made, not through a link.
    Fd fd(::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 || ::fchmod(fd.get(), 0700) != 0)
      throw failure("cannot set mode 0700 on folder " + prefix + ": " + errno_text(errno));
  }
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  if (path.empty() || path.back() == '/') throw failure("cannot write " + path + ": not a file name");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      throw failure(path + " is a symbolic link; refusing to replace it",
                    "remove the link, or give the path of the file it points to");
    if (!S_ISREG(st.st_mode)) throw failure("cannot replace " + path + ": not a regular file");
  }
  Fd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) throw failure("cannot write " + path + ": " + errno_text(errno));

  TempFile temp(dir.get());
  temp.create(path, mode);
  if (!write_all(temp.fd(), data) || ::fsync(temp.fd()) != 0 || temp.close() != 0)
    throw failure("cannot write " + path + ": " + errno_text(errno));
  if (detail::g_before_rename != nullptr) detail::g_before_rename(parent_dir(path) + "/" + temp.name());
  if (::renameat(dir.get(), temp.name().c_str(), dir.get(), base_name(path).c_str()) != 0)
    throw failure("cannot write " + path + ": " + errno_text(errno));
  temp.commit();
  // Some file systems cannot sync a folder (EINVAL); the rename is then as durable as they allow.
  if (::fsync(dir.get()) != 0 && errno != EINVAL)
    throw failure(path + " was replaced, but its folder could not be synced: " + errno_text(errno));
}

void remove_stale_temporaries(const std::string& path) {
  DIR* dir = ::opendir(parent_dir(path).c_str());
  if (dir == nullptr) return;
  const std::string prefix = "." + base_name(path).substr(0, 100) + ".tmp-";
  while (const dirent* entry = ::readdir(dir)) {
    if (std::string_view(entry->d_name).starts_with(prefix) && entry->d_type != DT_DIR)
      static_cast<void>(::unlinkat(::dirfd(dir), entry->d_name, 0));
  }
  ::closedir(dir);
}

std::string parent_dir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  p.resize(slash);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.empty() ? "/" : p;
}

} // namespace tokenctl::sys
