#include <doctest/doctest.h>

#include "tokenctl/error.hpp"
#include "tokenctl/paths.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.paths");

TEST_CASE("config: --config wins over TOKENCTL_CONFIG, XDG and HOME") {
  PathInputs in;
  in.cli_config = "/opt/cli.toml";
  in.env_config = "/opt/env.toml";
  in.xdg_config_home = "/xdg";
  in.home = "/home/u";
  const ResolvedPaths p = resolve_paths(in);
  CHECK(p.config == "/opt/cli.toml");
  CHECK(p.config_explicit);
  CHECK(p.token_cache == "/opt/token-cache.json");
}

TEST_CASE("config: TOKENCTL_CONFIG wins over XDG and HOME") {
  PathInputs in;
  in.env_config = "/opt/env.toml";
  in.xdg_config_home = "/xdg";
  in.home = "/home/u";
  const ResolvedPaths p = resolve_paths(in);
  CHECK(p.config == "/opt/env.toml");
  CHECK(p.config_explicit);
}

TEST_CASE("config: an absolute XDG_CONFIG_HOME wins over HOME") {
  PathInputs in;
  in.xdg_config_home = "/xdg/";
  in.home = "/home/u";
  const ResolvedPaths p = resolve_paths(in);
  CHECK(p.config == "/xdg/tokenctl/config.toml");
  CHECK_FALSE(p.config_explicit);
  CHECK(p.token_cache == "/xdg/tokenctl/token-cache.json");
}

TEST_CASE("config: a relative or empty XDG_CONFIG_HOME is ignored") {
  PathInputs in;
  in.home = "/home/u";
  in.xdg_config_home = "relative/xdg";
  CHECK(resolve_paths(in).config == "/home/u/.config/tokenctl/config.toml");
  in.xdg_config_home = "";
  CHECK(resolve_paths(in).config == "/home/u/.config/tokenctl/config.toml");
  in.xdg_config_home.reset();
  const ResolvedPaths p = resolve_paths(in);
  CHECK(p.config == "/home/u/.config/tokenctl/config.toml");
  CHECK_FALSE(p.config_explicit);
  CHECK(p.token_cache == "/home/u/.config/tokenctl/token-cache.json");
}

TEST_CASE("config: HOME with a trailing slash, and HOME = /") {
  PathInputs in;
  in.home = "/home/u/";
  CHECK(resolve_paths(in).config == "/home/u/.config/tokenctl/config.toml");
  in.home = "/";
  CHECK(resolve_paths(in).config == "/.config/tokenctl/config.toml");
}

TEST_CASE("config: empty options and variables count as unset") {
  PathInputs in;
  in.cli_config = "";
  in.env_config = "";
  in.cli_cache = "";
  in.env_cache = "";
  in.home = "/home/u";
  const ResolvedPaths p = resolve_paths(in);
  CHECK(p.config == "/home/u/.config/tokenctl/config.toml");
  CHECK_FALSE(p.config_explicit);
  CHECK(p.token_cache == "/home/u/.config/tokenctl/token-cache.json");
}

TEST_CASE("config: no HOME and no other source is a config error") {
  PathInputs in;
  in.xdg_config_home = "relative";
  in.home = "";
  try {
    (void)resolve_paths(in);
    FAIL("resolve_paths did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) == "cannot find the config file: HOME is not set");
    CHECK(e.hint() == "set HOME, or give the file with --config FILE or TOKENCTL_CONFIG");
  }
  in.cli_config = "c.toml";
  CHECK(resolve_paths(in).config == "c.toml"); // no HOME needed then
  in.cli_config.reset();
  in.xdg_config_home = "/xdg";
  CHECK(resolve_paths(in).config == "/xdg/tokenctl/config.toml");
}

TEST_CASE("token cache: --token-cache, then TOKENCTL_TOKEN_CACHE, then beside the config") {
  PathInputs in;
  in.home = "/home/u";
  in.env_config = "/etc/tokenctl/config.toml";
  in.cli_cache = "/run/cli-cache.json";
  in.env_cache = "/run/env-cache.json";
  CHECK(resolve_paths(in).token_cache == "/run/cli-cache.json");
  in.cli_cache.reset();
  CHECK(resolve_paths(in).token_cache == "/run/env-cache.json");
  in.env_cache.reset();
  CHECK(resolve_paths(in).token_cache == "/etc/tokenctl/token-cache.json");
}

TEST_CASE("token cache beside a relative or root config") {
  PathInputs in;
  in.cli_config = "config.toml";
  CHECK(resolve_paths(in).token_cache == "token-cache.json");
  in.cli_config = "conf/dev.toml";
  CHECK(resolve_paths(in).token_cache == "conf/token-cache.json");
  in.cli_config = "/config.toml";
  CHECK(resolve_paths(in).token_cache == "/token-cache.json");
  in.cli_config = "/a//b.toml";
  CHECK(resolve_paths(in).token_cache == "/a/token-cache.json");
}

TEST_CASE("path_folder") {
  CHECK(path_folder("a") == "");
  CHECK(path_folder("a/b") == "a");
  CHECK(path_folder("/b") == "/");
  CHECK(path_folder("//b") == "/");
  CHECK(path_folder("/x/y//z") == "/x/y");
}

TEST_SUITE_END();
