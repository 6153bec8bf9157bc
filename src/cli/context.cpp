#include "cli/context.hpp"

#include <algorithm>
#include <ostream>

#include "net/http_client.hpp"
#include "sys/config_file.hpp"
#include "sys/keyring.hpp"
#include "tokenctl/databricks.hpp"
#include "sys/net_module.hpp"
#include "sys/os.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {

struct Context::Services {
  sys::SystemClock clock;
  sys::SystemBrowser browser;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<RandomSource> random;
  std::unique_ptr<Hasher> hasher;
  std::unique_ptr<Signer> signer;
  std::unique_ptr<SecretStore> keyring;
};

Context::Context(std::ostream& o, std::ostream& e) : out(o), err(e) {}
Context::~Context() = default;

const ResolvedPaths& Context::paths() {
  if (!m_paths) {
    PathInputs in;
    if (!global.config.empty()) in.cli_config = global.config;
    if (!global.token_cache.empty()) in.cli_cache = global.token_cache;
    in.env_config = sys::env("TOKENCTL_CONFIG");
    in.env_cache = sys::env("TOKENCTL_TOKEN_CACHE");
    in.xdg_config_home = sys::env("XDG_CONFIG_HOME");
    in.home = sys::env("HOME");
    m_paths = resolve_paths(in);
  }
  return *m_paths;
}

const Config& Context::config() {
  if (!m_config) {
    if (m_narrow) {
      const auto named = named_profile();
      m_config = sys::load_config_for(paths(), named ? std::optional<std::string>(named->name) : std::nullopt);
      const std::string wanted = named ? named->name : choose_profile({}, {}, {}, m_config->default_profile).name;
      // Only when tokenctl's config has no such profile is .databrickscfg read at all.
      if (m_config->find(wanted) == nullptr) add_databricks_profiles(*m_config, wanted);
    } else {
      ResolvedPaths p = paths();
      if (m_allow_new_config) p.config_explicit = false;
      m_config = sys::load_config(p);
      add_databricks_profiles(*m_config, std::nullopt);
    }
  }
  return *m_config;
}

void Context::add_databricks_profiles(Config& config, const std::optional<std::string>& only) {
  const std::string path = sys::databrickscfg_path();
  std::optional<DatabricksConfig> file;
  try {
    file = sys::load_databrickscfg(path);
  } catch (const Error& e) {
    if (only) throw;
    warn(std::string("the Databricks profiles are left out: ") + e.what());
    return;
  }
  if (!file) return;
  if (only) {
    if (const auto spec = databricks_profile(*file, *only)) {
      config.profiles.push_back(profile_from_databricks(*spec, path));
      config.profiles.back().storage = config.storage;
    }
    return;
  }
  for (const auto& section : file->sections) {
    if (config.find(section.name) != nullptr) continue; // tokenctl's own profile of that name wins
    try {
      if (const auto spec = databricks_profile(*file, section.name)) {
        config.profiles.push_back(profile_from_databricks(*spec, path));
        config.profiles.back().storage = config.storage;
      }
    } catch (const Error& e) {
      warn(std::string("a Databricks profile is left out: ") + e.what());
    }
  }
}

void Context::reload_config() { m_config.reset(); }

std::optional<ProfileChoice> Context::named_profile() {
  if (!m_named) {
    std::optional<ProfileChoice> from_file;
    const auto flag = global.profile.empty() ? std::nullopt : std::optional<std::string>(global.profile);
    const auto environment = sys::env("TOKENCTL_PROFILE");
    if (!flag && !environment) {
      const auto search = sys::find_profile_file(sys::current_folder(), sys::env("HOME").value_or(""));
      for (const auto& w : search.warnings) warn(w);
      from_file = search.choice;
    }
    const ProfileChoice choice = choose_profile(flag, environment, from_file, std::nullopt);
    m_named = choice.source == ProfileSource::fallback ? std::nullopt : std::optional<ProfileChoice>(choice);
  }
  return *m_named;
}

ProfileChoice Context::profile_choice() {
  if (auto named = named_profile()) return *named;
  return choose_profile({}, {}, {}, config().default_profile);
}

std::string Context::profile_name() { return profile_choice().name; }

const Profile& Context::profile() {
  const std::string name = profile_name();
  if (const Profile* p = config().find(name)) return *p;
  const std::string where = config().exists ? "in " + config().path : "(no config file at " + config().path + ")";
  throw Error(ErrorKind::config, "no profile \"" + name + "\" " + where,
              "create it with: tokenctl login -p " + name + " --host URL");
}

sys::TokenStore& Context::store() {
  if (!m_store) {
    // The default cache lives in tokenctl's own folder, which may then be tightened to 0700.
    const bool own_folder = global.config.empty() && global.token_cache.empty() && !sys::env("TOKENCTL_CONFIG") &&
                            !sys::env("TOKENCTL_TOKEN_CACHE");
    m_store = std::make_unique<sys::TokenStore>(paths().token_cache, own_folder);
  }
  return *m_store;
}

Context::Services& Context::services() {
  if (!m_services) m_services = std::make_unique<Services>();
  return *m_services;
}

TimePoint Context::now() { return std::chrono::time_point_cast<Seconds>(clock().now()); }

WallClock& Context::clock() { return services().clock; }

HttpClient& Context::http() {
  auto& s = services();
  if (!s.http) s.http = make_http(net::k_total_timeout);
  return *s.http;
}

std::unique_ptr<HttpClient> Context::make_http(std::chrono::milliseconds total) {
  net::HttpClientOptions options;
  options.total_timeout = total;
  options.connect_timeout = std::min(options.connect_timeout, total);
  if (global.verbose) options.verbose_log = [this](std::string_view line) { err << sanitize(line) << '\n'; };
  return std::make_unique<net::ModuleHttpClient>(options);
}

RandomSource& Context::random() {
  auto& s = services();
  if (!s.random) s.random = std::make_unique<sys::ModuleRandom>();
  return *s.random;
}

Hasher& Context::hasher() {
  auto& s = services();
  if (!s.hasher) s.hasher = std::make_unique<sys::ModuleHasher>();
  return *s.hasher;
}

Browser& Context::browser() { return services().browser; }

void Context::info(std::string_view message) {
  if (!global.quiet) notice(message);
}

void Context::notice(std::string_view line) { err << sanitize(line) << '\n'; }

void Context::profile_error(const std::string& profile, const Error& e) { print_error(err, e, profile + ": "); }

void Context::warn(std::string_view message) { err << "tokenctl: warning: " << sanitize(message) << '\n'; }

int for_each_profile(Context& ctx, const std::vector<const Profile*>& profiles,
                     const std::function<void(const Profile&)>& one) {
  int worst = 0;
  for (const Profile* p : profiles) {
    try {
      one(*p);
    } catch (const Error& e) {
      ctx.profile_error(p->name, e);
      worst = std::max(worst, e.exit_code());
    }
  }
  return worst;
}

void print_error(std::ostream& err, const Error& e, std::string_view prefix) {
  err << "tokenctl: error: " << sanitize(prefix) << sanitize(e.what()) << '\n';
  if (!e.hint().empty()) err << "tokenctl: hint: " << sanitize(e.hint()) << '\n';
}

std::optional<std::string> client_secret(const Profile& profile) {
  if (profile.inline_secret) return profile.inline_secret; // .databrickscfg's, read from that file
  if (!profile.client_secret_env) return std::nullopt;
  const auto secret = sys::env(profile.client_secret_env->c_str());
  if (!secret)
    throw Error(ErrorKind::config,
                "profile \"" + profile.name +
                    "\" takes its client secret from the environment "
                    "variable " +
                    *profile.client_secret_env + ", which is not set",
                "export " + *profile.client_secret_env + " before running tokenctl");
  return secret;
}

const Profile& Context::profile_named(const std::string& name) {
  if (const Profile* p = config().find(name)) return *p;
  auto& loaded = m_other_profiles[name];
  if (!loaded) {
    Config one = sys::load_config_for(paths(), name);
    if (one.find(name) == nullptr) add_databricks_profiles(one, name);
    const Profile* p = one.find(name);
    if (p == nullptr)
      throw Error(ErrorKind::config, "no profile \"" + name + "\" in " + one.path,
                  "create it with: tokenctl login -p " + name + " --host URL");
    loaded = std::make_unique<Profile>(*p);
  }
  return *loaded;
}

SecretStore& Context::keyring() {
  auto& s = services();
  if (!s.keyring) s.keyring = std::make_unique<sys::KeyringSecretStore>();
  return *s.keyring;
}

Signer& Context::signer() {
  auto& s = services();
  if (!s.signer) s.signer = std::make_unique<sys::ModuleSigner>();
  return *s.signer;
}
} // namespace tokenctl::cli
