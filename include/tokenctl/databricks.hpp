// What tokenctl answers to the Databricks tools (SDKs, Terraform, dbt, ...) that get their tokens
// by running `databricks auth token` (auth_type = databricks-cli): the profile of a
// .databrickscfg section, host matching as the SDKs normalise hosts, the expiry format every SDK
// parses, and the version answers that enable the current protocol.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenctl/config.hpp"
#include "tokenctl/databrickscfg.hpp"
#include "tokenctl/duration.hpp"

namespace tokenctl {

// The Databricks CLI version tokenctl answers as: the lowest that makes the Go and Python SDKs pass
// --profile (0.207.1) and --force-refresh (0.296.0). Raised only when tokenctl implements a newer flag.
inline constexpr std::string_view k_databricks_cli_version = "0.296.0";
// The text the SDKs look for to decide that this auth type does not apply and try the next one.
inline constexpr std::string_view k_databricks_not_configured = "databricks OAuth is not configured for this host";
// How long a forced refresh (--force-refresh) is served by one made by any process before it.
inline constexpr Seconds k_databricks_refresh_coalescing{60};

// Return the profile a .databrickscfg section stands for (origin databricks, read only, its
// client_secret kept in memory only); throw Error(config) naming the profile and the file when
// tokenctl cannot serve its auth type.
Profile profile_from_databricks(const DatabricksProfileSpec& spec, const std::string& path);

// Return a host as the SDKs' hosts are compared: lowercase scheme and host, the port only when it
// is not the scheme's default, no path or trailing slash ("dbc-1.cloud.databricks.com" gets https).
// "" when it is not a URL.
std::string databricks_host_key(std::string_view host);

// Return `t` as the Databricks CLI writes token expiries, in the local time whose offset from UTC
// is `utc_offset`: "2026-09-01T16:24:11.000000+02:00". Always with a fraction (the Python SDK cuts
// at the first '.' and cannot read a value without one) and a numeric offset (it compares the rest
// with local time, so a "Z" value would be off by the machine's offset).
std::string format_databricks_expiry(TimePoint t, Seconds utc_offset);

// Return what `databricks version` prints: "Databricks CLI v0.296.0\n".
std::string databricks_version_text();
// Return what `databricks version --output json` prints (the Databricks CLI's build info keys).
std::string databricks_version_json(std::string_view tokenctl_version);

} // namespace tokenctl
