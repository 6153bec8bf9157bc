#include "tokenctl/identity.hpp"

#include <nlohmann/json.hpp>

#include "tokenctl/config.hpp"
#include "tokenctl/duration.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/paths.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/token_endpoint.hpp"
#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

constexpr std::string_view k_github_permission =
    "the job needs `permissions: id-token: write` (GitHub Actions sets ACTIONS_ID_TOKEN_REQUEST_URL and "
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN only then)";

bool valid_env_name(std::string_view s) {
  if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string str(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

std::optional<IdentitySource> parse_identity_source(std::string_view text) {
  using Kind = IdentitySource::Kind;
  if (text == "github-actions") return IdentitySource{Kind::github_actions, ""};
  if (text == "azure-devops") return IdentitySource{Kind::azure_devops, ""};
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view kind = text.substr(0, colon), arg = text.substr(colon + 1);
  if (kind == "env" && valid_env_name(arg)) return IdentitySource{Kind::env, std::string(arg)};
  if (kind == "file" && !arg.empty() && sanitize(arg) == arg) return IdentitySource{Kind::file, std::string(arg)};
  if (kind == "profile" && valid_profile_name(arg)) return IdentitySource{Kind::profile, std::string(arg)};
  return std::nullopt;
}

std::string identity_source_problem(std::string_view text) {
  return parse_identity_source(text) ? "" : "not an identity-token source";
}

std::string resolve_identity_source_path(std::string_view text, const std::string& config_path) {
  const auto source = parse_identity_source(text);
  if (!source || source->kind != IdentitySource::Kind::file || source->argument.front() == '/')
    return std::string(text);
  const std::string folder = path_folder(config_path);
  return folder.empty() ? std::string(text) : "file:" + folder + "/" + source->argument;
}

std::string describe_identity_source(const IdentitySource& s) {
  switch (s.kind) {
  case IdentitySource::Kind::github_actions: return "GitHub Actions' identity token";
  case IdentitySource::Kind::azure_devops: return "Azure DevOps' identity token";
  case IdentitySource::Kind::env: return "the identity token in the variable " + s.argument;
  case IdentitySource::Kind::file: return "the identity token in " + s.argument;
  case IdentitySource::Kind::profile: return "the access token of profile \"" + s.argument + "\"";
  }
  return "the identity token";
}

HttpRequest identity_token_request(IdentitySource::Kind kind, const CiVariables& vars, const std::string& audience,
                                   const std::string& ca_file) {
  HttpRequest request;
  request.ca_file = ca_file;
  request.headers = {{"Accept", "application/json"}};
  if (kind == IdentitySource::Kind::github_actions) {
    if (!vars.request_url || !vars.request_token)
      throw Error(ErrorKind::config,
                  std::string("GitHub Actions' identity token cannot be requested: ") +
                      (!vars.request_url && !vars.request_token
                           ? "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are"
                       : !vars.request_url ? "ACTIONS_ID_TOKEN_REQUEST_URL is"
                                           : "ACTIONS_ID_TOKEN_REQUEST_TOKEN is") +
                      " not set",
                  std::string(k_github_permission));
    request.url = *vars.request_url;
    if (!audience.empty())
      request.url +=
          std::string(request.url.find('?') == std::string::npos ? "?" : "&") + "audience=" + percent_encode(audience);
    request.headers.emplace_back("Authorization", "Bearer " + *vars.request_token);
    return request;
  }
  // Azure DevOps: the pipeline's OIDC token endpoint, or the collection URI form of it.
  std::string uri;
  if (vars.request_url)
    uri = *vars.request_url;
  else if (vars.collection_uri && vars.project_id && vars.plan_id && vars.job_id)
    uri = without_trailing_slash(*vars.collection_uri) + "/" + *vars.project_id +
          "/_apis/distributedtask/hubs/build/plans/" + *vars.plan_id + "/jobs/" + *vars.job_id + "/oidctoken";
  if (uri.empty() || !vars.request_token)
    throw Error(
        ErrorKind::config,
        std::string("Azure DevOps' identity token cannot be requested: ") +
            (uri.empty() ? "SYSTEM_OIDCREQUESTURI (or SYSTEM_COLLECTIONURI with SYSTEM_TEAMPROJECTID, "
                           "SYSTEM_PLANID and SYSTEM_JOBID)"
                         : "SYSTEM_ACCESSTOKEN") +
            " is not set",
        "map the job's System.AccessToken into SYSTEM_ACCESSTOKEN (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken))");
  request.method = "POST";
  request.url = uri + (uri.find('?') == std::string::npos ? "?" : "&") + "api-version=7.1";
  request.headers.emplace_back("Authorization", "Bearer " + *vars.request_token);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = audience.empty() ? "{}" : nlohmann::json{{"audience", audience}}.dump();
  return request;
}

std::string parse_identity_token_answer(IdentitySource::Kind kind, const HttpResponse& response,
                                        const std::string& url) {
  const std::string who =
      kind == IdentitySource::Kind::github_actions ? "GitHub Actions' token service" : "Azure DevOps' token service";
  if (response.status >= 500 || response.status == 429 || response.status == 408)
    throw Error(ErrorKind::network, who + " at " + url + " failed with HTTP " + std::to_string(response.status));
  if (response.status != 200)
    throw Error(ErrorKind::network,
                who + " at " + url + " refused to issue an identity token (HTTP " + std::to_string(response.status) +
                    ")",
                kind == IdentitySource::Kind::github_actions ? std::string(k_github_permission) : std::string());
  const auto doc = nlohmann::json::parse(response.body, nullptr, false);
  const std::string token =
      doc.is_object() ? str(doc, kind == IdentitySource::Kind::github_actions ? "value" : "oidcToken") : std::string();
  if (const std::string problem = identity_token_problem(token); !problem.empty())
    throw Error(ErrorKind::network, who + " at " + url + " answered without a usable identity token: " + problem);
  return token;
}

std::string identity_token_problem(std::string_view token) {
  if (token.empty()) return "it is empty";
  if (token.size() > k_max_token_bytes) return "it is larger than " + std::to_string(k_max_token_bytes) + " bytes";
  if (!valid_id_token(token) || !jwt_claims(token)) return "it is not a compact JWT";
  return "";
}

std::string describe_identity_claims(std::string_view token) {
  const auto claims = jwt_claims(token);
  if (!claims) return "";
  std::string out;
  for (const char* key : {"iss", "sub", "aud"}) {
    const auto it = claims->find(key);
    if (it == claims->end()) continue;
    out += (out.empty() ? "" : ", ") + std::string(key) + "=" +
           shorten(it->is_string() ? it->get<std::string>() : it->dump(), 200);
  }
  if (const auto exp = claims->find("exp"); exp != claims->end() && exp->is_number_integer())
    out +=
        (out.empty() ? "" : ", ") + std::string("exp=") + format_rfc3339(TimePoint(Seconds(exp->get<std::int64_t>())));
  return out;
}

} // namespace tokenctl
