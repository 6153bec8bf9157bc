#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "tokenctl/config.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using namespace std::string_literals;

namespace {

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

std::string parse_error(const std::string& text) {
  return config_error([&] { (void)parse_config(text, "f.toml"); });
}

// Parse one profile [profiles.dev] with host and `extra` lines; return its error ("" if fine).
std::string profile_error(const std::string& extra) {
  return parse_error("[profiles.dev]\nhost = \"https://h.example\"\n" + extra + "\n");
}

Profile one_profile(const std::string& extra) {
  const Config c = parse_config("[profiles.dev]\nhost = \"https://h.example\"\n" + extra + "\n", "f.toml");
  REQUIRE(c.profiles.size() == 1);
  return c.profiles.front();
}

constexpr const char* k_example = R"(default_profile = "dev"

[profiles.dev]
host = "https://dbc-a1b2345c-d6e7.cloud.databricks.com"   # workspace or authorization server URL

[profiles.corp]
host = "https://login.example.com/realms/corp"   # OIDC issuer; endpoints come from discovery
client_id = "tokenctl"
scopes = ["openid", "offline_access", "api"]
redirect_port = 0          # 0: any free loopback port (RFC 8252 section 7.3)

[profiles.ci]
host = "https://login.example.com/realms/corp"
grant = "client_credentials"   # machine-to-machine, for CI
client_id = "ci-runner"
client_secret_env = "CORP_CLIENT_SECRET"
)";

} // namespace

TEST_SUITE_BEGIN("core.config");

TEST_CASE("the example of the contract parses, profiles in file order") {
  const Config c = parse_config(k_example, "/home/u/.config/tokenctl/config.toml");
  CHECK(c.exists);
  CHECK(c.path == "/home/u/.config/tokenctl/config.toml");
  CHECK(c.default_profile == "dev");
  REQUIRE(c.profiles.size() == 3);
  CHECK(c.profiles[0].name == "dev");
  CHECK(c.profiles[0].line == 3);
  CHECK(c.profiles[0].host == "https://dbc-a1b2345c-d6e7.cloud.databricks.com");
  CHECK_FALSE(c.profiles[0].client_id);
  CHECK(c.profiles[1].name == "corp");
  CHECK(c.profiles[1].line == 6);
  CHECK(c.profiles[1].scopes == std::vector<std::string>{"openid", "offline_access", "api"});
  CHECK(c.profiles[1].redirect_port == 0);
  CHECK(c.profiles[1].grant == Grant::authorization_code);
  CHECK(c.profiles[2].name == "ci");
  CHECK(c.profiles[2].grant == Grant::client_credentials);
  CHECK(c.profiles[2].client_secret_env == "CORP_CLIENT_SECRET");
  CHECK(c.find("corp") == &c.profiles[1]);
  CHECK(c.find("nope") == nullptr);
}

TEST_CASE("profiles keep file order, not alphabetical order") {
  const Config c = parse_config("[profiles.zeta]\nhost = \"https://z.example\"\n"
                                "[profiles.alpha]\nhost = \"https://a.example\"\n"
                                "[profiles.mid]\nhost = \"https://m.example\"\n",
                                "f");
  REQUIRE(c.profiles.size() == 3);
  CHECK(c.profiles[0].name == "zeta");
  CHECK(c.profiles[1].name == "alpha");
  CHECK(c.profiles[2].name == "mid");
  CHECK(c.profiles[2].line == 5);
}

TEST_CASE("an empty file is a config without profiles") {
  const Config c = parse_config("# nothing yet\n", "f");
  CHECK(c.exists);
  CHECK(c.profiles.empty());
  CHECK_FALSE(c.default_profile);
}

TEST_CASE("every profile key is read") {
  const Profile p = one_profile(R"(client_id = "cli"
scopes = []
account_id = "0d1e2f-ab_c"
provider = "oidc"
client_secret_env = "_SECRET_1"
redirect_port = 65535
authorization_endpoint = "https://h.example/auth"
token_endpoint = "http://127.0.0.1:9/token"
revocation_endpoint = "http://[::1]/revoke"
ca_file = "/etc/ssl/corp.pem"
refresh_margin = "5m"
netrc_login = "x-access-token"
auth_params = { sub = "oauth", prompt = "consent", audience = "" })");
  CHECK(p.client_id == "cli");
  CHECK(p.scopes == std::vector<std::string>{});
  CHECK(p.account_id == "0d1e2f-ab_c");
  CHECK(p.provider == Provider::oidc);
  CHECK(p.client_secret_env == "_SECRET_1");
  CHECK(p.redirect_port == 65535);
  CHECK(p.authorization_endpoint == "https://h.example/auth");
  CHECK(p.token_endpoint == "http://127.0.0.1:9/token");
  CHECK(p.revocation_endpoint == "http://[::1]/revoke");
  CHECK(p.ca_file == "/etc/ssl/corp.pem");
  CHECK(p.refresh_margin == Seconds(300));
  CHECK(p.netrc_login == "x-access-token");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(p.auth_params == Pairs{{"sub", "oauth"}, {"prompt", "consent"}, {"audience", ""}});
  CHECK(one_profile("provider = \"databricks\"").provider == Provider::databricks);
  CHECK(one_profile("").provider == Provider::automatic);
  CHECK(one_profile("refresh_margin = 90").refresh_margin == Seconds(90));
  CHECK(one_profile("refresh_margin = \"1h\"").refresh_margin == Seconds(3600));
}

TEST_CASE("auth_params as a sub-table, in file order") {
  const Config c = parse_config("[profiles.dev]\nhost = \"https://h.example\"\n\n[profiles.dev.auth_params]\n"
                                "z = \"1\"\na = \"2\"\n",
                                "f");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(c.profiles.at(0).auth_params == Pairs{{"z", "1"}, {"a", "2"}});
}

TEST_CASE("host: https, or http for loopback - kept exactly as written") {
  CHECK(one_profile("").host == "https://h.example");
  const Config c = parse_config("[profiles.dev]\nhost = \"HTTP://LocalHost:8080/realms/x/\"\n", "f");
  CHECK(c.profiles.at(0).host == "HTTP://LocalHost:8080/realms/x/");
  CHECK(parse_error("[profiles.dev]\nhost = \"http://login.example.com\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": plain http is allowed only for loopback hosts "
        "(127.0.0.0/8, ::1, localhost)");
  CHECK(parse_error("[profiles.dev]\nhost = \"login.example.com\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": not an absolute https URL");
  CHECK(parse_error("[profiles.dev]\nhost = \"https://u@login.example.com\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": not an absolute https URL");
  CHECK(parse_error("[profiles.dev]\nhost = \"https://login.example.com/?x=1\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": no query or fragment is allowed (the host names the issuer)");
  CHECK(parse_error("[profiles.dev]\nhost = \"https://login.example.com/#x\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": no query or fragment is allowed (the host names the issuer)");
  CHECK(parse_error("[profiles.dev]\n\nhost = 42\n") == "f.toml:3: \"host\" in profile \"dev\" must be a URL string");
}

TEST_CASE("a profile needs a host") {
  CHECK(parse_error("\n[profiles.dev]\nclient_id = \"x\"\n") == "f.toml:2: profile \"dev\" has no \"host\"");
  CHECK(parse_error("[profiles.dev]\nhost = \"\"\n") ==
        "f.toml:2: \"host\" in profile \"dev\": not an absolute https URL");
}

TEST_CASE("client_credentials needs client_id and client_secret_env") {
  const std::string expected = "f.toml:1: profile \"ci\": grant \"client_credentials\" needs \"client_id\" and "
                               "\"client_secret_env\" (or a client assertion)";
  CHECK(parse_error("[profiles.ci]\nhost = \"https://h.example\"\ngrant = \"client_credentials\"\n") == expected);
  CHECK(parse_error("[profiles.ci]\nhost = \"https://h.example\"\ngrant = \"client_credentials\"\n"
                    "client_id = \"x\"\n") == expected);
  CHECK(parse_error("[profiles.ci]\nhost = \"https://h.example\"\ngrant = \"client_credentials\"\n"
                    "client_secret_env = \"X\"\n") == expected);
}

TEST_CASE("unknown keys are errors naming the key and the line") {
  CHECK(profile_error("clinet_id = \"x\"") == "f.toml:3: unknown key \"clinet_id\" in profile \"dev\"");
  CHECK(parse_error("default_profile = \"dev\"\ndefault_profle = \"x\"\n") ==
        "f.toml:2: unknown key \"default_profle\"");
  CHECK(parse_error("[profile.dev]\nhost = \"https://h.example\"\n") == "f.toml:1: unknown key \"profile\"");
  CHECK(profile_error("[profiles.dev.extra]\nk = 1") == "f.toml:3: unknown key \"extra\" in profile \"dev\"");
}

TEST_CASE("profile names: letters, digits, '.', '_' and '-', 1 to 64 of them") {
  CHECK(valid_profile_name("dev"));
  CHECK(valid_profile_name("a.b_c-D9"));
  CHECK(valid_profile_name(std::string(64, 'x')));
  CHECK(valid_profile_name("..."));
  CHECK_FALSE(valid_profile_name(""));
  CHECK_FALSE(valid_profile_name("."));
  CHECK_FALSE(valid_profile_name(".."));
  CHECK_FALSE(valid_profile_name(std::string(65, 'x')));
  CHECK_FALSE(valid_profile_name("a b"));
  CHECK_FALSE(valid_profile_name("a/b"));
  CHECK_FALSE(valid_profile_name("d\xc3\xa9v"));
  CHECK(parse_error("[profiles.\"a b\"]\nhost = \"https://h.example\"\n") ==
        "f.toml:1: invalid profile name \"a b\": use letters, digits, '.', '_' and '-'");
  CHECK(parse_error("[profiles.\"..\"]\nhost = \"https://h.example\"\n") ==
        "f.toml:1: invalid profile name \"..\": use letters, digits, '.', '_' and '-'");
  CHECK(parse_error("[profiles.\"a\\u001b[31m\"]\nhost = \"https://h.example\"\n") ==
        "f.toml:1: invalid profile name \"a\\x1b[31m\": use letters, digits, '.', '_' and '-'");
  CHECK(parse_error("[profiles." + std::string(100, 'x') + "]\nhost = \"https://h.example\"\n") ==
        "f.toml:1: invalid profile name \"" + std::string(80, 'x') + "...\": use letters, digits, '.', '_' and '-'");
  CHECK(parse_config("[profiles.\"a.b\"]\nhost = \"https://h.example\"\n", "f").profiles.at(0).name == "a.b");
}

TEST_CASE("bad values name the key and the profile") {
  const auto must = [](const std::string& key, const std::string& what) {
    return "f.toml:3: \"" + key + "\" in profile \"dev\" must be " + what;
  };
  const std::string port = "an integer from 0 to 65535";
  CHECK(profile_error("redirect_port = \"8020\"") == must("redirect_port", port));
  CHECK(profile_error("redirect_port = 65536") == must("redirect_port", port));
  CHECK(profile_error("redirect_port = -1") == must("redirect_port", port));
  CHECK(profile_error("redirect_port = 80.0") == must("redirect_port", port));
  CHECK(profile_error("client_id = \"\"") == must("client_id", "a non-empty string"));
  CHECK(profile_error("client_id = 7") == must("client_id", "a non-empty string"));
  CHECK(profile_error("client_id = \"a\\nb\"") == must("client_id", "a non-empty string"));
  const std::string scopes = "an array of scopes (non-empty strings without spaces, quotes or '\\')";
  CHECK(profile_error("scopes = \"openid api\"") == must("scopes", scopes));
  CHECK(profile_error("scopes = [\"openid\", \"\"]") == must("scopes", scopes));
  CHECK(profile_error("scopes = [\"openid api\"]") == must("scopes", scopes));
  CHECK(profile_error("scopes = [\"a\\tb\"]") == must("scopes", scopes));
  CHECK(profile_error("scopes = [\"a\\\"b\"]") == must("scopes", scopes));
  CHECK(profile_error("scopes = [1]") == must("scopes", scopes));
  CHECK(profile_error("account_id = \"../x\"") == must("account_id", "an account id (letters, digits, '-' and '_')"));
  CHECK(profile_error("account_id = \"\"") == must("account_id", "an account id (letters, digits, '-' and '_')"));
  CHECK(profile_error("provider = \"google\"") == must("provider", "\"databricks\" or \"oidc\""));
  CHECK(profile_error("grant = \"password\"") ==
        must("grant", "\"authorization_code\", \"client_credentials\" or \"token_exchange\""));
  const std::string env = "the name of an environment variable (letters, digits and '_', not starting with a digit)";
  CHECK(profile_error("client_secret_env = \"1SECRET\"") == must("client_secret_env", env));
  CHECK(profile_error("client_secret_env = \"MY-SECRET\"") == must("client_secret_env", env));
  CHECK(profile_error("client_secret_env = \"\"") == must("client_secret_env", env));
  CHECK(profile_error("ca_file = \"\"") == must("ca_file", "a non-empty string (a file name)"));
  const std::string margin = "a duration like \"5m\", \"90s\" or \"1h\", or a number of seconds";
  CHECK(profile_error("refresh_margin = \"soon\"") == must("refresh_margin", margin));
  CHECK(profile_error("refresh_margin = -5") == must("refresh_margin", margin));
  CHECK(profile_error("refresh_margin = true") == must("refresh_margin", margin));
  CHECK(profile_error("netrc_login = \"a b\"") == must("netrc_login", "a non-empty string without spaces"));
  CHECK(profile_error("netrc_login = \"\"") == must("netrc_login", "a non-empty string without spaces"));
  const std::string table = "a table of strings, like { prompt = \"consent\" }";
  CHECK(profile_error("auth_params = \"prompt=consent\"") == must("auth_params", table));
  CHECK(profile_error("auth_params = { prompt = 1 }") == must("auth_params", table));
  CHECK(profile_error("auth_params = { state = \"x\" }") ==
        "f.toml:3: \"auth_params\" in profile \"dev\" must not set \"state\": tokenctl sets it");
  CHECK(profile_error("auth_params = { code_challenge_method = \"plain\" }") ==
        "f.toml:3: \"auth_params\" in profile \"dev\" must not set \"code_challenge_method\": tokenctl sets it");
}

TEST_CASE("endpoint keys: https, or http for loopback") {
  for (const char* key : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"}) {
    CAPTURE(key);
    CHECK(profile_error(key + " = \"http://login.example.com/x\""s) ==
          "f.toml:3: \""s + key +
              "\" in profile \"dev\": plain http is allowed only for loopback hosts "
              "(127.0.0.0/8, ::1, localhost)");
    CHECK(profile_error(key + " = \"/token\""s) ==
          "f.toml:3: \""s + key + "\" in profile \"dev\": not an absolute https URL");
    CHECK(profile_error(key + " = 1"s) == "f.toml:3: \""s + key + "\" in profile \"dev\" must be a URL string");
    CHECK(profile_error(key + " = \"http://127.0.0.5:1/x\""s) == "");
  }
}

TEST_CASE("top-level keys and shapes") {
  CHECK(parse_error("default_profile = 1\n") ==
        "f.toml:1: \"default_profile\" must be a profile name (letters, digits, '.', '_' and '-')");
  CHECK(parse_error("default_profile = \"a b\"\n") ==
        "f.toml:1: \"default_profile\" must be a profile name (letters, digits, '.', '_' and '-')");
  CHECK(parse_error("profiles = 1\n") == "f.toml:1: \"profiles\" must be a table of profiles, like [profiles.dev]");
  CHECK(parse_error("[profiles]\ndev = \"https://h.example\"\n") ==
        "f.toml:2: profile \"dev\" must be a table, like [profiles.dev]");
  const Config inline_config = parse_config("profiles = { dev = { host = \"https://h.example\" } }\n", "f");
  CHECK(inline_config.profiles.at(0).host == "https://h.example");
}

TEST_CASE("TOML syntax errors: PATH:LINE: invalid TOML: toml++'s description") {
  const std::string broken = parse_error("[profiles.dev]\nhost = \n");
  CHECK(broken.rfind("f.toml:2: invalid TOML: ", 0) == 0);
  CHECK(broken.size() > std::string("f.toml:2: invalid TOML: ").size());
  CHECK(parse_error("a = 1\na = 2\n").rfind("f.toml:2: invalid TOML: ", 0) == 0);
  CHECK(parse_error("[profiles.dev]\nhost = \"https://h.example\"\nhost = \"https://x.example\"\n")
            .rfind("f.toml:3: invalid TOML: ", 0) == 0);
  CHECK(parse_error("x = \"\xff\"\n").rfind("f.toml:1: invalid TOML: ", 0) == 0);
  CHECK(parse_error("\n\n[profiles.dev\n").rfind("f.toml:3: invalid TOML: ", 0) == 0);
}

TEST_CASE("hostile input ends in an error, not a crash") {
  CHECK(parse_error("x = " + std::string(100000, '[')).rfind("f.toml:1: invalid TOML: ", 0) == 0);
  CHECK(parse_error("x = " + std::string(100000, '{')).rfind("f.toml:1: invalid TOML: ", 0) == 0);
  CHECK(parse_error(std::string("a = 1\n\0\n", 8)).rfind("f.toml:", 0) == 0);
  CHECK(parse_error("[profiles.dev]\nhost = \"https://h.example/" + std::string(1 << 20, 'a') + "\"\n") == "");
}

TEST_CASE("the first problem in file order is the one reported") {
  CHECK(parse_error("[profiles.b]\nhost = \"https://h.example\"\nzzz = 1\n"
                    "[profiles.a]\nhost = \"https://h.example\"\naaa = 1\n") ==
        "f.toml:3: unknown key \"zzz\" in profile \"b\"");
  CHECK(profile_error("token_endpoint = 1\nclient_id = 2") ==
        "f.toml:3: \"token_endpoint\" in profile \"dev\" must be a URL string");
}

TEST_SUITE_END();

// ---------------------------------------------------------------------------------------------

TEST_SUITE_BEGIN("core.config");

namespace {

Profile new_profile(const std::string& name, const std::string& host) {
  Profile p;
  p.name = name;
  p.host = host;
  return p;
}

constexpr const char* k_commented = R"(# my tokenctl config
default_profile = "dev"   # the usual one

[profiles.dev]
# the workspace
host = "https://old.example"   # keep this comment
scopes = ["a", "b"]

# production below
[profiles.prod]
host = "https://prod.example"
)";

} // namespace

TEST_CASE("a new profile in an empty file") {
  Profile p = new_profile("dev", "https://h.example");
  CHECK(upsert_profile("", p) == "[profiles.dev]\nhost = \"https://h.example\"\n");
}

TEST_CASE("a new profile is appended after a blank line, every other byte kept") {
  Profile p = new_profile("corp", "https://login.example.com/realms/corp");
  p.client_id = "tokenctl";
  p.scopes = std::vector<std::string>{"openid", "offline_access"};
  p.redirect_port = 0;
  const std::string out = upsert_profile(k_commented, p);
  CHECK(out == std::string(k_commented) +
                   "\n[profiles.corp]\nhost = \"https://login.example.com/realms/corp\"\nclient_id = \"tokenctl\"\n"
                   "scopes = [\"openid\", \"offline_access\"]\nredirect_port = 0\n");
}

TEST_CASE("a missing final newline is added only where we append") {
  CHECK(upsert_profile("default_profile = \"x\"", new_profile("x", "https://h.example")) ==
        "default_profile = \"x\"\n\n[profiles.x]\nhost = \"https://h.example\"\n");
  CHECK(upsert_profile("# end\n\n", new_profile("x", "https://h.example")) ==
        "# end\n\n[profiles.x]\nhost = \"https://h.example\"\n");
  Profile p = new_profile("x", "https://h.example");
  p.client_id = "c";
  CHECK(upsert_profile("[profiles.x]\nhost = \"https://h.example\"", p) ==
        "[profiles.x]\nhost = \"https://h.example\"\nclient_id = \"c\"\n");
  CHECK(upsert_profile("[profiles.x]", p) == "[profiles.x]\nhost = \"https://h.example\"\nclient_id = \"c\"\n");
}

TEST_CASE("an existing profile: values replaced in place, new keys after its last key") {
  Profile p = new_profile("dev", "https://new.example");
  p.client_id = "cli";
  p.account_id = "acc-1";
  const std::string out = upsert_profile(k_commented, p);
  CHECK(out == R"(# my tokenctl config
default_profile = "dev"   # the usual one

[profiles.dev]
# the workspace
host = "https://new.example"   # keep this comment
scopes = ["a", "b"]
client_id = "cli"
account_id = "acc-1"

# production below
[profiles.prod]
host = "https://prod.example"
)");
}

TEST_CASE("single-line arrays and inline tables are replaced - other keys stay") {
  Profile p = new_profile("dev", "https://old.example");
  p.scopes = std::vector<std::string>{"x"};
  const std::string out = upsert_profile(k_commented, p);
  CHECK(out == std::string(k_commented).replace(std::string(k_commented).find("[\"a\", \"b\"]"), 10, "[\"x\"]"));

  Profile q = new_profile("dev", "https://h.example");
  q.auth_params = {{"prompt", "login"}, {"odd key", "v\"1"}};
  const std::string text =
      "[profiles.dev]\nhost = \"https://h.example\"\nauth_params = { prompt = \"consent\" } # why\n";
  CHECK(upsert_profile(text, q) == "[profiles.dev]\nhost = \"https://h.example\"\nauth_params = { prompt = \"login\", "
                                   "\"odd key\" = \"v\\\"1\" } # why\n");
}

TEST_CASE("values after non-ASCII text on the same line are replaced at the right bytes") {
  Profile p = new_profile("dev", "https://h.example");
  p.ca_file = "/etc/ssl/new.pem";
  const std::string text =
      "[profiles.dev]\nhost = \"https://h.example\"\nca_file = \"/tmp/\xc3\xa9\xe2\x82\xac.pem\"  # \xc3\xa9\n";
  CHECK(upsert_profile(text, p) ==
        "[profiles.dev]\nhost = \"https://h.example\"\nca_file = \"/etc/ssl/new.pem\"  # \xc3\xa9\n");
}

TEST_CASE("a UTF-8 byte order mark is kept and does not shift columns") {
  Profile p = new_profile("dev", "https://new.example");
  const std::string text = "\xEF\xBB\xBF[profiles.dev]\nhost = \"https://old.example\"\n";
  CHECK(upsert_profile(text, p) == "\xEF\xBB\xBF[profiles.dev]\nhost = \"https://new.example\"\n");
  const std::string first = "\xEF\xBB\xBF"
                            "default_profile = \"dev\"\n";
  CHECK(upsert_profile(first, p) == first + "\n[profiles.dev]\nhost = \"https://new.example\"\n");
}

TEST_CASE("CRLF files get CRLF lines") {
  const std::string crlf = "# config\r\n[profiles.dev]\r\nhost = \"https://old.example\"\r\n";
  Profile p = new_profile("dev", "https://old.example");
  p.client_id = "cli";
  CHECK(upsert_profile(crlf, p) ==
        "# config\r\n[profiles.dev]\r\nhost = \"https://old.example\"\r\nclient_id = \"cli\"\r\n");
  CHECK(upsert_profile(crlf, new_profile("b", "https://b.example")) ==
        crlf + "\r\n[profiles.b]\r\nhost = \"https://b.example\"\r\n");
}

TEST_CASE("other profiles are kept byte for byte, even odd spacing") {
  const std::string other = "[ profiles . other ]   # x\n  host   =   'https://o.example'\t# y\n\n";
  const std::string text = other + "[profiles.dev]\nhost = \"https://a.example\"\n";
  Profile p = new_profile("dev", "https://b.example");
  const std::string out = upsert_profile(text, p);
  CHECK(out.substr(0, other.size()) == other);
  CHECK(out == other + "[profiles.dev]\nhost = \"https://b.example\"\n");
  Profile q = new_profile("other", "https://o2.example");
  q.client_id = "c";
  CHECK(upsert_profile(text, q) == "[ profiles . other ]   # x\n  host   =   \"https://o2.example\"\t# y\n"
                                   "  client_id = \"c\"\n\n[profiles.dev]\nhost = \"https://a.example\"\n");
}

TEST_CASE("quoted profile names are found and written quoted") {
  const std::string text = "[profiles.\"a.b\"]\nhost = \"https://a.example\"\n";
  CHECK(upsert_profile(text, new_profile("a.b", "https://c.example")) ==
        "[profiles.\"a.b\"]\nhost = \"https://c.example\"\n");
  CHECK(upsert_profile("", new_profile("x.y", "https://c.example")) ==
        "[profiles.\"x.y\"]\nhost = \"https://c.example\"\n");
  CHECK(parse_config(upsert_profile("", new_profile("x.y", "https://c.example")), "f").profiles.at(0).name == "x.y");
}

TEST_CASE("keys go into the profile's own section, not into its sub-tables") {
  const std::string text =
      "[profiles.dev]\nhost = \"https://a.example\"\n\n[profiles.dev.auth_params]\nprompt = \"x\"\n";
  Profile p = new_profile("dev", "https://a.example");
  p.client_id = "c";
  CHECK(upsert_profile(text, p) == "[profiles.dev]\nhost = \"https://a.example\"\nclient_id = "
                                   "\"c\"\n\n[profiles.dev.auth_params]\nprompt = \"x\"\n");
  p.auth_params = {{"prompt", "y"}};
  CHECK(config_error([&] { (void)upsert_profile(text, p); }) ==
        "config:4: cannot update \"auth_params\" in profile \"dev\": its value is not on one line; edit the file by "
        "hand");
}

TEST_CASE("every key set in the profile is written and reads back the same") {
  Profile p = new_profile("all", "http://127.0.0.1:8080/realms/x");
  p.client_id = "c \"quoted\" \\ and";
  p.scopes = std::vector<std::string>{"openid", "api:read"};
  p.account_id = "acc";
  p.provider = Provider::oidc;
  p.grant = Grant::client_credentials;
  p.client_secret_env = "SECRET";
  p.redirect_port = 8020;
  p.authorization_endpoint = "https://a.example/auth";
  p.token_endpoint = "https://a.example/token";
  p.revocation_endpoint = "https://a.example/revoke";
  p.ca_file = "/tmp/ca \xc3\xa9.pem";
  p.refresh_margin = Seconds(300);
  p.netrc_login = "oauth2";
  p.auth_params = {{"sub", "oauth"}, {"resource", "https://api.example/"}, {"x", "tab\there\nnl\x01\x7f"}};
  const Config c = parse_config(upsert_profile("", p), "f");
  const Profile& r = c.profiles.at(0);
  CHECK(r.host == p.host);
  CHECK(r.client_id == p.client_id);
  CHECK(r.scopes == p.scopes);
  CHECK(r.account_id == p.account_id);
  CHECK(r.provider == p.provider);
  CHECK(r.grant == p.grant);
  CHECK(r.client_secret_env == p.client_secret_env);
  CHECK(r.redirect_port == p.redirect_port);
  CHECK(r.authorization_endpoint == p.authorization_endpoint);
  CHECK(r.token_endpoint == p.token_endpoint);
  CHECK(r.revocation_endpoint == p.revocation_endpoint);
  CHECK(r.ca_file == p.ca_file);
  CHECK(r.refresh_margin == p.refresh_margin);
  CHECK(r.netrc_login == p.netrc_login);
  CHECK(r.auth_params == p.auth_params);
}

TEST_CASE("strings are written as TOML basic strings with escapes") {
  Profile p = new_profile("dev", "https://h.example");
  p.client_id = "a\"b\\c";
  p.auth_params = {{"x y", "t\tn\nu\x01"
                           "d\x7f\xc3\xa9"}};
  CHECK(upsert_profile("", p) == "[profiles.dev]\nhost = \"https://h.example\"\nclient_id = \"a\\\"b\\\\c\"\n"
                                 "auth_params = { \"x y\" = \"t\\tn\\nu\\u0001d\\u007F\xc3\xa9\" }\n");
}

TEST_CASE("profiles it cannot edit safely are errors, not corruption") {
  Profile p = new_profile("dev", "https://b.example");
  CHECK(config_error([&] { (void)upsert_profile("profiles = { dev = { host = \"https://a.example\" } }\n", p); }) ==
        "config:1: cannot save profile \"dev\": \"profiles\" is not written as [profiles.NAME] tables; edit the file "
        "by hand");
  CHECK(config_error([&] { (void)upsert_profile("profiles = { other = { host = \"https://a.example\" } }\n", p); }) ==
        "config:1: cannot save profile \"dev\": \"profiles\" is not written as [profiles.NAME] tables; edit the file "
        "by hand");
  CHECK(config_error([&] { (void)upsert_profile("[profiles]\ndev = { host = \"https://a.example\" }\n", p); }) ==
        "config:2: cannot save profile \"dev\": it is not written as a [profiles.dev] table; edit the file by hand");
  CHECK(config_error([&] { (void)upsert_profile("profiles.dev.host = \"https://a.example\"\n", p); }) ==
        "config:1: cannot save profile \"dev\": it is not written as a [profiles.dev] table; edit the file by hand");
  Profile s = new_profile("dev", "https://a.example");
  s.scopes = std::vector<std::string>{"x"};
  CHECK(config_error([&] {
          (void)upsert_profile("[profiles.dev]\nhost = \"https://a.example\"\nscopes = [\n  \"a\",\n]\n", s, "/c.toml");
        }) ==
        "/c.toml:3: cannot update \"scopes\" in profile \"dev\": its value is not on one line; edit the file by hand");
}

TEST_CASE("multi-line values of keys not being set are left alone") {
  const std::string text = "[profiles.dev]\nhost = \"https://a.example\"\nscopes = [\n  \"a\",\n]\n";
  Profile p = new_profile("dev", "https://b.example");
  p.client_id = "c";
  CHECK(upsert_profile(text, p) ==
        "[profiles.dev]\nhost = \"https://b.example\"\nscopes = [\n  \"a\",\n]\nclient_id = \"c\"\n");
}

TEST_CASE("the result must pass parse_config") {
  CHECK(config_error([] { (void)upsert_profile("", new_profile("dev", "http://h.example"), "/c.toml"); }) ==
        "/c.toml:2: \"host\" in profile \"dev\": plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, "
        "localhost)");
  Profile p = new_profile("dev", "https://h.example");
  p.client_secret_env = "1X";
  CHECK(config_error([&] { (void)upsert_profile("", p, "/c.toml"); }) ==
        "/c.toml:3: \"client_secret_env\" in profile \"dev\" must be the name of an environment variable "
        "(letters, digits and '_', not starting with a digit)");
  CHECK(config_error([] { (void)upsert_profile("bogus = 1\n", new_profile("dev", "https://h.example"), "/c.toml"); }) ==
        "/c.toml:1: unknown key \"bogus\"");
  CHECK(config_error([] {
          (void)upsert_profile("[x\n", new_profile("dev", "https://h.example"), "/c.toml");
        }).rfind("/c.toml:1: invalid TOML: ", 0) == 0);
}

TEST_CASE("a bad name or a missing host is refused before anything is written") {
  CHECK(config_error([] { (void)upsert_profile("", new_profile("a b", "https://h.example")); }) ==
        "invalid profile name \"a b\": use letters, digits, '.', '_' and '-'");
  CHECK(config_error([] { (void)upsert_profile("", new_profile("dev", "")); }) == "profile \"dev\" has no \"host\"");
}

TEST_SUITE_END();

TEST_CASE("code points that toml++ 3.3 mishandles: replaced in comments, refused elsewhere (fuzz finding)") {
  // U+0495 and U+FBFB made toml++'s whitespace classifier reach __builtin_unreachable().
  const std::string ok =
      "# Jos\xc3\xa9's profile, \xd2\x95\n[profiles.dev]\nhost = \"https://as.example\" # \xef\xaf\xbb\n";
  const Config c = parse_config(ok, "cfg");
  CHECK(c.profiles.at(0).host == "https://as.example");
  CHECK_THROWS_WITH(parse_config("[profiles.dev]\nhost = \"https://as.example\"\nx\xd2\x95 = 1\n", "cfg"),
                    "cfg:3: the character U+0495 cannot be read here by tokenctl's TOML library (toml++ 3.3); "
                    "it is allowed only in comments and string values");
  CHECK_THROWS_WITH(parse_config("\tf=0\"\xc2\xa8i\"\n\n", "cfg"),
                    "cfg:1: the character U+00A8 cannot be read here by tokenctl's TOML library (toml++ 3.3); "
                    "it is allowed only in comments and string values");
  CHECK(parse_config("[profiles.dev]\nhost = \"https://as.example\"\nca_file = \"/home/jos\xc3\xa9/ca.pem\"\n", "cfg")
            .profiles.at(0)
            .ca_file == "/home/jos\xc3\xa9/ca.pem");
  CHECK_THROWS_WITH(parse_config("prsaul = 5cps/:lpm\"o\xc3\x92\" ", "cfg"),
                    "cfg:1: the character U+00D2 cannot be read here by tokenctl's TOML library (toml++ 3.3); "
                    "it is allowed only in comments and string values");
}
