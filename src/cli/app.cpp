#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "tokenctl/text.hpp"
#include "sys/os.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("-p,--profile", g.profile, "Profile to use (default: TOKENCTL_PROFILE, default_profile, \"default\")");
  app.add_option("--config", g.config, "Config file (default: TOKENCTL_CONFIG, ~/.config/tokenctl/config.toml)");
  app.add_option("--token-cache", g.token_cache, "Token cache file (default: TOKENCTL_TOKEN_CACHE, beside the config)");
  app.add_option("-o,--output", g.output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-v,--verbose", g.verbose, "Show the HTTP exchange on stderr, tokens and secrets redacted");
  app.add_flag("-q,--quiet", g.quiet, "Print no messages but errors and warnings");
}

std::string_view kind_name(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::failure: return "failure";
  case ErrorKind::usage: return "usage";
  case ErrorKind::login_required: return "login_required";
  case ErrorKind::network: return "network";
  case ErrorKind::config: return "config";
  }
  return "failure";
}

// Whether -o json / --output json was asked for, read from argv itself (a usage error may come
// before the option is parsed).
bool json_asked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-ojson" || a == "--output=json") return true;
    if ((a == "-o" || a == "--output") && i + 1 < argc && std::string_view(argv[i + 1]) == "json") return true;
  }
  return false;
}

// Report a failure: the message on stderr and, with -o json, the contract's error object on
// stdout (without -o json stdout stays empty). Return the exit status.
int fail(const Error& e, bool json) {
  std::cout.flush();
  print_error(std::cerr, e);
  if (json) {
    const nlohmann::json j = {
        {"error",
         {{"exit_code", e.exit_code()},
          {"kind", kind_name(e.kind())},
          {"message", sanitize(e.what())},
          {"hint", e.hint().empty() ? nlohmann::json(nullptr) : nlohmann::json(sanitize(e.hint()))}}}};
    std::cout << json_text(j) << '\n';
  }
  return e.exit_code();
}

// Installed as LIBDIR/tokenctl/databricks, the program answers as `tokenctl databricks`.
bool called_as_databricks(const char* argv0) {
  const std::string_view name = argv0 == nullptr ? "" : argv0;
  return name.substr(name.rfind('/') + 1) == "databricks";
}

// A usage error in the Databricks protocol, worded as the Databricks CLI (Cobra) words it: the
// SDKs look for "unknown flag: --profile" to fall back to --host.
// A command line for the `databricks` program that tokenctl does not answer, said as the Databricks
// CLI says it ("unknown command ... for ..."; the SDKs look for "unknown flag"), with what to do
// instead. nullopt when the words are commands tokenctl has.
std::optional<Error> databricks_unknown_command(int argc, char** argv) {
  // argv: tokenctl databricks [auth] WORD ...; options before the words are left to CLI11.
  std::vector<std::string_view> words;
  for (int i = 2; i < argc && words.size() < 2; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("-")) break;
    words.push_back(arg);
  }
  if (words.empty()) return std::nullopt;
  std::string unknown, parent = "databricks";
  if (words[0] == "auth") {
    if (words.size() < 2 || words[1] == "token") return std::nullopt;
    unknown = words[1];
    parent = "databricks auth";
  } else if (words[0] != "version") {
    unknown = words[0];
  } else {
    return std::nullopt;
  }
  return Error(ErrorKind::usage,
               "unknown command \"" + sanitize(shorten(unknown, 40)) + "\" for \"" + parent +
                   "\": tokenctl answers only `databricks auth token` and `databricks version` (for Databricks tools)",
               unknown == "login" ? "to log in, run: tokenctl login --host HOST (or tokenctl login -p PROFILE)"
                                  : "for everything else, use the Databricks CLI itself");
}

std::string databricks_usage(const CLI::ParseError& e) {
  const std::string what = e.what();
  const std::string marker = "not expected: ";
  if (const auto at = what.find(marker); at != std::string::npos) {
    const auto start = at + marker.size();
    const std::string first = what.substr(start, what.find(' ', start) - start);
    if (first.rfind("--", 0) == 0) return "unknown flag: " + first;
  }
  return what;
}

// The commands, in the order --help lists them.
struct Registration {
  std::string_view name;
  Command (*add)(CLI::App&);
};
constexpr Registration k_commands[] = {
    {"login", register_login},   {"token", register_token}, {"refresh", register_refresh},
    {"revoke", register_revoke}, {"list", register_list},   {"show", register_show},
    {"netrc", register_netrc},   {"exec", register_exec},   {"git-credential", register_git_credential},
    {"status", register_status}, {"use", register_use},     {"databricks", register_databricks},
};

// Register the commands that the command line names (any word equal to a command's name; a word
// that only looks like one, an option's value, costs nothing but its registration), or all of them
// when it names none (--help, a typo). Building CLI11's options for every command was half of what
// `tokenctl token` did with a fresh cached token.
std::vector<Command> register_commands(CLI::App& app, int argc, char** argv) {
  const auto named = [&](std::string_view name) {
    for (int i = 1; i < argc; ++i)
      if (argv[i] == name) return true;
    return false;
  };
  bool any = false;
  for (const Registration& r : k_commands) any = any || named(r.name);
  std::vector<Command> commands;
  for (const Registration& r : k_commands)
    if (!any || named(r.name)) commands.push_back(r.add(app));
  return commands;
}

// The profile that `tokenctl token` names, when that is all the command line says: `token` with at
// most one of -p NAME, --profile NAME or --profile=NAME, before or after it ("" when none is named).
// nullopt for any other command line, which CLI11 reads. This is the line scripts run thousands of
// times a day, and building CLI11's parser for it was a third of the instructions of the whole run;
// what it yields here is what CLI11 would make of it (tests/e2e/cli.test.mjs compares the two).
std::optional<std::string> plain_token_command(int argc, char** argv) {
  bool token = false;
  std::optional<std::string> profile;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "token" && !token) {
      token = true;
      continue;
    }
    std::string_view value;
    if ((arg == "-p" || arg == "--profile") && i + 1 < argc)
      value = argv[++i];
    else if (arg.starts_with("--profile="))
      value = arg.substr(std::string_view("--profile=").size());
    else
      return std::nullopt;
    if (profile || value.empty() || value.front() == '-') return std::nullopt;
    profile = std::string(value);
  }
  if (!token) return std::nullopt;
  return profile.value_or("");
}

// Run a parsed command; its errors become messages (and the -o json error object) and exit codes.
int run_command(Context& ctx, const std::function<int(Context&)>& run) {
  const bool json = ctx.json();
  try {
    return run(ctx);
  } catch (const Error& e) {
    return fail(e, json);
  } catch (const nlohmann::json::exception&) {
    return fail(Error(ErrorKind::failure, "internal error while handling JSON"), json);
  } catch (const std::exception& e) {
    return fail(Error(ErrorKind::failure, std::string("internal error: ") + e.what()), json);
  }
}

int run_with(int argc, char** argv) {
  // Tokens and secrets are held in memory by nearly every command: no core dump may carry them.
  sys::disable_core_dumps();
  Context ctx(std::cout, std::cerr);
  if (const auto profile = plain_token_command(argc, argv)) {
    ctx.global.profile = *profile;
    return run_command(ctx, run_plain_token);
  }
  CLI::App app{"tokenctl: OAuth 2.0 / OpenID Connect token manager", "tokenctl"};
  app.set_version_flag("--version", std::string("tokenctl ") + TOKENCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  add_global_options(app, ctx.global);
  const std::vector<Command> commands = register_commands(app, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    const bool databricks = argc > 1 && std::string_view(argv[1]) == "databricks";
    if (databricks)
      if (const auto unknown = databricks_unknown_command(argc, argv)) return fail(*unknown, json_asked(argc, argv));
    return fail(Error(ErrorKind::usage, databricks ? databricks_usage(e) : std::string(e.what()),
                      "run \"tokenctl --help\" for usage"),
                json_asked(argc, argv));
  }
  for (const auto& command : commands)
    if (command.app->parsed()) return run_command(ctx, command.run);
  return static_cast<int>(ErrorKind::usage);
}

} // namespace

int run(int argc, char** argv) {
  if (argc < 1 || !called_as_databricks(argv[0])) return run_with(argc, argv);
  std::vector<char*> args(argv, argv + argc);
  static char databricks[] = "databricks";
  args.insert(args.begin() + 1, databricks);
  return run_with(static_cast<int>(args.size()), args.data());
}

} // namespace tokenctl::cli
