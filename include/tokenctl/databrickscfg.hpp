// `.databrickscfg`, the profile file of the Databricks CLI and SDKs: a pure parser, and the mapping
// of its profiles to what tokenctl can serve. tokenctl reads the file; it never writes it.
//
// The dialect: what both of its readers read alike. The Databricks CLI and the Go SDK read the file
// with gopkg.in/ini.v1 (databricks-sdk-go config/config_file.go: ini.LoadSources with
// SpaceBeforeInlineComment), the Python SDK with configparser.ConfigParser() (databricks-sdk-py
// databricks/sdk/config.py, _known_file_config_loader). Accepted:
// - UTF-8 text up to 1 MiB, lines up to 64 KiB, ending in LF or CRLF; a UTF-8 BOM at the start is
//   skipped (Go skips it; Python refuses the file);
// - blank lines; comment lines whose first non-blank character is '#' or ';';
// - `[NAME]` headers, NAME taken as written (case and inner blanks kept, as both do), optionally
//   followed by a comment;
// - `key = value` and `key: value` lines (the first '=' or ':' splits), key and value trimmed of
//   blanks, the key lowercased (configparser's optionxform; Go matches keys case-sensitively, and
//   every key the SDKs know is lowercase). An empty value counts as not set, as in both SDKs.
// Refused, with Error(config) "PATH:LINE: message" (names sanitized, never a value):
// - what one of them refuses: a key before any header (Python; Go files it under DEFAULT), a
//   repeated section or key (Python; Go merges sections and keeps the last key), `[]`, a header
//   without ']', a line with no '=' or ':', an empty key, bytes that are not UTF-8 (Python);
// - what they read as different lines: a carriage return inside a line (Python's universal
//   newlines end a line there, Go does not); an indented line after a key (Python continues the
//   value with it, Go reads it as a line of its own); a value starting with `"""` or '`' or ending
//   with '\' (Go reads on into the next lines); a key in quotes (Go unquotes it); the key "-" (Go
//   numbers it);
// - control characters, Unicode bidirectional controls, and Unicode spaces or invisible characters
//   at the edge of a section name or key (both SDKs trim the spaces; tokenctl does not guess);
// - what both read alike but is surely a slip: a section name with '[' or ']' inside, text other
//   than a comment after a header's ']' (both ignore it).
// Recorded, not refused (DatabricksValue::problem): a value the two read differently, an inline
// comment after " #" or " ;" (Go cuts it off), quotes around the whole value (Go removes them), or
// a Unicode space or invisible character at its edge. The mapping refuses such a value only when it
// reads that key, so that one odd line in another profile does not make the file unusable.
//
// [DEFAULT] is a section of its own: its keys are NOT inherited by the other sections. configparser
// would inherit them, but the Python SDK reads `_sections` and `defaults()` apart to avoid exactly
// that, as the Go SDK does (the comment in config.py); Go's ini keeps DEFAULT separate. [DEFAULT] may
// appear more than once (both merge the blocks). [__settings__] holds `default_profile` and
// `auth_storage` (the CLI's `auth switch`) and is not a profile.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenctl {

inline constexpr std::string_view k_databricks_default_section = "DEFAULT";
inline constexpr std::string_view k_databricks_settings_section = "__settings__";
inline constexpr std::size_t k_databrickscfg_max_bytes = 1024 * 1024;
inline constexpr std::size_t k_databrickscfg_max_line_bytes = 64 * 1024;

// One `key = value` line.
struct DatabricksValue {
  std::string key;   // lowercased
  std::string value; // trimmed; may be a secret (client_secret, token, password): never print it
  long line = 0;
  std::string problem; // "" or why the Go and Python SDKs read this value differently
};

struct DatabricksSection {
  std::string name;                  // as written; may hold any text: sanitize before printing
  long line = 0;                     // line of its first header
  std::vector<DatabricksValue> keys; // in file order, each key once

  // Return the entry of key `key` (lowercase), or nullptr.
  [[nodiscard]] const DatabricksValue* find(std::string_view key) const;
};

// [__settings__]: which profile the Databricks tools use when none is named.
struct DatabricksSettings {
  long line = 0;                                  // 0: no [__settings__] section
  std::optional<DatabricksValue> default_profile; // unset when empty or naming __settings__ (the CLI ignores
                                                  // that); a value the SDKs read differently is refused
  std::optional<DatabricksValue> auth_storage;    // unset when empty; check its `problem` before use
};

struct DatabricksConfig {
  std::string path;                        // the file it came from (for messages)
  std::vector<DatabricksSection> sections; // in file order, [DEFAULT] included, [__settings__] not
  DatabricksSettings settings;

  // Return the section of that exact name (case-sensitive, as in both SDKs), or nullptr.
  [[nodiscard]] const DatabricksSection* find(std::string_view name) const;
};

// Parse `.databrickscfg` text by the dialect above; throw Error(config) "PATH:LINE: message" (or
// "PATH is too large ...") on what it refuses.
DatabricksConfig parse_databrickscfg(std::string_view text, const std::string& path);

// What a profile asks tokenctl to do.
//
// | the section has                                            | kind               |
// |------------------------------------------------------------|--------------------|
// | auth_type = databricks-cli or external-browser             | browser_login      |
// | no auth_type and no credential keys (client_id alone is ok) | browser_login      |
// | auth_type = oauth-m2m, or no auth_type with client_id and   | client_credentials |
// |   client_secret                                            |                    |
// | auth_type = github-oidc / azure-devops-oidc / env-oidc /    | token_exchange     |
// |   file-oidc, or no auth_type with oidc_token_env or an     |                    |
// |   id token file path (env-oidc / file-oidc)                |                    |
// | auth_type = pat, or no auth_type with a `token`            | unsupported        |
// | any other auth_type (basic, azure-*, google-*, ...)        | unsupported        |
// | no auth_type and username/password, metadata_service_url,  | unsupported        |
// |   Azure or Google credential keys                          |                    |
// | no auth_type and keys of more than one method (the SDKs    | unsupported        |
// |   refuse that too: "more than one authorization method")   |                    |
//
// The Azure keys themselves are not extracted. Errors (Error(config), naming the key and the
// profile): oauth-m2m without client_id or client_secret, client_secret without client_id,
// file-oidc without a file, a bad host, account_id, workspace_id, oauth_callback_port (0..65535),
// scope or oidc_token_env name, two spellings of one setting with different values, and any value
// the mapping reads that has a DatabricksValue::problem.
enum class DatabricksAuthKind { browser_login, client_credentials, token_exchange, unsupported };

// Where a token_exchange profile gets the CI identity token it exchanges.
enum class DatabricksIdTokenSource { none, github_actions, azure_devops, env, file };

struct DatabricksProfileSpec {
  std::string name; // the section name ("DEFAULT" for [DEFAULT])
  long line = 0;    // line of its header
  std::string host; // "https://HOST[:PORT]" as the SDKs normalise it (a missing scheme
                    // is https, path and query dropped); "" when not set
  std::optional<std::string> account_id;
  std::optional<std::string> workspace_id;
  std::optional<std::string> auth_type; // as written
  std::vector<std::string> scopes;      // comma-separated in the file; empty: not set
  std::optional<std::string> client_id;
  bool has_client_secret = false;
  long client_secret_line = 0;
  std::string client_secret;                 // SECRET: only for the token request; never print, log or put in argv
  std::optional<int> oauth_callback_port;    // 0..65535
  std::optional<std::string> oidc_token_env; // as set (env-oidc defaults to DATABRICKS_OIDC_TOKEN: see subject_token)
  std::optional<std::string> id_token_file;  // databricks_id_token_filepath (Go) or oidc_token_filepath (Python)
  std::optional<std::string> audience;       // audience (Go) or token_audience (Python)
  DatabricksAuthKind kind = DatabricksAuthKind::browser_login;
  DatabricksIdTokenSource source = DatabricksIdTokenSource::none;
  std::string subject_token;      // token_exchange: "github-actions", "azure-devops", "env:NAME" or "file:PATH"
  std::string unsupported_reason; // unsupported: why, to follow "profile NAME in PATH "
};

// Return the profile of every section with at least one key, [DEFAULT] included, in file order
// (the SDKs treat a section without keys as no profile); throw Error(config) as the table says.
std::vector<DatabricksProfileSpec> databricks_profiles(const DatabricksConfig& config);
// Return the profile of section `name`, or nullopt when there is no such section or it has no
// keys; throw Error(config) only for problems of that section.
std::optional<DatabricksProfileSpec> databricks_profile(const DatabricksConfig& config, std::string_view name);

} // namespace tokenctl
