// Test helpers for file-system tests: a fresh temporary folder per case, umask scopes, and plain
// file reads and writes that bypass the code under test.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>

namespace tokenctl::test {

// A folder under $TMPDIR (or /tmp) made for one test case and removed with everything in it.
class TestDir {
public:
  TestDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/tokenctl-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  // Return the folder's path.
  [[nodiscard]] const std::string& path() const { return m_path; }
  // Return the path of `name` inside the folder.
  [[nodiscard]] std::string operator/(const std::string& name) const { return m_path + "/" + name; }
  // Return the names in `sub` (the folder itself by default).
  [[nodiscard]] std::set<std::string> names(const std::string& sub = ".") const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(m_path + "/" + sub))
      out.insert(e.path().filename().string());
    return out;
  }

private:
  std::string m_path;
};

// Sets the umask for a scope and restores the previous one.
class UmaskScope {
public:
  explicit UmaskScope(mode_t mask) : m_old(::umask(mask)) {}
  UmaskScope(const UmaskScope&) = delete;
  UmaskScope& operator=(const UmaskScope&) = delete;
  ~UmaskScope() { ::umask(m_old); }

private:
  mode_t m_old;
};

// Write `data` to `path` with plain streams, then set `mode`.
inline void put_file(const std::string& path, const std::string& data, mode_t mode = 0600) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out) throw std::runtime_error("cannot write test file " + path);
  }
  ::chmod(path.c_str(), mode);
}

// Return the contents of `path` read with plain streams.
inline std::string get_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Return the permission bits of `path` (following links), or -1 if it cannot be stat'ed.
inline int mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

} // namespace tokenctl::test
