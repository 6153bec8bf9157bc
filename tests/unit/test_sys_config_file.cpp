#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/sys_test_dir.hpp"
#include "sys/config_file.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using tokenctl::test::get_file;
using tokenctl::test::mode_of;
using tokenctl::test::put_file;
using tokenctl::test::TestDir;
using tokenctl::test::UmaskScope;

namespace {

ResolvedPaths paths_for(const std::string& config, bool is_explicit) {
  ResolvedPaths p;
  p.config = config;
  p.config_explicit = is_explicit;
  p.token_cache = config + ".cache";
  return p;
}

// Return the Error that `load_config` throws, checking it is a config error.
std::string load_error(const ResolvedPaths& p) {
  try {
    (void)sys::load_config(p);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    return e.what();
  }
  return "";
}

constexpr const char* k_text = "# mine\n[profiles.dev]\nhost = \"https://h.example\"\n";

// Replace the config at `path` with `text` through update_config_text.
void save(const std::string& path, const std::string& text) {
  sys::update_config_text(path, [&](const std::string&) { return std::optional<std::string>(text); });
}

} // namespace

TEST_SUITE_BEGIN("sys.config_file");

TEST_CASE("a missing default config is an empty config that remembers its path") {
  TestDir dir;
  const Config c = sys::load_config(paths_for(dir / "none/config.toml", false));
  CHECK_FALSE(c.exists);
  CHECK(c.path == dir / "none/config.toml");
  CHECK(c.profiles.empty());
}

TEST_CASE("a missing explicit config is an error") {
  TestDir dir;
  CHECK(load_error(paths_for(dir / "c.toml", true)) == dir / "c.toml" + ": no such config file");
}

TEST_CASE("a config file is read and parsed, errors name the file") {
  TestDir dir;
  put_file(dir / "c.toml", k_text);
  const Config c = sys::load_config(paths_for(dir / "c.toml", false));
  CHECK(c.exists);
  CHECK(c.path == dir / "c.toml");
  REQUIRE(c.profiles.size() == 1);
  CHECK(c.profiles[0].host == "https://h.example");
  put_file(dir / "bad.toml", "[profiles.dev]\nhots = \"x\"\n");
  CHECK(load_error(paths_for(dir / "bad.toml", true)) ==
        dir / "bad.toml" + ":2: unknown key \"hots\" in profile \"dev\"");
}

TEST_CASE("a config over 4 MiB is refused, one of exactly 4 MiB is read") {
  TestDir dir;
  const std::string comment_line = "#" + std::string(1023, 'x'); // 1 KiB without its newline
  std::string big;
  while (big.size() + comment_line.size() + 1 <= sys::k_config_max_bytes) big += comment_line + "\n";
  big += std::string(sys::k_config_max_bytes - big.size(), '\n');
  REQUIRE(big.size() == sys::k_config_max_bytes);
  put_file(dir / "c.toml", big);
  CHECK(sys::load_config(paths_for(dir / "c.toml", false)).exists);
  put_file(dir / "c.toml", big + "\n");
  const std::string message = load_error(paths_for(dir / "c.toml", false));
  CHECK(message.find(dir / "c.toml") == 0);
  CHECK(message.find("too large") != std::string::npos);
}

TEST_CASE("an unreadable config is a config error with the system's reason") {
  TestDir dir;
  std::filesystem::create_directory(dir / "folder.toml");
  CHECK(load_error(paths_for(dir / "folder.toml", false)).find("cannot read " + dir / "folder.toml") == 0);
  put_file(dir / "c.toml", k_text, 0000);
  if (::geteuid() == 0) {
    MESSAGE("skipped the mode 000 case: running as root, which reads any file");
  } else {
    CHECK(load_error(paths_for(dir / "c.toml", false)) == "cannot read " + dir / "c.toml" + ": Permission denied");
  }
}

TEST_CASE("saving a new config creates a 0700 folder and a 0600 file") {
  TestDir dir;
  UmaskScope umask(0);
  save(dir / "a/b/config.toml", k_text);
  CHECK(get_file(dir / "a/b/config.toml") == k_text);
  CHECK(mode_of(dir / "a/b/config.toml") == 0600);
  CHECK(mode_of(dir / "a/b") == 0700);
  CHECK(mode_of(dir / "a") == 0700);
  CHECK(dir.names("a/b") == std::set<std::string>{"config.toml", "config.toml.lock"});
}

TEST_CASE("saving keeps the mode of an existing config and of its folder") {
  TestDir dir;
  std::filesystem::create_directory(dir / "conf");
  ::chmod((dir / "conf").c_str(), 0755);
  put_file(dir / "conf/config.toml", "old\n", 0644);
  save(dir / "conf/config.toml", k_text);
  CHECK(get_file(dir / "conf/config.toml") == k_text);
  CHECK(mode_of(dir / "conf/config.toml") == 0644);
  CHECK(mode_of(dir / "conf") == 0755);
  CHECK(dir.names("conf") == std::set<std::string>{"config.toml", "config.toml.lock"});
}

TEST_CASE("saving through a symlink replaces its target and keeps the link") {
  TestDir dir;
  std::filesystem::create_directory(dir / "dotfiles");
  put_file(dir / "dotfiles/tokenctl.toml", "old\n", 0640);
  std::filesystem::create_symlink(dir / "dotfiles/tokenctl.toml", dir / "config.toml");
  save(dir / "config.toml", k_text);
  CHECK(std::filesystem::is_symlink(dir / "config.toml"));
  CHECK(get_file(dir / "dotfiles/tokenctl.toml") == k_text);
  CHECK(mode_of(dir / "dotfiles/tokenctl.toml") == 0640);
}

TEST_CASE("a dangling symlink is not replaced") {
  TestDir dir;
  std::filesystem::create_symlink(dir / "gone.toml", dir / "config.toml");
  try {
    save(dir / "config.toml", k_text);
    FAIL("update_config_text did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()) == "cannot write " + dir / "config.toml" +
                                       ": it is a symbolic link that cannot be followed (No such file or directory)");
  }
  CHECK(std::filesystem::is_symlink(dir / "config.toml"));
  CHECK_FALSE(std::filesystem::exists(dir / "gone.toml"));
}

TEST_CASE("concurrent rewrites under the lock lose nothing: 8 processes each add a profile") {
  TestDir dir;
  put_file(dir / "config.toml", k_text);
  std::vector<pid_t> children;
  for (int i = 0; i < 8; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int status = 0;
      try {
        sys::update_config_text(dir / "config.toml", [&](const std::string& text) {
          Profile p;
          p.name = "p" + std::to_string(i);
          p.host = "https://h" + std::to_string(i) + ".example";
          return std::optional<std::string>(upsert_profile(text, p, "config.toml"));
        });
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  const Config c = sys::load_config(paths_for(dir / "config.toml", true));
  CHECK(c.profiles.size() == 9);
}

TEST_CASE("a change that returns nothing leaves the file untouched") {
  TestDir dir;
  put_file(dir / "config.toml", k_text, 0644);
  sys::update_config_text(dir / "config.toml", [](const std::string& text) {
    CHECK(text == k_text);
    return std::optional<std::string>();
  });
  CHECK(get_file(dir / "config.toml") == k_text);
}

TEST_CASE("load, upsert, save, load") {
  TestDir dir;
  put_file(dir / "c.toml", k_text);
  const ResolvedPaths p = paths_for(dir / "c.toml", true);
  Profile corp;
  corp.name = "corp";
  corp.host = "https://login.example.com";
  save(p.config, upsert_profile(get_file(p.config), corp, p.config));
  const Config c = sys::load_config(p);
  REQUIRE(c.profiles.size() == 2);
  CHECK(c.profiles[1].name == "corp");
  CHECK(get_file(p.config).rfind(k_text, 0) == 0);
}

TEST_SUITE_END();
