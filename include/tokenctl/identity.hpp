// Identity tokens that CI systems issue to a job (GitHub Actions, Azure DevOps, GitLab, Kubernetes),
// for the token exchange (RFC 8693) and client assertions (RFC 7523) of "CI without secrets": where
// a profile says they come from, the requests that fetch them, and what the answers hold.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenctl/ports.hpp"

namespace tokenctl {

struct IdentitySource {
  enum class Kind { github_actions, azure_devops, env, file, profile } kind = Kind::env;
  std::string argument; // env: the variable; file: the path; profile: the name
};

// Return "" if `text` names a source ("github-actions", "azure-devops", "env:NAME", "file:PATH",
// "profile:NAME"), else why not.
std::string identity_source_problem(std::string_view text);
// Parse a source named as identity_source_problem accepts; nullopt otherwise.
std::optional<IdentitySource> parse_identity_source(std::string_view text);
// Return `text` with a relative file: path made relative to the config file's folder.
std::string resolve_identity_source_path(std::string_view text, const std::string& config_path);
// Return how a source is named in messages: "GitHub Actions", "the variable NAME", ...
std::string describe_identity_source(const IdentitySource& source);

// The variables a CI identity-token service needs (GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN; Azure DevOps: SYSTEM_OIDCREQUESTURI (or the collection URI form)
// and SYSTEM_ACCESSTOKEN), as the job sees them.
struct CiVariables {
  std::optional<std::string> request_url;
  std::optional<std::string> request_token;
  std::optional<std::string> collection_uri; // Azure DevOps SYSTEM_COLLECTIONURI
  std::optional<std::string> plan_id;        // SYSTEM_PLANID, SYSTEM_TEAMPROJECTID, SYSTEM_JOBID for that form
  std::optional<std::string> project_id;
  std::optional<std::string> job_id;
};

// Return the request that fetches the job's identity token from GitHub Actions (`GET URL&audience=`)
// or Azure DevOps (`POST URI?api-version=7.1`); throw Error(config) naming what is missing (for
// GitHub Actions also the job's `permissions: id-token: write`).
HttpRequest identity_token_request(IdentitySource::Kind kind, const CiVariables& vars, const std::string& audience,
                                   const std::string& ca_file);
// Return the identity token in a CI service's answer ({"value"} or {"oidcToken"}); throw
// Error(network) for server trouble, Error(failure) for a refusal or an answer without a JWT.
std::string parse_identity_token_answer(IdentitySource::Kind kind, const HttpResponse& response,
                                        const std::string& url);

// Return "" when `token` can be sent as a subject token or assertion (a compact JWT, at most
// 32 KiB), else why not (never quoting it).
std::string identity_token_problem(std::string_view token);

// Return the claims of an identity token worth showing when a server refuses it (iss, sub, aud,
// exp, decoded and not verified) as one line, or "" when it is not a JWT.
std::string describe_identity_claims(std::string_view token);

} // namespace tokenctl
