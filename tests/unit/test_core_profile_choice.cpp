// Which profile is in effect: -p, TOKENCTL_PROFILE, the nearest .tokenctl-profile, default_profile,
// "default"; where the profile file is looked for; what it may hold; and `use`'s edit.
#include <doctest/doctest.h>

#include "tokenctl/config.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/profile_choice.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("core.profile_choice");

TEST_CASE("the order: flag, environment, profile file, default_profile, default") {
  const ProfileChoice file{"proj", ProfileSource::profile_file, "/home/u/p/.tokenctl-profile"};
  CHECK(choose_profile("cli", "env", file, "cfg").name == "cli");
  CHECK(choose_profile("cli", "env", file, "cfg").source == ProfileSource::flag);
  CHECK(choose_profile({}, "env", file, "cfg").source == ProfileSource::environment);
  const auto from_file = choose_profile({}, {}, file, "cfg");
  CHECK(from_file.name == "proj");
  CHECK(from_file.file == "/home/u/p/.tokenctl-profile");
  CHECK(choose_profile({}, {}, {}, "cfg").source == ProfileSource::default_profile);
  const auto fallback = choose_profile({}, {}, {}, {});
  CHECK(fallback.name == "default");
  CHECK(fallback.source == ProfileSource::fallback);
  CHECK(choose_profile(std::string(), std::string(), {}, std::string()).name == "default"); // "" counts as unset
  CHECK(profile_source_name(ProfileSource::profile_file) == "file");
  CHECK(profile_source_name(ProfileSource::default_profile) == "config");
}

TEST_CASE("profile files are looked for from the working folder up to the home folder, not past it") {
  CHECK(profile_file_folders("/home/u/src/proj", "/home/u") ==
        std::vector<std::string>{"/home/u/src/proj", "/home/u/src", "/home/u"});
  CHECK(profile_file_folders("/home/u", "/home/u") == std::vector<std::string>{"/home/u"});
  CHECK(profile_file_folders("/home/u//src/./x/../proj/", "/home/u/") ==
        std::vector<std::string>{"/home/u/src/proj", "/home/u/src", "/home/u"});
  // Outside the home folder (a CI checkout): up to the root.
  CHECK(profile_file_folders("/builds/g/p", "/home/u") ==
        std::vector<std::string>{"/builds/g/p", "/builds/g", "/builds", "/"});
  CHECK(profile_file_folders("/home/user2/x", "/home/u") ==
        std::vector<std::string>{"/home/user2/x", "/home/user2", "/home", "/"}); // a prefix is not a parent
  CHECK(profile_file_folders("/x", "") == std::vector<std::string>{"/x", "/"});
  CHECK(profile_file_folders("relative/path", "/home/u").empty());
  CHECK(profile_file_folders("", "/home/u").empty());
}

TEST_CASE("a profile file holds one profile name") {
  CHECK(parse_profile_file("dev\n") == "dev");
  CHECK(parse_profile_file("  prod.eu-1 \r\n") == "prod.eu-1");
  CHECK_FALSE(parse_profile_file(""));
  CHECK_FALSE(parse_profile_file("a b\n"));
  CHECK_FALSE(parse_profile_file("dev\nprod\n"));
  CHECK_FALSE(parse_profile_file("../x"));
  CHECK_FALSE(parse_profile_file("\x1b[2J"));
}

TEST_CASE("use: default_profile is replaced in place, or added before the first table, every other byte kept") {
  const std::string path = "c.toml";
  CHECK(set_default_profile("default_profile = \"a\"  # mine\n[profiles.a]\nhost = \"https://a.example\"\n"
                            "[profiles.b]\nhost = \"https://b.example\"\n",
                            "b", path) ==
        "default_profile = \"b\"  # mine\n[profiles.a]\nhost = \"https://a.example\"\n[profiles.b]\nhost = "
        "\"https://b.example\"\n");
  CHECK(set_default_profile("# tokenctl\n\n# the A team\n[profiles.a]\nhost = \"https://a.example\"\n", "a", path) ==
        "# tokenctl\n\ndefault_profile = \"a\"\n\n# the A team\n[profiles.a]\nhost = \"https://a.example\"\n");
  CHECK(set_default_profile("", "x", path) == "default_profile = \"x\"\n");
  CHECK(set_default_profile("[profiles.a]\r\nhost = \"https://a.example\"\r\n", "a", path) ==
        "default_profile = \"a\"\r\n\r\n[profiles.a]\r\nhost = \"https://a.example\"\r\n");
  CHECK_THROWS_AS(set_default_profile("default_profile = 3\n", "a", path), Error);
  CHECK_THROWS_AS(set_default_profile("", "bad name", path), Error);
}

TEST_SUITE_END();
