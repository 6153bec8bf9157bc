#include "cli/credentials.hpp"

#include "cli/token_service.hpp"
#include "sys/files.hpp"
#include "sys/os.hpp"
#include "tokenctl/client_assertion.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

constexpr std::size_t k_max_key_file_bytes = 64 * 1024;
constexpr int k_max_profile_depth = 4; // profile:A naming profile:B ... : a loop ends here

CiVariables ci_variables(IdentitySource::Kind kind) {
  CiVariables v;
  if (kind == IdentitySource::Kind::github_actions) {
    v.request_url = sys::env("ACTIONS_ID_TOKEN_REQUEST_URL");
    v.request_token = sys::env("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  } else {
    v.request_url = sys::env("SYSTEM_OIDCREQUESTURI");
    v.request_token = sys::env("SYSTEM_ACCESSTOKEN");
    v.collection_uri = sys::env("SYSTEM_COLLECTIONURI");
    v.project_id = sys::env("SYSTEM_TEAMPROJECTID");
    v.plan_id = sys::env("SYSTEM_PLANID");
    v.job_id = sys::env("SYSTEM_JOBID");
  }
  return v;
}

std::string checked(std::string token, const IdentitySource& source) {
  if (const std::string problem = identity_token_problem(token); !problem.empty())
    throw Error(ErrorKind::failure, describe_identity_source(source) + " cannot be used: " + problem);
  return token;
}

// The signed assertion of a client_assertion_key_file, for one request to `endpoint`.
std::string signed_assertion(Context& ctx, const Profile& p, const std::string& client_id,
                             const std::string& endpoint) {
  const std::string& path = *p.client_assertion_key_file;
  std::optional<std::string> pem;
  try {
    pem = sys::read_private_file(path, k_max_key_file_bytes);
  } catch (const Error& e) {
    throw Error(ErrorKind::config, std::string("the client assertion key: ") + e.what(), e.hint());
  }
  if (!pem) throw Error(ErrorKind::config, "the client assertion key file " + path + " does not exist");
  ClientAssertionRequest request;
  request.client_id = client_id;
  request.audience = endpoint;
  request.alg = p.client_assertion_alg.value_or("");
  request.kid = p.client_assertion_kid.value_or("");
  request.now = ctx.now();
  request.jti = assertion_jti(ctx.random());
  try {
    std::string assertion = make_client_assertion(request, ctx.signer(), *pem);
    explicit_bzero(pem->data(), pem->size());
    return assertion;
  } catch (const Error& e) {
    explicit_bzero(pem->data(), pem->size());
    throw Error(e.kind(), std::string(e.what()) + " (" + path + ")", e.hint());
  }
}

} // namespace

namespace {

// What can be known of a source before asking anyone: its variables are set, its file is usable.
void check_source(const Profile& profile, const std::string& text) {
  const auto source = parse_identity_source(text);
  if (!source) throw Error(ErrorKind::config, "profile \"" + profile.name + "\": not an identity-token source");
  switch (source->kind) {
  case IdentitySource::Kind::github_actions:
  case IdentitySource::Kind::azure_devops:
    (void)identity_token_request(source->kind, ci_variables(source->kind), "", "");
    break;
  case IdentitySource::Kind::env:
    if (!sys::env(source->argument.c_str()))
      throw Error(ErrorKind::config,
                  "the variable " + source->argument + " that should hold the identity token is not set",
                  "in GitLab CI, declare it under the job's id_tokens; elsewhere, export it before running tokenctl");
    break;
  case IdentitySource::Kind::file: (void)sys::read_token_file(source->argument, k_max_token_bytes); break;
  case IdentitySource::Kind::profile: break;
  }
}

} // namespace

void check_credentials(Context& ctx, const Profile& p) {
  (void)ctx;
  (void)client_secret(p);
  if (p.client_assertion_key_file) {
    try {
      auto pem = sys::read_private_file(*p.client_assertion_key_file, k_max_key_file_bytes);
      if (!pem)
        throw Error(ErrorKind::config,
                    "the client assertion key file " + *p.client_assertion_key_file + " does not exist");
      explicit_bzero(pem->data(), pem->size());
    } catch (const Error& e) {
      throw Error(ErrorKind::config, std::string("the client assertion key: ") + e.what(), e.hint());
    }
  }
  if (p.client_assertion) check_source(p, *p.client_assertion);
  if (p.grant == Grant::token_exchange && p.subject_token) check_source(p, *p.subject_token);
}

std::string fetch_identity_token(Context& ctx, const Profile& profile, const std::string& source_text,
                                 const std::string& audience, int depth) {
  const auto source = parse_identity_source(source_text);
  if (!source) throw Error(ErrorKind::config, "profile \"" + profile.name + "\": not an identity-token source");
  switch (source->kind) {
  case IdentitySource::Kind::github_actions:
  case IdentitySource::Kind::azure_devops: {
    const HttpRequest request =
        identity_token_request(source->kind, ci_variables(source->kind), audience, profile.ca_file.value_or(""));
    return parse_identity_token_answer(source->kind, ctx.http().send(request),
                                       request.url.substr(0, request.url.find('?')));
  }
  case IdentitySource::Kind::env: {
    const auto value = sys::env(source->argument.c_str());
    if (!value)
      throw Error(ErrorKind::config,
                  "the variable " + source->argument + " that should hold the identity token is not set",
                  "in GitLab CI, declare it under the job's id_tokens; elsewhere, export it before running tokenctl");
    return checked(*value, *source);
  }
  case IdentitySource::Kind::file: {
    const auto text = sys::read_token_file(source->argument, k_max_token_bytes);
    if (!text) throw Error(ErrorKind::network, "the identity token file " + source->argument + " does not exist (yet)");
    return checked(*text, *source);
  }
  case IdentitySource::Kind::profile: {
    if (depth >= k_max_profile_depth || source->argument == profile.name)
      throw Error(ErrorKind::config, "profile \"" + profile.name + "\": subject_token profile:" + source->argument +
                                         " leads back to itself");
    const Profile& other = ctx.profile_named(source->argument);
    return fresh_token_set(ctx, other, Freshness{}).access_token;
  }
  }
  throw Error(ErrorKind::config, "profile \"" + profile.name + "\": not an identity-token source");
}

ClientAuth client_auth(Context& ctx, const Profile& p, const std::string& client_id, const Endpoints& endpoints) {
  if (p.client_assertion) {
    ClientAuth auth;
    auth.method = AuthMethod::private_key_jwt;
    auth.client_id = client_id;
    auth.assertion = fetch_identity_token(ctx, p, *p.client_assertion, p.subject_audience.value_or(""));
    return auth;
  }
  if (p.client_assertion_key_file &&
      (!p.token_endpoint_auth_method || *p.token_endpoint_auth_method == AuthMethod::private_key_jwt)) {
    ClientAuth auth;
    auth.method = AuthMethod::private_key_jwt;
    auth.client_id = client_id;
    auth.assertion = signed_assertion(ctx, p, client_id, endpoints.token_endpoint);
    return auth;
  }
  return choose_client_auth(client_id, client_secret(p), endpoints.token_endpoint_auth_methods,
                            p.token_endpoint_auth_method);
}

} // namespace tokenctl::cli
