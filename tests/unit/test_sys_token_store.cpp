#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/sys_test_dir.hpp"
#include "sys/token_store.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using tokenctl::test::get_file;
using tokenctl::test::mode_of;
using tokenctl::test::put_file;
using tokenctl::test::TestDir;
using tokenctl::test::UmaskScope;

namespace {

const std::string k_marker = "SECRETMARKER7f3a";
const std::string k_recovery = "; run \"tokenctl login\" again or delete the file";

// Return the message of the Error that `f` throws (failing the test if none), checking it is exit 1.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()).find(k_marker) == std::string::npos);
    return e.what();
  }
  FAIL("no error");
  return {};
}

// Add one to the counter kept in profile "count"'s access token.
bool increment(TokenCache& cache) {
  std::string& value = cache.tokens["count"].access_token;
  value = std::to_string(value.empty() ? 1 : std::stoi(value) + 1);
  return true;
}

} // namespace

TEST_SUITE_BEGIN("sys.token_store");

TEST_CASE("a missing cache loads as empty, and lock_path is beside it") {
  TestDir dir;
  const sys::TokenStore store(dir / "state/token-cache.json");
  CHECK(store.path() == dir / "state/token-cache.json");
  CHECK(store.lock_path() == dir / "state/token-cache.json.lock");
  CHECK(store.load().tokens.empty());
  CHECK(dir.names().empty()); // loading creates nothing
}

TEST_CASE("update creates a private folder and file whatever the umask, and load reads them back") {
  TestDir dir;
  UmaskScope mask(0);
  const sys::TokenStore store(dir / "a/b/token-cache.json");
  store.update([](TokenCache& cache) {
    cache.tokens["dev"].access_token = k_marker;
    cache.tokens["dev"].expiry = TimePoint{std::chrono::seconds{1795464720}};
    return true;
  });
  CHECK(mode_of(dir / "a") == 0700);
  CHECK(mode_of(dir / "a/b") == 0700);
  CHECK(mode_of(store.path()) == 0600);
  CHECK(mode_of(store.lock_path()) == 0600);
  CHECK(dir.names("a/b") == std::set<std::string>{"token-cache.json", "token-cache.json.lock"});
  const TokenCache back = store.load();
  REQUIRE(back.tokens.count("dev") == 1);
  CHECK(back.tokens.at("dev").access_token == k_marker);
  CHECK(back.tokens.at("dev").expiry == TimePoint{std::chrono::seconds{1795464720}});
  CHECK(get_file(store.path()) == serialize_token_cache(back));
}

TEST_CASE("update sees the current cache and writes nothing when change returns false") {
  TestDir dir;
  const sys::TokenStore store(dir / "token-cache.json");
  store.update([](TokenCache& c) {
    c.tokens["a"].access_token = std::string(1, '1'); // not a literal: a GCC 12 -Wrestrict false alarm
    return true;
  });
  const std::string before = get_file(store.path());
  bool saw = false;
  store.update([&](TokenCache& c) {
    saw = c.tokens.count("a") == 1 && c.tokens["a"].access_token == "1";
    c.tokens.clear();
    return false;
  });
  CHECK(saw);
  CHECK(get_file(store.path()) == before);
  store.update([](TokenCache& c) {
    c.tokens.erase("a");
    return true;
  });
  CHECK(store.load().tokens.empty());
}

TEST_CASE("update waits for an update in progress and re-reads the cache after it") {
  TestDir dir;
  const sys::TokenStore store(dir / "token-cache.json");
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      store.update([&](TokenCache& c) {
        (void)!::write(fds[1], "L", 1); // the lock is held: let the parent start its update
        ::usleep(300 * 1000);
        return increment(c);
      });
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  char c = 0;
  REQUIRE(::read(fds[0], &c, 1) == 1);
  ::close(fds[0]);
  const auto start = std::chrono::steady_clock::now();
  std::string seen = "unset";
  store.update([&](TokenCache& cache) {
    seen = cache.tokens["count"].access_token;
    return increment(cache);
  });
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{200});
  CHECK(seen == "1"); // the child's update, read under the lock
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(store.load().tokens.at("count").access_token == "2");
  CHECK(sys::k_cache_lock_wait == std::chrono::milliseconds{60000});
}

TEST_CASE("unsafe and damaged caches are refused by load and by update") {
  TestDir dir;
  const sys::TokenStore store(dir / "token-cache.json");
  put_file(store.path(), R"({"version":1,"tokens":{"dev":{"access_token":")" + k_marker + "\"}}}", 0644);
  const std::string mode_message =
      store.path() + " is readable by group or others (mode 0644); run: chmod 600 " + store.path();
  CHECK(error_of([&] { (void)store.load(); }) == mode_message);
  CHECK(error_of([&] { store.update(increment); }) == mode_message);
  CHECK(error_of([&] { store.update(increment, sys::TokenStore::OnDamaged::start_empty); }) == mode_message);

  ::unlink(store.path().c_str());
  put_file(dir / "elsewhere.json", R"({"version":1,"tokens":{}})", 0600);
  REQUIRE(::symlink((dir / "elsewhere.json").c_str(), store.path().c_str()) == 0);
  const std::string link_message = store.path() + " is a symbolic link; refusing to read tokens through it";
  CHECK(error_of([&] { (void)store.load(); }) == link_message);
  CHECK(error_of([&] { store.update(increment, sys::TokenStore::OnDamaged::start_empty); }) == link_message);
  CHECK(get_file(dir / "elsewhere.json") == R"({"version":1,"tokens":{}})");

  ::unlink(store.path().c_str());
  put_file(store.path(), "{\"version\":1,\"tokens\":{\"dev\":{\"access_token\":\"" + k_marker, 0600);
  const std::string damaged = "token cache " + store.path() + " is damaged (not JSON at byte 63)" + k_recovery;
  CHECK(error_of([&] { (void)store.load(); }) == damaged);
  CHECK(error_of([&] { store.update(increment); }) == damaged);
  CHECK(get_file(store.path()).find(k_marker) != std::string::npos); // left as it was
}

TEST_CASE("a cache over the size cap is reported as too large, however large") {
  TestDir dir;
  const sys::TokenStore store(dir / "token-cache.json");
  const std::string too_large = "token cache " + store.path() + " is too large (more than 16777216 bytes)" + k_recovery;
  std::string bytes = "{\"version\":1,\"tokens\":{\"dev\":{\"access_token\":\"" + k_marker;
  bytes.resize(k_token_cache_max_bytes + 1, 'A');
  put_file(store.path(), bytes, 0600);
  CHECK(error_of([&] { (void)store.load(); }) == too_large);
  bytes.resize(50u * 1024u * 1024u, 'A');
  put_file(store.path(), bytes, 0600);
  CHECK(error_of([&] { (void)store.load(); }) == too_large);
}

TEST_CASE("OnDamaged::start_empty replaces a damaged or foreign-version cache") {
  TestDir dir;
  const sys::TokenStore store(dir / "token-cache.json");
  for (const std::string& bad : {k_marker, std::string(R"({"version":2,"tokens":{}})"), std::string()}) {
    put_file(store.path(), bad, 0600);
    store.update(increment, sys::TokenStore::OnDamaged::start_empty);
    const TokenCache cache = store.load();
    REQUIRE(cache.tokens.size() == 1);
    CHECK(cache.tokens.at("count").access_token == "1");
  }
}

TEST_CASE("concurrent updates from several processes lose nothing") {
  TestDir dir;
  const sys::TokenStore store(dir / "state/token-cache.json");
  constexpr int k_processes = 4;
  constexpr int k_rounds = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < k_processes; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        for (int i = 0; i < k_rounds; ++i) store.update(increment);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const TokenCache cache = store.load();
  REQUIRE(cache.tokens.count("count") == 1);
  CHECK(cache.tokens.at("count").access_token == std::to_string(k_processes * k_rounds));
  CHECK(dir.names("state") == std::set<std::string>{"token-cache.json", "token-cache.json.lock"});
}

TEST_SUITE_END();
