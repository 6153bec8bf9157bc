// Profiles: the TOML config file, parsed and checked; and the writer that adds one profile.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenctl/duration.hpp"

namespace tokenctl {

enum class Grant { authorization_code, client_credentials, token_exchange };
enum class Provider { automatic, databricks, oidc };
// How the client authenticates at the token and revocation endpoints (RFC 7591 names).
enum class AuthMethod { client_secret_basic, client_secret_post, none, private_key_jwt };
// Where a profile's refresh token is kept: in the token cache, or in the desktop's Secret Service.
enum class Storage { file, keyring };
// Where a profile comes from: tokenctl's config, or (read only) the Databricks tools' .databrickscfg.
enum class ProfileOrigin { config, databricks };

// Return the RFC 7591 name of a method: "client_secret_basic", ...
std::string_view auth_method_name(AuthMethod m);
// Return "file" or "keyring".
std::string_view storage_name(Storage s);
// Return the config's name of a grant: "authorization_code", "client_credentials", "token_exchange".
std::string_view grant_name(Grant g);

struct Profile {
  std::string name;
  std::string host; // required; https, or http for loopback hosts
  std::optional<std::string> client_id;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::string> account_id;
  Provider provider = Provider::automatic;
  Grant grant = Grant::authorization_code;
  std::optional<std::string> client_secret_env; // name of an environment variable
  std::optional<int> redirect_port;             // 0..65535; 0 = any free port
  std::optional<std::string> authorization_endpoint;
  std::optional<std::string> token_endpoint;
  std::optional<std::string> revocation_endpoint;
  std::optional<std::string> ca_file; // as resolved: a relative path is relative to the config file
  std::optional<AuthMethod> token_endpoint_auth_method;
  // CI without secrets (grant = "token_exchange", client assertions):
  std::optional<std::string> subject_token; // where the identity token comes from (see identity.hpp)
  std::optional<std::string>
      subject_token_type;                      // default: urn:ietf:params:oauth:token-type:jwt (profile: access_token)
  std::optional<std::string> subject_audience; // the audience asked of the CI token service
  std::optional<std::string> audience;         // RFC 8693 parameters sent when set
  std::optional<std::string> resource;
  std::optional<std::string> requested_token_type;
  std::optional<std::string> client_assertion; // an identity-token source used as the client assertion
  std::optional<std::string> client_assertion_key_file;
  std::optional<std::string> client_assertion_alg; // RS256, PS256, ES256
  std::optional<std::string> client_assertion_kid;
  Storage storage = Storage::file; // the profile's `storage`, else the config's, else file
  bool storage_set = false;        // the profile names its own storage
  ProfileOrigin origin = ProfileOrigin::config;
  std::optional<std::string> inline_secret; // .databrickscfg's client_secret: memory only, never written
  std::optional<Seconds> refresh_margin;
  std::optional<std::string> netrc_login;
  std::vector<std::pair<std::string, std::string>> auth_params; // in file order
  long line = 0;                                                // line of the profile's table header
};

struct Config {
  std::string path;    // the file it came from (for messages)
  bool exists = false; // false: no file, an empty config
  std::optional<std::string> default_profile;
  Storage storage = Storage::file; // the top-level `storage`: every profile's default
  std::vector<Profile> profiles;   // in file order

  // Return the profile of that name, or nullptr.
  [[nodiscard]] const Profile* find(std::string_view name) const;
};

// Parse config text; throw Error(config) "PATH:LINE: message" naming the key on any problem.
Config parse_config(std::string_view text, const std::string& path);

// Return `text` with every line that is neither top-level nor in profile `profile`'s tables blanked
// (line numbers kept), or nullopt when the file's shape does not allow a safe line-based cut.
std::optional<std::string> slice_config(std::string_view text, std::string_view profile);
// Return the top-level part of `text` (the lines before the first table header), or nullopt when
// the file's shape does not allow a safe cut (as slice_config says).
std::optional<std::string> slice_top_level(std::string_view text);

// Return whether `s` is a scope token (RFC 6749 section 3.3: printable ASCII but space, '"', '\\').
bool valid_scope(std::string_view s);
// Return whether `s` can be a Databricks account id: letters, digits, '-' and '_', at most 128.
bool valid_account_id(std::string_view s);
// Return whether `s` can be a client id: not empty, no control characters.
bool valid_client_id(std::string_view s);
// Return "" if `host` may be a profile's host (an absolute https URL, http only for loopback
// hosts, no query or fragment), else why not.
std::string host_problem(std::string_view host);
// Check a profile name: letters, digits, '.', '_', '-', 1 to 64 characters, not "." or "..".
bool valid_profile_name(std::string_view name);

// Return `text` with profile `p` added (or its keys set, if it exists), every other byte kept.
// Only keys that are set in `p` are written; `name` and `host` are required.
std::string upsert_profile(std::string_view text, const Profile& p);
// The same, naming `path` in errors: throw Error(config) when the profile cannot be written
// safely (inline tables, values spanning lines) or the result would not pass parse_config.
std::string upsert_profile(std::string_view text, const Profile& p, const std::string& path);

// Return `text` with the top-level `default_profile` set to `name` (replaced in place, or added
// before the first table), every other byte kept; throw Error(config) naming `path` when it
// cannot be written safely, Error(usage) for a name that is not a profile name.
std::string set_default_profile(std::string_view text, const std::string& name, const std::string& path);

} // namespace tokenctl
