// tokenctl git-credential get|store|erase: a git credential helper
// (git config credential.https://HOST.helper "!tokenctl git-credential"). `get` answers with the
// access token of the profile whose host matches the request (or of -p's profile, if its host
// matches); `store` and `erase` change nothing: tokenctl's cache is the store.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/shape_options.hpp"
#include "cli/token_service.hpp"
#include "tokenctl/git_credential.hpp"
#include "tokenctl/token_endpoint.hpp"

namespace tokenctl::cli {
namespace {

struct GitCredentialOptions {
  ShapeOptions shape;
  std::string operation;
};

// Read what git sends, at most one byte more than a request may hold: a larger input is refused
// without reading it all into memory.
std::string read_request() {
  std::string input(k_max_credential_request + 1, '\0');
  std::cin.read(input.data(), static_cast<std::streamsize>(input.size()));
  input.resize(static_cast<std::size_t>(std::cin.gcount()));
  return input;
}

int run_git_credential(const GitCredentialOptions& o, Context& ctx) {
  const std::string input = read_request();
  if (o.operation != "get") return 0;
  const auto request = parse_credential_request(input);
  if (!request) throw Error(ErrorKind::usage, "git-credential: the request from git is malformed");
  const Profile* profile = nullptr;
  if (!ctx.global.profile.empty()) {
    profile = &ctx.profile();
    if (!credential_matches(*profile, *request)) {
      ctx.warn("profile \"" + profile->name + "\" is for " + profile->host +
               ", not for the host git asks about; "
               "answering nothing");
      return 0;
    }
  } else {
    profile = match_credential_profile(ctx.config().profiles, *request);
    if (profile == nullptr) return 0; // not ours: git asks its next helper
  }
  Freshness freshness;
  freshness.shape = o.shape.shape();
  const TokenSet set = fresh_token_set(ctx, *profile, freshness);
  check_token_for_output(set.access_token);
  ctx.out << format_credential(profile->netrc_login.value_or("token"), set.access_token, set.expiry);
  return 0;
}

} // namespace

Command register_git_credential(CLI::App& parent) {
  auto options = std::make_shared<GitCredentialOptions>();
  auto* app = parent.add_subcommand("git-credential", "Git credential helper: answer git with a profile's token");
  app->add_option("operation", options->operation, "What git asks: get, store or erase")
      ->required()
      ->check(CLI::IsMember({"get", "store", "erase"}));
  add_shape_options(*app, options->shape);
  return {app, [options](Context& ctx) { return run_git_credential(*options, ctx); }};
}

} // namespace tokenctl::cli
