// The test identity provider and the CI identity-token services, inside the e2e server process.
//
// Why: "CI without secrets" (RFC 8693 token exchange, Databricks workload identity federation)
// starts from a short-lived JWT that a CI system issues to the job. Tests cannot reach GitHub or
// Azure DevOps, so this file is both the identity provider that signs such JWTs (a key pair made at
// run time; its JWKS is what the token exchange trusts) and the two services a CI job asks:
//
//   GitHub Actions   GET  ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD
//                    Authorization: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN   -> {"value": JWT}
//   Azure DevOps     POST SYSTEM_OIDCREQUESTURI?api-version=7.1
//                    Authorization: Bearer SYSTEM_ACCESSTOKEN               -> {"oidcToken": JWT}
//
// (the request shapes of GitHub's and Azure DevOps' documentation, as the Databricks SDKs send
// them: databricks-sdk-go config/experimental/auth/oidc/github.go and azuredevops.go). A wrong or
// missing bearer token gets 401; every identity token minted goes to the secrets recorder as
// kind 'identity_token', and the request tokens as kind 'ci_request_token'.
//
// The identity provider itself is at {origin}/idp (issuer), with {origin}/idp/jwks.json and an
// OpenID discovery document; tests mint tokens with any claims through the handle
// (server.idp.mint, POST /__test/idp/mint).

import * as crypto from 'node:crypto';
import * as jose from 'jose';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const AZURE_AUDIENCE = 'api://AzureADTokenExchange';
export const DEFAULT_AUDIENCE = 'tokenctl-e2e';
const SUPPORTED_ALGS = new Set(['RS256', 'PS256', 'ES256']);

const epoch = () => Math.floor(Date.now() / 1000);

// The identity provider: a trusted key pair (and, made on first use, an untrusted "rogue" one with
// the same kid, for signature failures). `alg` RS256 (default, as GitHub and Azure sign) or ES256.
export class TestIdp {
  static async create({ issuer, alg = 'RS256' } = {}) {
    if (!SUPPORTED_ALGS.has(alg)) throw new Error(`idp alg must be one of ${[...SUPPORTED_ALGS].join(', ')}`);
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const kid = `test-idp-${crypto.randomBytes(4).toString('hex')}`;
    Object.assign(jwk, { kid, alg, use: 'sig' });
    return new TestIdp(issuer, alg, kid, privateKey, jwk);
  }

  constructor(issuer, alg, kid, privateKey, publicJwk) {
    this.issuer = issuer;
    this.alg = alg;
    this.kid = kid;
    this.privateKey = privateKey;
    this.jwks = { keys: [publicJwk] };
    this.keySet = jose.createLocalJWKSet(this.jwks);
    this.rogue = null;
  }

  // Sign `claims` (defaults: iss, sub, aud, iat, nbf, exp = now + 600, jti; a claim given as null
  // is left out). options: untrusted (sign with the rogue key, same kid), kid, typ, header
  // (extra header fields), alg ('none' makes an unsigned token).
  async mint(claims = {}, options = {}) {
    const now = epoch();
    const full = {
      iss: this.issuer, sub: 'test-subject', aud: DEFAULT_AUDIENCE, iat: now, nbf: now,
      exp: now + 600, jti: crypto.randomUUID(), ...claims,
    };
    for (const [k, v] of Object.entries(full)) if (v === null || v === undefined) delete full[k];
    const header = { alg: this.alg, kid: options.kid ?? this.kid, typ: options.typ ?? 'JWT', ...(options.header || {}) };
    if (options.alg === 'none') {
      const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ ...header, alg: 'none' })}.${enc(full)}.`;
    }
    let key = this.privateKey;
    if (options.untrusted) {
      if (!this.rogue) this.rogue = (await jose.generateKeyPair(this.alg)).privateKey;
      key = this.rogue;
    }
    return new jose.SignJWT(full).setProtectedHeader(header).sign(key);
  }

  // Verify the signature of `token` against the trusted key; throws when it does not verify.
  async verifySignature(token) {
    return jose.compactVerify(token, this.keySet, { algorithms: [...SUPPORTED_ALGS] });
  }

  discovery() {
    return {
      issuer: this.issuer, jwks_uri: `${this.issuer}/jwks.json`, response_types_supported: ['id_token'],
      subject_types_supported: ['public'], id_token_signing_alg_values_supported: [this.alg],
    };
  }
}

const GITHUB_DEFAULTS = {
  issuer: GITHUB_ISSUER, owner: 'octo-org', repository: 'octo-org/octo-repo', ref: 'refs/heads/main',
  subject: 'repo:octo-org/octo-repo:ref:refs/heads/main', ttl: 300,
};
const AZURE_DEFAULTS = {
  organization: 'octo-org', project: 'octo-project', serviceConnection: 'octo-connection', ttl: 600,
};

// The GitHub Actions and Azure DevOps token services of one server. `record(source, secrets)` is
// the server's secrets recorder; options: {github: {...GITHUB_DEFAULTS}, azure: {...}}.
export class CiServices {
  constructor(idp, origin, options, record) {
    this.idp = idp;
    this.origin = origin;
    this.record = record;
    const orgId = crypto.randomUUID();
    this.github = {
      ...GITHUB_DEFAULTS, ...(options.github || {}),
      requestToken: options.github?.requestToken || crypto.randomBytes(32).toString('base64url'),
    };
    this.azure = {
      issuer: `https://vstoken.dev.azure.com/${orgId}`, organizationId: orgId, ...AZURE_DEFAULTS,
      ...(options.azure || {}),
      accessToken: options.azure?.accessToken || crypto.randomBytes(32).toString('base64url'),
    };
    if (!options.azure?.subject) {
      this.azure.subject = `sc://${this.azure.organization}/${this.azure.project}/${this.azure.serviceConnection}`;
    }
    this.azurePlan = crypto.randomUUID();
    this.azureJob = crypto.randomUUID();
    this.azureProjectId = crypto.randomUUID();
    record('ci request tokens', [
      { kind: 'ci_request_token', value: this.github.requestToken },
      { kind: 'ci_request_token', value: this.azure.accessToken }]);
  }

  get githubUrl() { return `${this.origin}/_ci/github/idtoken?kind=github&api-version=2.0`; }

  get azureUrl() {
    return `${this.origin}/_ci/azure/${this.azure.organization}/${this.azureProjectId}/_apis/distributedtask/`
      + `hubs/build/plans/${this.azurePlan}/jobs/${this.azureJob}/oidctoken`;
  }

  // Change what the services issue (GitHub: subject, issuer, ttl, owner, repository, ref, claims;
  // Azure: subject, issuer, ttl, claims). The request tokens stay.
  configure(patch = {}) {
    for (const kind of ['github', 'azure']) {
      if (!patch[kind]) continue;
      const { requestToken, accessToken, ...rest } = patch[kind];
      Object.assign(this[kind], rest);
    }
    return this.info();
  }

  info() {
    const { requestToken, ...github } = this.github;
    const { accessToken, ...azure } = this.azure;
    return {
      github: {
        ...github, url: this.githubUrl, requestToken,
        env: { ACTIONS_ID_TOKEN_REQUEST_URL: this.githubUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken },
      },
      azure: {
        ...azure, url: this.azureUrl, accessToken,
        env: { SYSTEM_OIDCREQUESTURI: this.azureUrl, SYSTEM_ACCESSTOKEN: accessToken },
      },
    };
  }

  // The request-log name of a path served here, or null.
  static endpointName(pathname) {
    if (pathname === '/_ci/github/idtoken') return 'ci_github';
    if (pathname.startsWith('/_ci/azure/') && pathname.endsWith('/oidctoken')) return 'ci_azure';
    return null;
  }

  // Answer a request to `url` (a path that endpointName named); `send(status, body, headers)`.
  async serve(req, url, send) {
    const kind = CiServices.endpointName(url.pathname);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization || '')?.[1];
    const challenge = { 'www-authenticate': 'Bearer' };
    if (kind === 'ci_github') {
      if (req.method !== 'GET') return send(405, { message: 'method not allowed' }, { allow: 'GET' });
      if (bearer !== this.github.requestToken) return send(401, { message: 'Bad credentials' }, challenge);
      const g = this.github;
      const audience = url.searchParams.get('audience') || `https://github.com/${g.owner}`;
      const now = epoch();
      const value = await this.idp.mint({
        iss: g.issuer, sub: g.subject, aud: audience, iat: now, nbf: now - 5, exp: now + g.ttl,
        ref: g.ref, ref_type: 'branch', repository: g.repository, repository_owner: g.owner,
        repository_visibility: 'private', event_name: 'push', workflow: 'CI', actor: 'octocat',
        run_id: '1234567890', run_number: '42', run_attempt: '1', runner_environment: 'github-hosted',
        sha: 'ffac537e6cbbf934b08745a378932722df287a53',
        job_workflow_ref: `${g.repository}/.github/workflows/ci.yml@${g.ref}`, ...(g.claims || {}),
      });
      this.record('ci github', [{ kind: 'identity_token', value }]);
      return send(200, { count: 1, value });
    }
    if (kind === 'ci_azure') {
      if (req.method !== 'POST') return send(405, { message: 'method not allowed' }, { allow: 'POST' });
      if (bearer !== this.azure.accessToken) return send(401, { message: 'Access denied' }, challenge);
      if (!url.searchParams.get('api-version')) {
        return send(400, { message: 'No api-version was supplied for the POST request.' });
      }
      const a = this.azure;
      const now = epoch();
      const value = await this.idp.mint({
        iss: a.issuer, sub: a.subject, aud: AZURE_AUDIENCE, iat: now, nbf: now - 5, exp: now + a.ttl,
        ...(a.claims || {}),
      });
      this.record('ci azure', [{ kind: 'identity_token', value }]);
      return send(200, { oidcToken: value });
    }
    return send(404, { message: 'not found' });
  }
}
