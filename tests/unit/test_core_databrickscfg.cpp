#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "tokenctl/databrickscfg.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using namespace std::string_literals;

namespace {

constexpr const char* k_path = ".databrickscfg";

// Return the message of the Error(config) that `f` throws ("" if it throws nothing).
std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(e.exit_code() == 5);
    return e.what();
  }
  return "";
}

DatabricksConfig parse(const std::string& text) { return parse_databrickscfg(text, k_path); }

std::string parse_error(const std::string& text) {
  return config_error([&] { (void)parse(text); });
}

// Map section [p] of a file with `lines`.
DatabricksProfileSpec profile(const std::string& lines) {
  const auto spec = databricks_profile(parse("[p]\n" + lines + "\n"), "p");
  REQUIRE(spec);
  return *spec;
}

std::string profile_error(const std::string& lines) {
  return config_error([&] { (void)databricks_profiles(parse("[p]\n" + lines + "\n")); });
}

// What the Databricks CLI writes (databricks configure, auth login) and the settings of auth switch.
constexpr const char* k_example =
    R"(; The profile defined in the DEFAULT section is to be used as a fallback when no profile is explicitly specified.
[DEFAULT]
host      = https://dbc-a1b2345c-d6e7.cloud.databricks.com
auth_type = databricks-cli

[acct]
host       = https://accounts.cloud.databricks.com
account_id = 0d1e2f3a-ab12-cd34-ef56-1234567890ab
auth_type  = databricks-cli

[ci]
host          = https://dbc-a1b2345c-d6e7.cloud.databricks.com
client_id     = 11111111-2222-3333-4444-555555555555
client_secret = dose0123456789abcdef

[__settings__]
default_profile = acct
auth_storage    = keyring
)";

} // namespace

TEST_SUITE_BEGIN("core.databrickscfg");

TEST_CASE("a file as the Databricks CLI writes it: sections in file order, keys with their lines") {
  const DatabricksConfig c = parse_databrickscfg(k_example, "/home/u/.databrickscfg");
  CHECK(c.path == "/home/u/.databrickscfg");
  REQUIRE(c.sections.size() == 3);
  CHECK(c.sections[0].name == "DEFAULT");
  CHECK(c.sections[0].line == 2);
  REQUIRE(c.sections[0].keys.size() == 2);
  CHECK(c.sections[0].keys[0].key == "host");
  CHECK(c.sections[0].keys[0].value == "https://dbc-a1b2345c-d6e7.cloud.databricks.com");
  CHECK(c.sections[0].keys[0].line == 3);
  CHECK(c.sections[0].keys[0].problem.empty());
  CHECK(c.sections[1].name == "acct");
  CHECK(c.sections[1].line == 6);
  CHECK(c.sections[2].name == "ci");
  REQUIRE(c.sections[2].find("client_secret") != nullptr);
  CHECK(c.sections[2].find("client_secret")->value == "dose0123456789abcdef");
  CHECK(c.sections[2].find("client_secret")->line == 14);
  CHECK(c.sections[2].find("token") == nullptr);
  CHECK(c.find("ci") == &c.sections[2]);
  CHECK(c.find("__settings__") == nullptr);
  CHECK(c.settings.line == 16);
  REQUIRE(c.settings.default_profile);
  CHECK(c.settings.default_profile->value == "acct");
  CHECK(c.settings.default_profile->line == 17);
  REQUIRE(c.settings.auth_storage);
  CHECK(c.settings.auth_storage->value == "keyring");

  const auto specs = databricks_profiles(c);
  REQUIRE(specs.size() == 3);
  CHECK(specs[0].name == "DEFAULT");
  CHECK(specs[0].kind == DatabricksAuthKind::browser_login);
  CHECK(specs[1].name == "acct");
  CHECK(specs[1].host == "https://accounts.cloud.databricks.com");
  CHECK(specs[1].account_id == "0d1e2f3a-ab12-cd34-ef56-1234567890ab");
  CHECK(specs[1].line == 6);
  CHECK(specs[2].kind == DatabricksAuthKind::client_credentials);
  CHECK(specs[2].client_id == "11111111-2222-3333-4444-555555555555");
  CHECK(specs[2].has_client_secret);
  CHECK(specs[2].client_secret_line == 14);
  CHECK(specs[2].client_secret == "dose0123456789abcdef");
}

TEST_CASE("the INI both SDKs read alike") {
  SUBCASE("key: value, the first '=' or ':' splits, blanks and tabs trimmed, keys lowercased") {
    const DatabricksConfig c = parse("[dev]\nHOST: https://h.example\nClient_ID\t=\tabc=def:ghi \na:b = c\n");
    const DatabricksSection& s = c.sections.at(0);
    REQUIRE(s.keys.size() == 3);
    CHECK(s.keys[0].key == "host");
    CHECK(s.keys[0].value == "https://h.example");
    CHECK(s.keys[1].key == "client_id");
    CHECK(s.keys[1].value == "abc=def:ghi");
    CHECK(s.keys[2].key == "a");
    CHECK(s.keys[2].value == "b = c");
  }
  SUBCASE("an empty value is kept, and counts as not set") {
    const DatabricksConfig c = parse("[dev]\nhost =\nclient_id = x\n");
    CHECK(c.sections[0].find("host")->value.empty());
    const auto spec = databricks_profile(c, "dev");
    REQUIRE(spec);
    CHECK(spec->host.empty());
    CHECK(spec->kind == DatabricksAuthKind::browser_login);
  }
  SUBCASE("comment lines, indented or not; a comment after a header") {
    const DatabricksConfig c = parse("# a\n  ; b\n[dev] # note\nhost = x\n    # inside\nb = 2\n[two];c\n");
    REQUIRE(c.sections.size() == 2);
    CHECK(c.sections[0].keys.size() == 2);
    CHECK(c.sections[1].name == "two");
  }
  SUBCASE("CRLF line ends, a UTF-8 BOM, no newline at the end") {
    const DatabricksConfig c = parse("\xEF\xBB\xBF[dev]\r\nhost = x\r\n\r\nb = 2\r");
    REQUIRE(c.sections.size() == 1);
    CHECK(c.sections[0].name == "dev");
    CHECK(c.sections[0].keys.at(1).value == "2");
    CHECK(c.sections[0].keys.at(1).line == 4);
  }
  SUBCASE("keys indented alike under a header, and a header indented") {
    const DatabricksConfig c = parse("  [dev]\n    host = x\n    b = 2\n  c = 3\n[next]\n");
    CHECK(c.sections[0].keys.size() == 3);
    CHECK(c.sections.size() == 2);
  }
  SUBCASE("section names are taken as written, case and inner blanks kept") {
    const DatabricksConfig c = parse("[ my profile ]\nhost = x\n[default]\nhost = y\n[DEFAULT]\nhost = z\n");
    REQUIRE(c.sections.size() == 3);
    CHECK(c.sections[0].name == " my profile ");
    CHECK(c.find("default")->keys[0].value == "y");
    CHECK(c.find("DEFAULT")->keys[0].value == "z");
    CHECK(c.find("Default") == nullptr);
  }
  SUBCASE("non-ASCII names and values, a tab inside a value") {
    const DatabricksConfig c = parse("[équipe]\nnote = café\tcrème\n");
    CHECK(c.sections[0].name == "équipe");
    CHECK(c.sections[0].keys[0].value == "café\tcrème");
  }
  SUBCASE("an empty file, and one with only comments") {
    CHECK(parse("").sections.empty());
    CHECK(parse("# nothing\n\n").sections.empty());
    CHECK(parse("\xEF\xBB\xBF").sections.empty());
  }
}

TEST_CASE("[DEFAULT] is a section of its own: the others do not inherit its keys") {
  const DatabricksConfig c = parse("[DEFAULT]\nhost = https://d.example\n[dev]\nclient_id = x\n");
  const auto dev = databricks_profile(c, "dev");
  REQUIRE(dev);
  CHECK(dev->host.empty());
  const auto def = databricks_profile(c, "DEFAULT");
  REQUIRE(def);
  CHECK(def->name == "DEFAULT");
  CHECK(def->host == "https://d.example");
}

TEST_CASE("a repeated [DEFAULT] is merged into the first, its keys still once each") {
  const DatabricksConfig c = parse("[DEFAULT]\nhost = x\n[dev]\nb = 1\n[DEFAULT]\nc = 2\n");
  REQUIRE(c.sections.size() == 2);
  CHECK(c.sections[0].line == 1);
  REQUIRE(c.sections[0].keys.size() == 2);
  CHECK(c.sections[0].keys[1].key == "c");
  CHECK(c.sections[0].keys[1].line == 6);
  CHECK(parse_error("[DEFAULT]\nhost = x\n[DEFAULT]\nHost = y\n") ==
        ".databrickscfg:4: key \"host\" appears again in section \"DEFAULT\" (first at line 2): the Python SDK "
        "refuses a repeated key, the Databricks CLI takes the last one");
}

TEST_CASE("[__settings__] is read apart and is not a profile") {
  SUBCASE("empty values, and a default_profile naming __settings__, are not set") {
    const DatabricksConfig c = parse("[__settings__]\ndefault_profile =\nauth_storage =\n[dev]\nhost = x\n");
    CHECK(c.settings.line == 1);
    CHECK_FALSE(c.settings.default_profile);
    CHECK_FALSE(c.settings.auth_storage);
    CHECK(parse("[__settings__]\ndefault_profile = __settings__\n").settings.default_profile == std::nullopt);
    CHECK(databricks_profile(c, "__settings__") == std::nullopt);
    CHECK(databricks_profiles(c).size() == 1);
  }
  SUBCASE("other keys are ignored; a file without the section has none") {
    const DatabricksConfig c = parse("[__settings__]\nfuture = 1\n");
    CHECK(c.settings.line == 1);
    CHECK(c.sections.empty());
    CHECK(parse("[dev]\nhost = x\n").settings.line == 0);
  }
  SUBCASE("a default_profile the SDKs read differently is refused; auth_storage keeps its problem") {
    CHECK(parse_error("[__settings__]\ndefault_profile = dev # old: prod\n") ==
          ".databrickscfg:2: \"default_profile\" in [__settings__]: the Databricks CLI reads \" #\" or \" ;\" and "
          "what follows as a comment, the Python SDK as part of the value: put the comment on a line of its own");
    const DatabricksConfig c = parse("[__settings__]\nauth_storage = 'keyring'\n");
    REQUIRE(c.settings.auth_storage);
    CHECK_FALSE(c.settings.auth_storage->problem.empty());
  }
  SUBCASE("repeated") {
    CHECK(parse_error("[__settings__]\n[dev]\n[__settings__]\n") ==
          ".databrickscfg:3: section \"__settings__\" appears again (first at line 1): the Python SDK refuses a "
          "repeated section");
    CHECK(parse_error("[__settings__]\ndefault_profile = a\ndefault_profile = b\n") ==
          ".databrickscfg:3: key \"default_profile\" appears again in section \"__settings__\" (first at line 2): "
          "the Python SDK refuses a repeated key, the Databricks CLI takes the last one");
  }
}

TEST_CASE("lines that are not INI, or that the SDKs read differently, are refused with file and line") {
  CHECK(parse_error("host = x\n[dev]\n") ==
        ".databrickscfg:1: a key before any [section] header: the Python SDK refuses it; put it under a [profile]");
  CHECK(parse_error("[dev]\n[\n") == ".databrickscfg:2: a section header without its closing \"]\"");
  CHECK(parse_error("[dev\nhost = x\n") == ".databrickscfg:1: a section header without its closing \"]\"");
  CHECK(parse_error("[]\n") == ".databrickscfg:1: an empty section name \"[]\"");
  CHECK(parse_error("[a]b]\n") == ".databrickscfg:1: a section name with \"[\" or \"]\" in it");
  CHECK(parse_error("[a[b]\n") == ".databrickscfg:1: a section name with \"[\" or \"]\" in it");
  CHECK(parse_error("[dev] junk\n") ==
        ".databrickscfg:1: text after the section header: only a comment may follow \"]\"");
  CHECK(parse_error("[dev]\nhost\n") ==
        ".databrickscfg:2: not a \"key = value\" line, a [section] header or a comment");
  CHECK(parse_error("[dev]\n= x\n") == ".databrickscfg:2: a \"key = value\" line without a key");
  CHECK(parse_error("[dev]\n  : x\n") == ".databrickscfg:2: a \"key = value\" line without a key");
  CHECK(parse_error("[dev]\n\"host\" = x\n") ==
        ".databrickscfg:2: a key in quotes: the Databricks CLI removes the quotes, the Python SDK keeps them");
  CHECK(parse_error("[dev]\n - = x\n") ==
        ".databrickscfg:2: a key \"-\": the Databricks CLI reads it as an automatically numbered key");
  CHECK(parse_error("[dev]\n`host` = x\n") ==
        ".databrickscfg:2: a key in quotes: the Databricks CLI removes the quotes, the Python SDK keeps them");
}

TEST_CASE("repeated sections and keys are refused, as the Python SDK does") {
  CHECK(parse_error("[dev]\nhost = x\n\n[dev]\n") ==
        ".databrickscfg:4: section \"dev\" appears again (first at line 1): the Python SDK refuses a repeated section");
  CHECK(parse_error("[dev]\nhost = x\nhost = y\n") ==
        ".databrickscfg:3: key \"host\" appears again in section \"dev\" (first at line 2): the Python SDK refuses a "
        "repeated key, the Databricks CLI takes the last one");
  CHECK(parse_error("[dev]\nhost = x\nHOST: y\n") ==
        ".databrickscfg:3: key \"host\" appears again in section \"dev\" (first at line 2): the Python SDK refuses a "
        "repeated key, the Databricks CLI takes the last one");
  CHECK(parse("[a]\nhost = x\n[b]\nhost = y\n").sections.size() == 2);
}

TEST_CASE("continuation lines are refused: Python joins them to the value, Go does not") {
  const std::string indented =
      ".databrickscfg:3: an indented line after \"host\": the Python SDK reads it as more of that value, the "
      "Databricks CLI as a line of its own; remove the indentation";
  CHECK(parse_error("[dev]\nhost = x\n  client_id = y\n") == indented);
  CHECK(parse_error("[dev]\nhost = x\n\tclient_id = y\n") == indented);
  CHECK(parse_error("[dev]\nhost = x\n\n  client_id = y\n") ==
        ".databrickscfg:4: an indented line after \"host\": the Python SDK reads it as more of that value, the "
        "Databricks CLI as a line of its own; remove the indentation");
  CHECK(parse_error("[dev]\nhost = x\n  [other]\n") == indented);
  CHECK(parse_error("[dev]\nhost = x\n  junk\n") == indented);
  CHECK(parse_error("[dev]\nhost = x \\\nclient_id = y\n") ==
        ".databrickscfg:2: the value of \"host\" ends with '\\': the Databricks CLI joins the next line to it, the "
        "Python SDK does not");
  CHECK(parse_error("[dev]\nhost = \"\"\"x\n\"\"\"\n") ==
        ".databrickscfg:2: the value of \"host\" starts with '\"\"\"' or '`': the Databricks CLI reads a quoted value "
        "that may go on over the next lines, the Python SDK plain text");
  CHECK(parse_error("[dev]\nhost = `x`\n") ==
        ".databrickscfg:2: the value of \"host\" starts with '\"\"\"' or '`': the Databricks CLI reads a quoted value "
        "that may go on over the next lines, the Python SDK plain text");
}

TEST_CASE("values the two SDKs read differently are kept with their problem, not refused") {
  const DatabricksConfig c = parse("[dev]\nhost = https://h.example # prod\ncluster_id = '0123'\nnote = a;b#c\n"
                                   "odd = \xC2\xA0x\nname = \"a\" and \"b\"\n");
  const DatabricksSection& s = c.sections[0];
  CHECK(s.find("host")->value == "https://h.example # prod");
  CHECK(s.find("host")->problem ==
        "the Databricks CLI reads \" #\" or \" ;\" and what follows as a comment, the Python SDK as part of the "
        "value: put the comment on a line of its own");
  CHECK(s.find("cluster_id")->problem ==
        "the Databricks CLI removes the quotes around the value, the Python SDK keeps them: remove them");
  CHECK(s.find("note")->problem.empty());
  CHECK(s.find("odd")->problem == "the value begins or ends with a Unicode space or an invisible character: remove it");
  CHECK(s.find("name")->problem.empty()); // Go removes quotes only when there are none inside
}

TEST_CASE("hostile bytes: every error names the line, nothing crashes") {
  SUBCASE("NUL and other control characters, DEL") {
    CHECK(parse_error("[dev]\nhost = a\0b\n"s) == ".databrickscfg:2: a control character (byte 0x00)");
    CHECK(parse_error("[dev\x1b[31m]\n") == ".databrickscfg:1: a control character (byte 0x1B)");
    CHECK(parse_error("[dev]\n# \x7f\n") == ".databrickscfg:2: a control character (byte 0x7F)");
    CHECK(parse_error("\0"s) == ".databrickscfg:1: a control character (byte 0x00)");
  }
  SUBCASE("a carriage return that does not end a line, CR-only line ends") {
    const std::string cr = "a carriage return inside a line (the Python SDK ends a line there, the Databricks CLI "
                           "does not): end lines with LF or CRLF";
    CHECK(parse_error("[dev]\rhost = x\r") == ".databrickscfg:1: " + cr);
    CHECK(parse_error("[dev]\nhost = x\r\r\n") == ".databrickscfg:2: " + cr);
  }
  SUBCASE("bytes that are not UTF-8, C1 and bidirectional controls, even in comments") {
    const std::string bad = "bytes that are not UTF-8, or a Unicode control character";
    CHECK(parse_error("[dev]\nhost = \xff\n") == ".databrickscfg:2: " + bad);
    CHECK(parse_error("# \xC3\n") == ".databrickscfg:1: " + bad);
    CHECK(parse_error("[dev]\nhost = \xC2\x9B\x33\x31m\n") == ".databrickscfg:2: " + bad);
    CHECK(parse_error("[dev]\n; \xE2\x80\xAE reversed\n") == ".databrickscfg:2: " + bad);
    CHECK(parse_error("\xFF\xFE[\0d\0e\0v\0]\0"s) == ".databrickscfg:1: " + bad);     // UTF-16
    CHECK(parse_error("[dev]\nhost = \xED\xA0\x80\n") == ".databrickscfg:2: " + bad); // a surrogate
  }
  SUBCASE("Unicode spaces and invisible characters at the edge of a name or key") {
    CHECK(parse_error("[\xC2\xA0"
                      "dev]\n") == ".databrickscfg:1: the section name \"\xC2\xA0"
                                   "dev\" begins or ends with a Unicode space or an invisible "
                                   "character");
    CHECK(
        parse_error("[dev]\nhost\xE3\x80\x80 = x\n") ==
        ".databrickscfg:2: the key \"host\xE3\x80\x80\" begins or ends with a Unicode space or an invisible character");
    CHECK(parse_error("[dev]\n\xEF\xBB\xBFhost = x\n") ==
          ".databrickscfg:2: the key \"\xEF\xBB\xBFhost\" begins or ends with a Unicode space or an invisible "
          "character");
    CHECK(parse_error("\xEF\xBB\xBF\xEF\xBB\xBF[dev]\n") ==
          ".databrickscfg:1: not a \"key = value\" line, a [section] header or a comment");
  }
  SUBCASE("a file of more than 1 MiB, a line of more than 64 KiB") {
    std::string big = "[dev]\n# " + std::string(k_databrickscfg_max_bytes - 8, 'x');
    CHECK(big.size() == k_databrickscfg_max_bytes);
    CHECK_THROWS_AS(parse(big), Error); // the comment line is longer than 64 KiB
    std::string fits = "[dev]\n";
    while (fits.size() + 64 <= k_databrickscfg_max_bytes) fits += "# " + std::string(61, 'x') + "\n";
    fits.resize(k_databrickscfg_max_bytes, '#');
    CHECK(parse(fits).sections.size() == 1);
    CHECK(parse_error(fits + "\n") == ".databrickscfg is too large (more than 1048576 bytes)");
    const std::string line(k_databrickscfg_max_line_bytes, 'x');
    CHECK(parse("[dev]\nk = " + line.substr(4) + "\n").sections[0].keys[0].value.size() == line.size() - 4);
    CHECK(parse_error("[dev]\nk = " + line.substr(3) + "\r\n") ==
          ".databrickscfg:2: the line is longer than 65536 bytes");
  }
  SUBCASE("names in messages are shortened and never more than quoted") {
    const std::string name(200, 'n');
    CHECK(parse_error("[" + name + "]\n[" + name + "]\n") ==
          ".databrickscfg:2: section \"" + std::string(80, 'n') +
              "...\" appears again (first at line 1): the Python SDK refuses a repeated section");
  }
  SUBCASE("very many sections and keys") {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "[p" + std::to_string(i) + "]\nhost = h" + std::to_string(i) + ".example\n";
    const DatabricksConfig c = parse(text);
    REQUIRE(c.sections.size() == 20000);
    CHECK(c.sections[19999].name == "p19999");
    CHECK(c.sections[19999].line == 39999);
    CHECK(databricks_profile(c, "p12345")->host == "https://h12345.example");
    std::string keys = "[dev]\n";
    for (int i = 0; i < 50000; ++i) keys += "k" + std::to_string(i) + "=v\n";
    CHECK(parse(keys).sections[0].keys.size() == 50000);
    CHECK(parse_error(keys + "k7 = again\n") ==
          ".databrickscfg:50002: key \"k7\" appears again in section \"dev\" (first at line 9): the Python SDK "
          "refuses a repeated key, the Databricks CLI takes the last one");
  }
}

TEST_CASE("mapping: browser login") {
  SUBCASE("auth_type databricks-cli or external-browser, or no auth keys at all") {
    for (const char* lines :
         {"host = https://h.example\nauth_type = databricks-cli",
          "host = https://h.example\nauth_type = external-browser", "host = https://h.example",
          "host = https://h.example\ncluster_id = 0123-456789-abcdefgh\nazure_environment = PUBLIC"}) {
      CAPTURE(lines);
      const DatabricksProfileSpec p = profile(lines);
      CHECK(p.kind == DatabricksAuthKind::browser_login);
      CHECK(p.host == "https://h.example");
      CHECK(p.source == DatabricksIdTokenSource::none);
      CHECK(p.unsupported_reason.empty());
    }
  }
  SUBCASE("client_id alone: a browser login with that client") {
    const DatabricksProfileSpec p = profile("host = https://h.example\nclient_id = my-app");
    CHECK(p.kind == DatabricksAuthKind::browser_login);
    CHECK(p.client_id == "my-app");
    CHECK_FALSE(p.has_client_secret);
  }
  SUBCASE("auth_type wins over other keys, as in the SDKs") {
    CHECK(profile("auth_type = databricks-cli\ntoken = dapi123\nazure_client_id = x").kind ==
          DatabricksAuthKind::browser_login);
  }
  SUBCASE("every extracted key") {
    const DatabricksProfileSpec p = profile("host = dbc-1.cloud.databricks.com/\naccount_id = acc_1-2\n"
                                            "workspace_id = 1234567890\nscopes = all-apis, sql,,offline_access ,sql\n"
                                            "oauth_callback_port = 8021\naudience = my-aud");
    CHECK(p.name == "p");
    CHECK(p.line == 1);
    CHECK(p.host == "https://dbc-1.cloud.databricks.com");
    CHECK(p.account_id == "acc_1-2");
    CHECK(p.workspace_id == "1234567890");
    CHECK(p.scopes == std::vector<std::string>{"all-apis", "sql", "offline_access"});
    CHECK(p.oauth_callback_port == 8021);
    CHECK(p.audience == "my-aud");
    CHECK_FALSE(p.auth_type);
    CHECK_FALSE(p.id_token_file);
  }
}

TEST_CASE("mapping: client credentials (oauth-m2m)") {
  SUBCASE("auth_type oauth-m2m, or client_id and client_secret without auth_type") {
    for (const char* lines :
         {"auth_type = oauth-m2m\nclient_id = sp\nclient_secret = s3cr3t", "client_id = sp\nclient_secret = s3cr3t"}) {
      CAPTURE(lines);
      const DatabricksProfileSpec p = profile("host = https://h.example\n" + std::string(lines));
      CHECK(p.kind == DatabricksAuthKind::client_credentials);
      CHECK(p.client_id == "sp");
      CHECK(p.has_client_secret);
      CHECK(p.client_secret == "s3cr3t");
    }
  }
  SUBCASE("what is missing is an error naming the profile and the keys") {
    CHECK(profile_error("auth_type = oauth-m2m\nclient_id = sp") ==
          ".databrickscfg:2: profile \"p\": auth_type \"oauth-m2m\" needs \"client_id\" and \"client_secret\"");
    CHECK(profile_error("auth_type = oauth-m2m\nclient_secret = s3cr3t") ==
          ".databrickscfg:2: profile \"p\": auth_type \"oauth-m2m\" needs \"client_id\" and \"client_secret\"");
    CHECK(profile_error("client_secret = s3cr3t") ==
          ".databrickscfg:2: profile \"p\" has \"client_secret\" but no \"client_id\"");
  }
  SUBCASE("a secret the SDKs read differently: the error names the key, never the value") {
    const std::string e = profile_error("client_id = sp\nclient_secret = s3cr3t ;old");
    CHECK(e == ".databrickscfg:3: \"client_secret\" in profile \"p\": the Databricks CLI reads \" #\" or \" ;\" and "
               "what follows as a comment, the Python SDK as part of the value: put the comment on a line of its own");
    CHECK(e.find("s3cr3t") == std::string::npos);
    CHECK(profile_error("client_id = sp\nclient_secret = \"s3cr3t\"").find("s3cr3t") == std::string::npos);
  }
}

TEST_CASE("mapping: token exchange (workload identity federation)") {
  SUBCASE("the four auth types and their sources") {
    DatabricksProfileSpec p = profile("auth_type = github-oidc\nclient_id = sp\naudience = acct-1");
    CHECK(p.kind == DatabricksAuthKind::token_exchange);
    CHECK(p.source == DatabricksIdTokenSource::github_actions);
    CHECK(p.subject_token == "github-actions");
    CHECK(p.client_id == "sp");
    CHECK(p.audience == "acct-1");
    p = profile("auth_type = azure-devops-oidc");
    CHECK(p.source == DatabricksIdTokenSource::azure_devops);
    CHECK(p.subject_token == "azure-devops");
    p = profile("auth_type = env-oidc");
    CHECK(p.source == DatabricksIdTokenSource::env);
    CHECK(p.subject_token == "env:DATABRICKS_OIDC_TOKEN");
    CHECK_FALSE(p.oidc_token_env);
    p = profile("auth_type = env-oidc\noidc_token_env = GITLAB_ID_TOKEN");
    CHECK(p.subject_token == "env:GITLAB_ID_TOKEN");
    CHECK(p.oidc_token_env == "GITLAB_ID_TOKEN");
    p = profile("auth_type = file-oidc\ndatabricks_id_token_filepath = /var/run/secrets/token");
    CHECK(p.source == DatabricksIdTokenSource::file);
    CHECK(p.subject_token == "file:/var/run/secrets/token");
    CHECK(p.id_token_file == "/var/run/secrets/token");
  }
  SUBCASE("the Python SDK's spellings: oidc_token_filepath, token_audience; both spellings must agree") {
    const DatabricksProfileSpec p =
        profile("auth_type = file-oidc\noidc_token_filepath = /t\ntoken_audience = a\naudience = a");
    CHECK(p.subject_token == "file:/t");
    CHECK(p.audience == "a");
    CHECK(profile_error("audience = a\ntoken_audience = b") ==
          ".databrickscfg:3: \"audience\" and \"token_audience\" in profile \"p\" differ: the Go SDK reads the first, "
          "the Python SDK the second");
    CHECK(profile_error("databricks_id_token_filepath = /a\noidc_token_filepath = /b") ==
          ".databrickscfg:3: \"databricks_id_token_filepath\" and \"oidc_token_filepath\" in profile \"p\" differ: "
          "the Go SDK reads the first, the Python SDK the second");
  }
  SUBCASE("without auth_type, from the keys: oidc_token_env or a token file") {
    CHECK(profile("oidc_token_env = CI_TOKEN").subject_token == "env:CI_TOKEN");
    CHECK(profile("databricks_id_token_filepath = /t").subject_token == "file:/t");
  }
  SUBCASE("errors") {
    CHECK(profile_error("auth_type = file-oidc") ==
          ".databrickscfg:2: profile \"p\": auth_type \"file-oidc\" needs \"databricks_id_token_filepath\"");
    CHECK(profile_error("auth_type = env-oidc\noidc_token_env = 1BAD") ==
          ".databrickscfg:3: \"oidc_token_env\" in profile \"p\" must be the name of an environment variable "
          "(letters, digits and '_', not starting with a digit)");
    CHECK(profile_error("oidc_token_env = A-B") ==
          ".databrickscfg:2: \"oidc_token_env\" in profile \"p\" must be the name of an environment variable "
          "(letters, digits and '_', not starting with a digit)");
  }
}

TEST_CASE("mapping: what tokenctl cannot serve is unsupported, with the reason") {
  const std::string hint = "; set auth_type = databricks-cli for a browser login";
  struct Case {
    const char* lines;
    std::string reason;
  };
  const Case cases[] = {
      {"auth_type = pat\ntoken = dapi123",
       "uses a personal access token (auth_type \"pat\"), which tokenctl cannot serve" + hint},
      {"token = dapi123", "uses a personal access token (\"token\"), which tokenctl cannot serve" + hint},
      {"username = u\npassword = p",
       "uses a user name and password (basic authentication), which tokenctl cannot serve" + hint},
      {"metadata_service_url = http://localhost:1/x",
       "uses a metadata service (\"metadata_service_url\"), which tokenctl cannot serve" + hint},
      {"google_service_account = sa@p.iam.gserviceaccount.com",
       "uses Google credentials, which tokenctl cannot serve" + hint},
      {"azure_client_id = a\nazure_client_secret = b\nazure_tenant_id = c",
       "uses Azure credentials (azure_* keys), which tokenctl cannot serve" + hint},
      {"azure_workspace_resource_id = /subscriptions/x",
       "uses Azure credentials (azure_* keys), which tokenctl cannot serve" + hint},
      {"auth_type = azure-cli", "uses auth_type \"azure-cli\", which tokenctl cannot serve (it serves databricks-cli, "
                                "external-browser, oauth-m2m, github-oidc, azure-devops-oidc, env-oidc and file-oidc)"},
      {"auth_type = Databricks-CLI", "uses auth_type \"Databricks-CLI\", which tokenctl cannot serve (it serves "
                                     "databricks-cli, external-browser, oauth-m2m, github-oidc, azure-devops-oidc, "
                                     "env-oidc and file-oidc)"},
      {"token = dapi123\nclient_id = sp\nclient_secret = s", "sets keys of more than one authorization method (oauth "
                                                             "and pat) and no auth_type, which the Databricks SDKs "
                                                             "refuse too: set auth_type"},
      {"client_id = sp\noidc_token_env = T\nazure_tenant_id = t",
       "sets keys of more than one authorization method "
       "(azure and env-oidc and oauth) and no auth_type, "
       "which the Databricks SDKs refuse too: set auth_type"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.lines);
    const DatabricksProfileSpec p = profile("host = https://h.example\n" + std::string(c.lines));
    CHECK(p.kind == DatabricksAuthKind::unsupported);
    CHECK(p.unsupported_reason == c.reason);
    CHECK(p.host == "https://h.example");
  }
}

TEST_CASE("mapping: bad values are errors naming the key and the profile") {
  SUBCASE("host: made https like the SDKs; a path, query, userinfo or plain http is refused") {
    CHECK(profile("host = https://h.example:443/").host == "https://h.example");
    CHECK(profile("host = https://H.Example:8443").host == "https://h.example:8443");
    CHECK(profile("host = http://localhost:8080").host == "http://localhost:8080");
    CHECK(profile("host = h.example:8443").host == "https://h.example:8443");
    const std::string path = ".databrickscfg:2: \"host\" in profile \"p\" must be a URL without a path, query or "
                             "fragment (the Go and Python SDKs read those differently)";
    CHECK(profile_error("host = https://adb-1.azuredatabricks.net/?o=1") == path);
    CHECK(profile_error("host = https://h.example/x") == path);
    CHECK(profile_error("host = https://h.example#x") == path);
    CHECK(profile_error("host = https://u@h.example") == ".databrickscfg:2: \"host\" in profile \"p\" must be a URL "
                                                         "like https://dbc-a1b2345c-d6e7.cloud.databricks.com");
    CHECK(profile_error("host = ftp://h.example") == ".databrickscfg:2: \"host\" in profile \"p\" must be a URL like "
                                                     "https://dbc-a1b2345c-d6e7.cloud.databricks.com");
    CHECK(profile_error("host = http://h.example") ==
          ".databrickscfg:2: \"host\" in profile \"p\": plain http is allowed only for loopback hosts (127.0.0.0/8, "
          "::1, localhost)");
  }
  SUBCASE("oauth_callback_port: 0 to 65535") {
    CHECK(profile("oauth_callback_port = 0").oauth_callback_port == 0);
    CHECK(profile("oauth_callback_port = 65535").oauth_callback_port == 65535);
    CHECK(profile("oauth_callback_port = 08020").oauth_callback_port == 8020);
    const std::string port =
        ".databrickscfg:2: \"oauth_callback_port\" in profile \"p\" must be an integer from 0 to 65535";
    for (const char* bad : {"65536", "99999", "-1", "+80", "80a", "8 0", "0x50", "123456", "8020.0"}) {
      CAPTURE(bad);
      CHECK(profile_error("oauth_callback_port = "s + bad) == port);
    }
  }
  SUBCASE("scopes: comma-separated, no blanks inside a scope, no quotes") {
    CHECK(profile("scopes = ,, ,").scopes.empty());
    CHECK(
        profile_error("scopes = sql offline_access") ==
        ".databrickscfg:2: \"scopes\" in profile \"p\" must be a comma-separated list (\"all-apis, sql\"): the Go and "
        "Python SDKs split \"a b\" differently");
    CHECK(profile_error("scopes = a\\b") ==
          ".databrickscfg:2: \"scopes\" in profile \"p\" must be a comma-separated list of scopes (printable ASCII "
          "without quotes or '\\')");
    CHECK(profile_error("scopes = \"all-apis\"") ==
          ".databrickscfg:2: \"scopes\" in profile \"p\": the Databricks CLI removes the quotes around the value, the "
          "Python SDK keeps them: remove them");
  }
  SUBCASE("account_id and workspace_id: letters, digits, '-' and '_'") {
    CHECK(profile_error("account_id = ../x") ==
          ".databrickscfg:2: \"account_id\" in profile \"p\" must be an account id (letters, digits, '-' and '_')");
    CHECK(profile_error("workspace_id = 1/2") ==
          ".databrickscfg:2: \"workspace_id\" in profile \"p\" must be a workspace id (letters, digits, '-' and '_')");
  }
  SUBCASE("a value with a problem matters only when the mapping reads it") {
    CHECK(profile("host = https://h.example\ncluster_id = 0123 # old").host == "https://h.example");
    CHECK(
        profile_error("auth_type = 'databricks-cli'") ==
        ".databrickscfg:2: \"auth_type\" in profile \"p\": the Databricks CLI removes the quotes around the value, the "
        "Python SDK keeps them: remove them");
  }
}

TEST_CASE("databricks_profiles: every section with keys - databricks_profile: one, its errors only") {
  const DatabricksConfig c = parse("[DEFAULT]\n[empty]\n# nothing\n[bad]\noauth_callback_port = x\n[good]\nhost = h\n");
  CHECK(config_error([&] { (void)databricks_profiles(c); }) ==
        ".databrickscfg:5: \"oauth_callback_port\" in profile \"bad\" must be an integer from 0 to 65535");
  CHECK(databricks_profile(c, "good")->host == "https://h");
  CHECK(databricks_profile(c, "empty") == std::nullopt);
  CHECK(databricks_profile(c, "DEFAULT") == std::nullopt);
  CHECK(databricks_profile(c, "nope") == std::nullopt);
  CHECK(databricks_profile(c, "Good") == std::nullopt);
  const auto all = databricks_profiles(parse("[a]\nhost = x\n[b]\n[DEFAULT]\nhost = y\n"));
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "a");
  CHECK(all[1].name == "DEFAULT");
}

TEST_SUITE_END();
