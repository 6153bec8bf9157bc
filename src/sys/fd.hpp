// Owning handles: a file descriptor, and C objects with their free function. Header-only, so that
// the modules (src/netmod, src/keyring) may use it too.
#pragma once

#include <unistd.h>

#include <memory>
#include <utility>

namespace tokenctl::sys {

// Calls `Fn` on a C object: std::unique_ptr<CURL, CDeleter<curl_easy_cleanup>>.
template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

// A file descriptor, closed when its owner goes; -1 holds none.
class Fd {
public:
  explicit Fd(int fd = -1) noexcept : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.m_fd, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  // Return the descriptor (-1 when none).
  [[nodiscard]] int get() const noexcept { return m_fd; }
  // Return whether a descriptor is held.
  explicit operator bool() const noexcept { return m_fd >= 0; }
  // Close the held descriptor and hold `fd` instead.
  void reset(int fd = -1) noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }
  // Give up ownership: return the descriptor without closing it.
  int release() noexcept { return std::exchange(m_fd, -1); }

private:
  int m_fd;
};

} // namespace tokenctl::sys
