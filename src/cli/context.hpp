// What every command needs: the global options, the streams, and lazily the config, the
// selected profile, the token store and (only when a request is made) the network services.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenctl/config.hpp"
#include "tokenctl/duration.hpp"
#include "tokenctl/paths.hpp"
#include "tokenctl/profile_choice.hpp"
#include "tokenctl/ports.hpp"
#include "sys/token_store.hpp"

namespace tokenctl::cli {

struct GlobalOptions {
  std::string profile;
  std::string config;
  std::string token_cache;
  std::string output = "text";
  bool verbose = false;
  bool quiet = false;
};

class Context {
public:
  Context(std::ostream& out, std::ostream& err);
  ~Context();

  GlobalOptions global;
  std::ostream& out;
  std::ostream& err;

  // Return whether -o json was given.
  [[nodiscard]] bool json() const { return global.output == "json"; }
  // Return the resolved config and cache paths.
  const ResolvedPaths& paths();
  // Return the parsed config (an empty one if the default file does not exist).
  const Config& config();
  // Return the profile in effect and why (choose_profile: -p, TOKENCTL_PROFILE, the nearest
  // .tokenctl-profile, default_profile, "default"); warns once about an ignored profile file.
  ProfileChoice profile_choice();
  // Return the name of the profile in effect (profile_choice().name).
  std::string profile_name();
  // Return the selected profile; throw Error(config) if the config has no such profile.
  const Profile& profile();
  // Return the token store.
  sys::TokenStore& store();
  // Return the current time (whole seconds).
  TimePoint now();
  // Return the wall clock port.
  WallClock& clock();
  // Return the HTTP client (loads the network module on first use).
  HttpClient& http();
  // Return a new HTTP client whose requests end after `total` (status --check), logging as http()'s.
  std::unique_ptr<HttpClient> make_http(std::chrono::milliseconds total);
  // Return the CSPRNG (loads the network module on first use).
  RandomSource& random();
  // Return the SHA-256 hasher (loads the network module on first use).
  Hasher& hasher();
  // Return the desktop's Secret Service (loads the keyring module on first use).
  SecretStore& keyring();
  // Return the JWS signer of client assertions (loads the network module on first use).
  Signer& signer();
  // Return the profile `name` wherever it is defined (another profile's token as a subject token);
  // throw Error(config) when there is none.
  const Profile& profile_named(const std::string& name);
  // Return the browser opener.
  Browser& browser();
  // Print a message for people on stderr, unless -q. Every message passes through sanitize():
  // text from a server or a file never reaches the terminal raw, and a message is one line.
  void info(std::string_view message);
  // Print one line on stderr even with -q (what the user must see: the address to open).
  void notice(std::string_view line);
  // Print an error about one profile of several (--all), with its hint, on stderr.
  void profile_error(const std::string& profile, const Error& e);
  // Print a warning on stderr (even with -q).
  void warn(std::string_view message);
  // Forget the loaded config (after the command rewrote it).
  void reload_config();
  // Read only the top level and the selected profile of the config from now on (commands that
  // use one profile; the others are then neither parsed nor checked).
  void narrow_config_to_profile() { m_narrow = true; }
  // Treat a config file given explicitly (--config, TOKENCTL_CONFIG) that does not exist yet as
  // empty rather than as an error (login --host creates it).
  void allow_new_config_file() { m_allow_new_config = true; }

private:
  struct Services;
  std::optional<ResolvedPaths> m_paths;
  std::optional<Config> m_config;
  bool m_narrow = false;
  std::optional<std::optional<ProfileChoice>> m_named; // named before the config is read
  std::optional<ProfileChoice> named_profile();
  void add_databricks_profiles(Config& config, const std::optional<std::string>& only);
  bool m_allow_new_config = false;
  std::unique_ptr<sys::TokenStore> m_store;
  std::map<std::string, std::unique_ptr<Profile>> m_other_profiles;
  std::unique_ptr<Services> m_services;
  Services& services();
};

// Run `one` for each of `profiles` (the --all commands): a failure is reported with the profile's
// name and the next profile goes on; return the worst exit status (0 when all succeeded).
int for_each_profile(Context& ctx, const std::vector<const Profile*>& profiles,
                     const std::function<void(const Profile&)>& one);

// Print "tokenctl: error: PREFIX MESSAGE" and the hint line, sanitized, on `err`.
void print_error(std::ostream& err, const Error& e, std::string_view prefix = {});

// Return the secret of a confidential client from the variable its profile names, or nullopt
// for a public client; throw Error(config) when the variable is unset or empty.
std::optional<std::string> client_secret(const Profile& profile);

} // namespace tokenctl::cli
