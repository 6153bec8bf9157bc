// The e2e authorization server: panva's oidc-provider 8.8.1, unmodified, on 127.0.0.1, with a
// protected resource, a request log and injected faults in front of it.
//
// Why: the end-to-end tests need a real authorization server that nobody on this project wrote,
// so that tokenctl is checked against someone else's reading of the RFCs (PKCE, RFC 9207 `iss`,
// refresh token rotation, client authentication). Everything the tests need beyond the provider
// lives in this thin front: the request log (what tokenctl actually sent), the fault table (what a
// broken server does), /api/whoami (proof that a token works) and the /__test/ hooks that drive
// them. The front reads each request body once, records it, and hands the bytes to the provider.
//
// Options (startTestServer; startServer in harness.mjs passes them through server-main.mjs):
//   tls (true), hostname ('127.0.0.1' | 'localhost', for the origin; it always listens on
//   127.0.0.1), port (0), issuerPath (''), accessTokenTTL (3600), clientCredentialsTTL (600),
//   refreshTokenTTL (14 days), idTokenTTL (3600), deviceCodeTTL (600), rotateRefreshToken (true |
//   false | 'default'), ciSecret, confidentialSecret: the usual issuer, as before.
//   shape: 'merchant' | 'marketing' (or an array): merchant (or marketing) plus discovery: false.
//   merchant: true | {accessTokenTTL (3600), refreshTokenTTL (1 year), secret}: the confidential
//     client `merchant-app`, client_secret_post ONLY at the token, revocation and introspection
//     endpoints (Basic: 401 invalid_client), code flow with PKCE and refresh; its token responses
//     carry refresh_token_expires_in (unless refreshExpiresIn says otherwise).
//   marketing: true | {accessTokenTTL (3600), secret}: `marketing-cc`, client credentials with
//     client_secret_post only and NO scope (any `scope` value: 400 invalid_scope).
//   discovery (true): false answers 404 at {issuer}/.well-known/openid-configuration and at every
//     /.well-known/oauth-authorization-server path.
//   refreshExpiresIn: 'refresh_token_expires_in' | 'refresh_expires_in' (Keycloak) | false |
//     undefined: the field added to every token response that carries a refresh token, with the
//     seconds that refresh token has left (undefined: only merchant-app's, as
//     refresh_token_expires_in; false: never).
//   databricks: true | {accountId, revocation (false)}: the Databricks workspace issuer {origin}/oidc
//     and account issuer {origin}/oidc/accounts/ACCOUNT_ID (/v1/authorize, /v1/token, metadata at
//     {issuer}/.well-known/oauth-authorization-server), clients `databricks-cli` (public, any
//     localhost port, no path), a service principal (client_secret_basic, client credentials,
//     scope all-apis) and a federation service principal (public, token exchange only); and
//     GET /api/2.0/preview/scim/v2/Me for workspace tokens.
//   tokenExchange: true | {policies, targets, ttl (3600)}: RFC 8693 at every issuer's token
//     endpoint (lib/token-exchange.mjs), clients `exchange-public` (public) and `exchange-app`
//     (confidential); `tokenctl`, `confidential-app` and `databricks-cli` may use the grant too.
//   ci: true | {github: {...}, azure: {...}}: the GitHub Actions and Azure DevOps identity-token
//     services (lib/ci-idp.mjs). idp: {alg: 'RS256' | 'ES256'}: the test identity provider (made
//     whenever tokenExchange or ci is on).
//   extraClients: [client metadata (+ optional `mount`)]: more clients at start (e.g.
//     private_key_jwt with `jwks`); POST /__test/clients adds them at run time.
//   assertionMaxLifetime: refuse client assertions whose exp - iat exceeds this (seconds).
//   resources: true | {URI: {scope, accessTokenFormat: 'opaque' | 'jwt', accessTokenTTL}}: RFC 8707
//     resource servers (true: https://api.example.test/ opaque and https://jwt-api.example.test/
//     JWT); grantResources (true): every authorization grants them all, so that a refresh may ask
//     for any of them.
//   hang: [paths]: these paths never answer (the `hang` fault, re-armed by /__test/reset).
//
// What oidc-provider 8.8.1 cannot do, and this front therefore emulates:
//  - client_secret_post ONLY: oidc-provider treats client_secret_basic and client_secret_post as
//    one method (lib/shared/token_auth.js gives a request either form and accepts both), so the
//    front refuses HTTP Basic for merchant-app and marketing-cc with 401 invalid_client, as RFC
//    6749 section 5.2 describes for a failed client authentication.
//  - no scope for marketing-cc: oidc-provider's client_credentials grant accepts every scope of the
//    server for a client without `scope` metadata (and answers 200 to unknown ones, dropping
//    them); the front answers 400 invalid_scope (RFC 6749 section 5.2) when marketing-cc,
//    correctly authenticated, asks for any scope.
//  - no discovery (discovery: false): the front answers 404 in place of the provider.
//  - refresh_token_expires_in / refresh_expires_in: not in oidc-provider's token response; a Koa
//    middleware (provider.use) adds it from the refresh token's stored expiry.
//  - Databricks' metadata path {issuer}/.well-known/oauth-authorization-server: oidc-provider only
//    serves /.well-known/openid-configuration; the front serves that document at both paths.
//  - token exchange without client_id (Databricks account-wide federation, RFC 8693 section 2.1:
//    client authentication is optional): oidc-provider's token endpoint needs a client, so the
//    front adds client_id=exchange-public (a public client) to such requests; the log keeps the
//    request as received and says so in `injected`.
//  - the grant itself (RFC 8693) is our handler, registered with provider.registerGrantType.
//  - SCIM /Me, the CI token services and the identity provider are the front's own.
//
// Test hooks (plain JSON, at the server's root, not below the issuer path): GET /__test/requests
// [?endpoint=E], POST /__test/reset, POST /__test/fault, POST /__test/clients {client, mount},
// POST /__test/idp/mint {claims, options}, POST /__test/token-exchange {policies, targets, ttl},
// POST /__test/ci {github, azure}, GET /__test/info. See tests/e2e/README.md, "The server".

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jose from 'jose';

import { FaultTable, parseFault } from './faults.mjs';
import { createTestPki } from './tls.mjs';
import {
  DATABRICKS_REDIRECTS, DATABRICKS_ROUTES, DATABRICKS_SCOPES, DEFAULT_ROUTES, DEVICE_GRANT,
  EXCHANGE_PUBLIC_CLIENT, LOOPBACK_REDIRECTS, MAIN_SCOPES, Mount, PROVIDER_PUBLIC_JWKS,
  TOKEN_EXCHANGE_GRANT, resourceTable,
} from './server-mounts.mjs';
import { TokenExchange } from './token-exchange.mjs';
import {
  AZURE_AUDIENCE, CiServices, DEFAULT_AUDIENCE, GITHUB_ISSUER, TestIdp,
} from './ci-idp.mjs';

const MAX_BODY = 1024 * 1024;
const MAX_RECORDED_RESPONSE = 64 * 1024;
// Endpoints whose answers the request log keeps (as `response`), so that tests know every token
// the server issued and can check that tokenctl never prints one where it must not.
const RESPONSE_RECORDED = new Set(['token', 'revocation', 'introspection', 'device_authorization']);
// Endpoints where clients authenticate (client_secret_post strictness, client assertions).
const CLIENT_AUTH_ENDPOINTS = new Set(['token', 'revocation', 'introspection', 'device_authorization']);
// The secrets recorder (see tests/e2e/secrets-scan.mjs): when TOKENCTL_E2E_RECORD names a folder,
// every token, device code and client secret this server hands out is appended at once to
// RECORD/issued-PID.jsonl, so that a server that crashes or is killed loses none of them.
const RECORD_DIR = process.env.TOKENCTL_E2E_RECORD || null;
const ISSUED_FIELDS = ['access_token', 'refresh_token', 'id_token', 'device_code'];
export const SCIM_ME = '/api/2.0/preview/scim/v2/Me';
const SCIM_SCHEMAS = ['urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:ietf:params:scim:schemas:extension:workspace:2.0:User'];
const YEAR = 365 * 24 * 3600;
const REFRESH_EXPIRY_FIELDS = new Set(['refresh_token_expires_in', 'refresh_expires_in']);

const DEFAULTS = {
  tls: true, hostname: '127.0.0.1', port: 0, issuerPath: '', accessTokenTTL: 3600,
  clientCredentialsTTL: 600, refreshTokenTTL: 14 * 24 * 3600, idTokenTTL: 3600,
  deviceCodeTTL: 600, rotateRefreshToken: true, ciSecret: undefined,
  confidentialSecret: undefined, shape: undefined, merchant: false, marketing: false,
  discovery: true, refreshExpiresIn: undefined, databricks: false, tokenExchange: false, ci: false,
  idp: undefined, extraClients: [], assertionMaxLifetime: undefined, resources: undefined,
  grantResources: true, hang: [],
};

const epoch = () => Math.floor(Date.now() / 1000);
const secret = () => crypto.randomBytes(24).toString('base64url');
const first = (v) => (Array.isArray(v) ? v[0] : v);

// Options with the shapes expanded and checked.
function normalise(options) {
  const opts = { ...DEFAULTS, ...options };
  for (const shape of [].concat(opts.shape ?? [])) {
    if (shape !== 'merchant' && shape !== 'marketing') throw new Error(`unknown shape ${shape}`);
    if (!opts[shape]) opts[shape] = true;
    if (options.discovery === undefined) opts.discovery = false;
  }
  if (opts.refreshExpiresIn !== undefined && opts.refreshExpiresIn !== false
    && !REFRESH_EXPIRY_FIELDS.has(opts.refreshExpiresIn)) {
    throw new Error(`refreshExpiresIn must be one of ${[...REFRESH_EXPIRY_FIELDS].join(', ')}, false or undefined`);
  }
  if (opts.issuerPath && !opts.issuerPath.startsWith('/')) throw new Error('issuerPath must start with "/"');
  if (opts.databricks && /^\/oidc(\/|$)/.test(opts.issuerPath)) throw new Error('issuerPath /oidc is the Databricks issuer');
  return opts;
}

function multiMap(searchParams) {
  const out = {};
  for (const [key, value] of searchParams) {
    if (!(key in out)) out[key] = value;
    else out[key] = [].concat(out[key], value);
  }
  return out;
}

function decodeAuthorization(header) {
  if (!header) return null;
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme.toLowerCase() !== 'basic') return { scheme, value };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme, value, user: decoded, password: null };
  return { scheme, value, user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// A Basic user name as the client wrote it (RFC 6749 section 2.3.1: form-urlencoded).
function formDecode(text) {
  try {
    return decodeURIComponent(String(text).replace(/\+/g, '%20'));
  } catch {
    return String(text);
  }
}

// The header and claims of a client assertion (RFC 7523), for the request log.
function decodeAssertion(jwt) {
  try {
    const header = jose.decodeProtectedHeader(jwt);
    const claims = jose.decodeJwt(jwt);
    return {
      header, claims, alg: header.alg, kid: header.kid, iss: claims.iss, sub: claims.sub,
      aud: claims.aud, jti: claims.jti, iat: claims.iat, exp: claims.exp,
      lifetime: typeof claims.exp === 'number' && typeof claims.iat === 'number' ? claims.exp - claims.iat : null,
    };
  } catch (err) {
    return { error: `not a JWT: ${err.message}` };
  }
}

// Keep a copy of what the provider writes to `res` in entry.response (text, at most 64 KiB), and
// record the tokens of token and device authorization responses of `issuer`.
function recordResponse(res, entry, issuer) {
  const chunks = [];
  let size = 0;
  const keep = (chunk, encoding) => {
    if (!chunk || typeof chunk === 'function' || size >= MAX_RECORDED_RESPONSE) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk
      : Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
    chunks.push(bytes);
    size += bytes.length;
  };
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (chunk, ...rest) => {
    keep(chunk, rest[0]);
    return write(chunk, ...rest);
  };
  res.end = (chunk, ...rest) => {
    keep(chunk, rest[0]);
    entry.response = Buffer.concat(chunks).toString('utf8').slice(0, MAX_RECORDED_RESPONSE);
    if (entry.endpoint === 'token' || entry.endpoint === 'device_authorization') {
      recordIssued(issuer, `${entry.endpoint} ${entry.params?.grant_type || ''}`.trim(), issuedIn(entry.response));
    }
    return end(chunk, ...rest);
  };
}

// Append the secrets of one issuance ([{kind, value}]) to the record (nothing when not recording).
export function recordIssued(issuer, source, secrets) {
  if (!RECORD_DIR || secrets.length === 0) return;
  fs.mkdirSync(RECORD_DIR, { recursive: true });
  fs.appendFileSync(path.join(RECORD_DIR, `issued-${process.pid}.jsonl`),
    `${JSON.stringify({ issuer, source, time: Date.now(), secrets })}\n`);
}

// The tokens (and device code) in a token or device authorization response text.
function issuedIn(responseText) {
  let body;
  try {
    body = JSON.parse(responseText);
  } catch {
    return [];
  }
  if (!body || typeof body !== 'object') return [];
  return ISSUED_FIELDS.filter((k) => typeof body[k] === 'string' && body[k])
    .map((k) => ({ kind: k, value: body[k] }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// A Databricks-like numeric identifier (a string of 16 digits) derived from `text`.
function numericId(text) {
  const n = BigInt(`0x${crypto.createHash('sha256').update(text).digest('hex').slice(0, 13)}`);
  return (1000000000000000n + (n % 8999999999999999n)).toString();
}

function capitalise(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

class TestServer {
  constructor(opts, server, origin, pki, dir) {
    this.opts = opts;
    this.server = server;
    this.origin = origin;
    this.issuerPath = opts.issuerPath.replace(/\/+$/, '');
    this.issuer = origin + this.issuerPath;
    this.port = server.address().port;
    this.ca = pki ? pki.caPath : null;
    this.dir = dir;
    this.ciSecret = opts.ciSecret || secret();
    this.confidentialSecret = opts.confidentialSecret || secret();
    this.faults = new FaultTable();
    this.log = [];
    this.seq = 0;
    this.providerKeys = jose.createLocalJWKSet(PROVIDER_PUBLIC_JWKS);
  }

  // The parts that need awaiting: the identity provider's keys, the mounts, the extra clients.
  async init() {
    const { opts } = this;
    const secrets = [{ kind: 'client_secret', value: this.ciSecret },
      { kind: 'client_secret', value: this.confidentialSecret }];
    if (opts.tokenExchange || opts.ci || opts.idp) {
      this.idp = await TestIdp.create({ issuer: `${this.origin}/idp`, alg: opts.idp?.alg });
      if (opts.ci) {
        this.ci = new CiServices(this.idp, this.origin, opts.ci === true ? {} : opts.ci,
          (source, list) => recordIssued(this.issuer, source, list));
      }
    }
    if (opts.tokenExchange) {
      const te = opts.tokenExchange === true ? {} : opts.tokenExchange;
      this.tokenExchange = new TokenExchange(this, te);
      this.exchangeSecret = secret();
      secrets.push({ kind: 'client_secret', value: this.exchangeSecret });
    }
    if (opts.merchant) {
      const m = opts.merchant === true ? {} : opts.merchant;
      this.merchant = {
        clientId: 'merchant-app', secret: m.secret || secret(), accessTokenTTL: m.accessTokenTTL || 3600,
        refreshTokenTTL: m.refreshTokenTTL || YEAR,
      };
      secrets.push({ kind: 'client_secret', value: this.merchant.secret });
    }
    if (opts.marketing) {
      const m = opts.marketing === true ? {} : opts.marketing;
      this.marketing = { clientId: 'marketing-cc', secret: m.secret || secret(), accessTokenTTL: m.accessTokenTTL || 3600 };
      secrets.push({ kind: 'client_secret', value: this.marketing.secret });
    }
    if (opts.databricks) {
      const d = opts.databricks === true ? {} : opts.databricks;
      this.databricks = {
        accountId: d.accountId || crypto.randomUUID(), revocation: Boolean(d.revocation),
        sp: { clientId: crypto.randomUUID(), secret: secret() }, federationClientId: crypto.randomUUID(),
      };
      secrets.push({ kind: 'client_secret', value: this.databricks.sp.secret });
    }
    recordIssued(this.issuer, 'client secrets', secrets);

    const hooks = {
      extraTokenClaims: (token) => this.tokenExchange?.extraClaims(token),
      use: (mount) => this.refreshExpiryMiddleware(mount),
    };
    const extra = (name) => (opts.extraClients || []).filter((c) => (c.mount || 'main') === name)
      .map(({ mount, ...c }) => c);
    this.main = new Mount({
      name: 'main', prefix: this.issuerPath, origin: this.origin, routes: DEFAULT_ROUTES,
      scopes: MAIN_SCOPES, clients: [...this.mainClients(), ...extra('main')],
      clientTtls: this.mainClientTtls(), resources: resourceTable(opts.resources),
      discovery: opts.discovery, tokenExchange: this.tokenExchange,
    }, opts, hooks);
    this.main.strict = this.strictRules();
    this.mounts = [this.main];
    if (this.databricks) {
      const common = {
        origin: this.origin, routes: DATABRICKS_ROUTES, scopes: DATABRICKS_SCOPES, metadataAlias: true,
        deviceFlow: false, revocation: this.databricks.revocation, tokenExchange: this.tokenExchange,
      };
      this.databricks.workspace = new Mount({
        ...common, name: 'databricks-workspace', prefix: '/oidc', cookieSuffix: '_dbw',
        clients: [...this.databricksClients(), ...extra('databricks-workspace')],
      }, opts, hooks);
      this.databricks.account = new Mount({
        ...common, name: 'databricks-account', prefix: `/oidc/accounts/${this.databricks.accountId}`,
        cookieSuffix: '_dba', clients: [...this.databricksClients(), ...extra('databricks-account')],
      }, opts, hooks);
      this.mounts.push(this.databricks.workspace, this.databricks.account);
    }
    // Longest prefix first: the account issuer is below the workspace one.
    this.routing = [...this.mounts].sort((a, b) => b.prefix.length - a.prefix.length);
    if (this.tokenExchange && this.tokenExchange.policies === null) {
      this.tokenExchange.configure({ policies: this.defaultPolicies() });
    }
    for (const client of opts.extraClients || []) {
      const mount = this.mountByName(client.mount || 'main');
      if (!mount) throw new Error(`extraClients: no mount ${client.mount}`);
      try {
        await mount.provider.Client.find(client.client_id);
      } catch (err) {
        throw new Error(`extraClients: client ${client.client_id}: ${err.error_description || err.message}`);
      }
      if (client.client_secret) recordIssued(this.issuer, 'client secrets', [{ kind: 'client_secret', value: client.client_secret }]);
    }
    this.armPersistentFaults();
    this.server.on('request', (req, res) => {
      this.handle(req, res).catch((err) => {
        console.error('test server:', err);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err.message) });
        else res.destroy();
      });
    });
    return this;
  }

  mainClients() {
    const te = Boolean(this.tokenExchange);
    const withTe = (grants) => (te ? [...grants, TOKEN_EXCHANGE_GRANT] : grants);
    const clients = [{
      client_id: 'tokenctl', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: withTe(['authorization_code', 'refresh_token', DEVICE_GRANT]),
      response_types: ['code'], redirect_uris: LOOPBACK_REDIRECTS,
    }, {
      client_id: 'ci-runner', client_secret: this.ciSecret, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api',
    }, {
      client_id: 'confidential-app', client_secret: this.confidentialSecret, application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: withTe(['authorization_code', 'refresh_token']), response_types: ['code'],
      redirect_uris: LOOPBACK_REDIRECTS,
    }];
    if (this.merchant) {
      clients.push({
        client_id: this.merchant.clientId, client_secret: this.merchant.secret, application_type: 'native',
        token_endpoint_auth_method: 'client_secret_post', grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], redirect_uris: LOOPBACK_REDIRECTS,
      });
    }
    if (this.marketing) {
      clients.push({
        client_id: this.marketing.clientId, client_secret: this.marketing.secret,
        token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'],
        response_types: [], redirect_uris: [],
      });
    }
    if (te) clients.push(...this.exchangeClients(true));
    return clients;
  }

  exchangeClients(confidential) {
    const out = [{
      client_id: EXCHANGE_PUBLIC_CLIENT, token_endpoint_auth_method: 'none',
      grant_types: [TOKEN_EXCHANGE_GRANT], response_types: [], redirect_uris: [],
    }];
    if (confidential) {
      out.push({
        client_id: 'exchange-app', client_secret: this.exchangeSecret, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [TOKEN_EXCHANGE_GRANT], response_types: [], redirect_uris: [],
      });
    }
    return out;
  }

  databricksClients() {
    const te = Boolean(this.tokenExchange);
    const clients = [{
      client_id: 'databricks-cli', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', ...(te ? [TOKEN_EXCHANGE_GRANT] : [])],
      response_types: ['code'], redirect_uris: DATABRICKS_REDIRECTS,
    }, {
      client_id: this.databricks.sp.clientId, client_secret: this.databricks.sp.secret,
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [], scope: 'all-apis',
    }];
    if (te) {
      clients.push({
        client_id: this.databricks.federationClientId, token_endpoint_auth_method: 'none',
        grant_types: [TOKEN_EXCHANGE_GRANT], response_types: [], redirect_uris: [],
      }, ...this.exchangeClients(false));
    }
    return clients;
  }

  mainClientTtls() {
    const ttls = {};
    if (this.merchant) {
      ttls[this.merchant.clientId] = { AccessToken: this.merchant.accessTokenTTL, RefreshToken: this.merchant.refreshTokenTTL };
    }
    if (this.marketing) ttls[this.marketing.clientId] = { ClientCredentials: this.marketing.accessTokenTTL };
    return ttls;
  }

  // Front-side client rules (see "emulates" at the top): clientId -> {method, scopes, secret}.
  strictRules() {
    const rules = new Map();
    if (this.merchant) rules.set(this.merchant.clientId, { method: 'client_secret_post', secret: this.merchant.secret });
    if (this.marketing) {
      rules.set(this.marketing.clientId, { method: 'client_secret_post', scopes: [], secret: this.marketing.secret });
    }
    return rules;
  }

  defaultPolicies() {
    const issuers = [this.idp.issuer, this.ci?.github.issuer || GITHUB_ISSUER];
    if (this.ci) issuers.push(this.ci.azure.issuer);
    const audiences = [DEFAULT_AUDIENCE, AZURE_AUDIENCE, ...this.issuers(),
      ...this.mounts.map((m) => m.url('token'))];
    if (this.databricks) audiences.push(this.databricks.accountId);
    const policies = [{ name: 'default', issuers, audiences }];
    if (this.databricks) {
      policies.push({ name: 'databricks-service-principal', clientId: this.databricks.federationClientId, issuers, audiences });
    }
    return policies;
  }

  issuers() {
    return this.mounts.map((m) => m.issuer);
  }

  mountByName(name) {
    return this.mounts.find((m) => m.name === name);
  }

  // The field name for the refresh token's time left in `clientId`'s token responses, or null.
  refreshExpiryField(clientId) {
    const { refreshExpiresIn } = this.opts;
    if (refreshExpiresIn === false) return null;
    if (refreshExpiresIn) return refreshExpiresIn;
    if (this.merchant && clientId === this.merchant.clientId) return 'refresh_token_expires_in';
    return null;
  }

  // Koa middleware (provider.use) that adds the refresh token's seconds left to token responses.
  refreshExpiryMiddleware(mount) {
    return async (ctx, next) => {
      await next();
      if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
      const body = ctx.body;
      if (!body || typeof body !== 'object' || typeof body.refresh_token !== 'string') return;
      const field = this.refreshExpiryField(ctx.oidc.client?.clientId);
      if (!field) return;
      const rt = await mount.provider.RefreshToken.find(body.refresh_token);
      if (rt?.exp) ctx.body = { ...body, [field]: Math.max(0, rt.exp - epoch()) };
    };
  }

  armPersistentFaults() {
    for (const p of this.opts.hang || []) this.faults.arm(parseFault({ path: p, mode: 'hang', count: 1e9 }));
  }

  // {mount, rel}: the issuer a path belongs to and the path below it (mount null: none).
  route(pathname) {
    for (const mount of this.routing) {
      const rel = mount.relativePath(pathname);
      if (rel !== null) return { mount, rel };
    }
    return { mount: null, rel: null };
  }

  // Request-log names of the paths the front answers itself, or null.
  specialEndpoint(pathname) {
    if (pathname === '/api/whoami') return 'whoami';
    if (pathname === '/__test/redirected') return 'redirected';
    if (this.databricks && pathname === SCIM_ME) return 'scim_me';
    if (this.ci) {
      const name = CiServices.endpointName(pathname);
      if (name) return name;
    }
    if (this.idp && pathname === '/idp/jwks.json') return 'idp_jwks';
    if (this.idp && pathname === '/idp/.well-known/openid-configuration') return 'idp_discovery';
    return null;
  }

  record(req, url, mount, rel, body) {
    const special = this.specialEndpoint(url.pathname);
    let endpoint = 'other';
    if (special) endpoint = special;
    else if (mount) endpoint = mount.endpointName(rel);
    const type = String(req.headers['content-type'] || '');
    const entry = {
      seq: ++this.seq, time: Date.now(), method: req.method, path: url.pathname, endpoint,
      mount: !special && mount ? mount.name : null,
      query: multiMap(url.searchParams), contentType: type || null,
      params: type.startsWith('application/x-www-form-urlencoded')
        ? multiMap(new URLSearchParams(body.toString('utf8'))) : {},
      body: body.toString('utf8'), authorization: decodeAuthorization(req.headers.authorization),
      userAgent: req.headers['user-agent'] || null, fault: null, status: null, response: null,
    };
    this.log.push(entry);
    return entry;
  }

  async handle(req, res) {
    const url = new URL(req.url, this.origin);
    if (url.pathname.startsWith('/__test/') && url.pathname !== '/__test/redirected') {
      return this.hook(req, res, url);
    }
    let body = await readBody(req);
    const { mount, rel } = this.route(url.pathname);
    const entry = this.record(req, url, mount, rel, body);
    res.on('finish', () => { entry.status = res.statusCode; });
    const fault = this.faults.take(rel === null ? [url.pathname] : [url.pathname, rel]);
    if (fault) {
      entry.fault = fault.mode;
      return this.faults.serve(fault, res, this.origin);
    }
    switch (this.specialEndpoint(url.pathname)) {
      case 'whoami': return this.whoami(req, res);
      case 'redirected': return sendJson(res, 400, { error: 'invalid_request', error_description: 'followed a redirect' });
      case 'scim_me': return this.scimMe(req, res);
      case 'ci_github': case 'ci_azure':
        return this.ci.serve(req, url, (status, json, headers) => sendJson(res, status, json, headers));
      case 'idp_jwks': return sendJson(res, 200, this.idp.jwks);
      case 'idp_discovery': return sendJson(res, 200, this.idp.discovery());
      default: break;
    }
    const notFound = () => sendJson(res, 404, { error: 'not_found', error_description: `no such path: ${url.pathname}` });
    if (!mount) return notFound();
    if (!mount.discovery && (rel === '/.well-known/openid-configuration'
      || url.pathname.startsWith('/.well-known/oauth-authorization-server'))) {
      return notFound();
    }
    let target = rel;
    if (mount.metadataAlias && rel === '/.well-known/oauth-authorization-server') {
      target = '/.well-known/openid-configuration';
    }
    if (CLIENT_AUTH_ENDPOINTS.has(entry.endpoint)) {
      const refusal = this.strictCheck(mount, entry);
      if (refusal) return sendJson(res, ...refusal);
      const assertion = first(entry.params.client_assertion);
      if (typeof assertion === 'string' && assertion) {
        entry.clientAssertion = decodeAssertion(assertion);
        recordIssued(mount.issuer, `client_assertion ${entry.endpoint}`, [{ kind: 'client_assertion', value: assertion }]);
      }
      if (mount.tokenExchange && entry.endpoint === 'token'
        && first(entry.params.grant_type) === TOKEN_EXCHANGE_GRANT && entry.params.client_id === undefined
        && entry.params.client_assertion === undefined && !req.headers.authorization
        && entry.contentType?.startsWith('application/x-www-form-urlencoded')) {
        body = Buffer.concat([body, Buffer.from(`${body.length ? '&' : ''}client_id=${EXCHANGE_PUBLIC_CLIENT}`)]);
        entry.injected = { client_id: EXCHANGE_PUBLIC_CLIENT };
      }
    }
    if (mount.prefix || target !== rel) {
      req.originalUrl = mount.prefix + target + url.search;
      req.url = target + url.search;
    }
    req.body = body;
    if (RESPONSE_RECORDED.has(entry.endpoint)) recordResponse(res, entry, mount.issuer);
    return mount.callback(req, res);
  }

  // The front's client rules for a request at a client-authentication endpoint: null to pass it
  // on, or [status, json, headers] to answer.
  strictCheck(mount, entry) {
    if (!mount.strict?.size) return null;
    const auth = entry.authorization;
    const basicId = auth && auth.scheme.toLowerCase() === 'basic' ? formDecode(auth.user) : undefined;
    const clientId = basicId ?? first(entry.params.client_id);
    const rule = mount.strict.get(clientId);
    if (!rule) return null;
    if (basicId !== undefined && rule.method === 'client_secret_post') {
      return [401, {
        error: 'invalid_client',
        error_description: `client ${clientId} must authenticate with client_secret_post; HTTP Basic is not accepted`,
      }, { 'www-authenticate': `Basic realm="${mount.issuer}", error="invalid_client"` }];
    }
    if (entry.endpoint === 'token' && rule.scopes && first(entry.params.client_secret) === rule.secret) {
      const asked = String(first(entry.params.scope) ?? '').split(' ').filter(Boolean);
      const bad = asked.filter((s) => !rule.scopes.includes(s));
      if (bad.length) {
        return [400, {
          error: 'invalid_scope',
          error_description: `requested scope is not allowed for client ${clientId}: ${bad.join(' ')}`,
        }];
      }
    }
    return null;
  }

  // The access token `value` of any issuer here: {mount, kind, format, sub, clientId, scope, exp,
  // aud, extra, gty}, or undefined (unknown, expired, revoked, or a JWT that does not verify).
  async resolveToken(value) {
    if (typeof value !== 'string' || !value) return undefined;
    if (value.split('.').length === 3) {
      try {
        const header = jose.decodeProtectedHeader(value);
        const claims = jose.decodeJwt(value);
        const mount = this.mounts.find((m) => m.issuer === claims.iss);
        if (!mount || header.typ !== 'at+jwt') return undefined;
        await jose.compactVerify(value, this.providerKeys);
        if (typeof claims.exp !== 'number' || claims.exp <= epoch()) return undefined;
        return {
          mount, kind: 'AccessToken', format: 'jwt', sub: claims.sub ?? null, clientId: claims.client_id,
          scope: claims.scope || '', exp: claims.exp, aud: claims.aud, extra: undefined, gty: undefined,
        };
      } catch {
        return undefined;
      }
    }
    for (const mount of this.mounts) {
      const token = await mount.findOpaque(value);
      if (token) {
        return {
          mount, kind: token.kind, format: 'opaque', sub: token.accountId || null, clientId: token.clientId,
          scope: token.scope || '', exp: token.exp, aud: token.aud, extra: token.extra, gty: token.gty,
        };
      }
    }
    return undefined;
  }

  // The bearer token of a request: Authorization Bearer, or Basic with the token as password.
  static presented(req) {
    const auth = decodeAuthorization(req.headers.authorization);
    let value;
    if (auth && auth.scheme.toLowerCase() === 'bearer') value = auth.value;
    else if (auth && auth.scheme.toLowerCase() === 'basic') value = auth.password;
    return { auth, value };
  }

  async whoami(req, res) {
    const { auth, value } = TestServer.presented(req);
    const challenge = { 'www-authenticate': 'Bearer realm="tokenctl-e2e"' };
    if (!value) return sendJson(res, 401, { error: 'invalid_request', error_description: 'no access token' }, challenge);
    const token = await this.resolveToken(value);
    if (!token) return sendJson(res, 401, { error: 'invalid_token', error_description: 'unknown or expired token' }, challenge);
    return sendJson(res, 200, {
      sub: token.sub, client_id: token.clientId, scope: token.scope,
      kind: token.kind, exp: token.exp, auth: auth.scheme.toLowerCase(),
      basic_user: auth.scheme.toLowerCase() === 'basic' ? auth.user : undefined,
      iss: token.mount.issuer, aud: token.aud,
      format: token.format === 'jwt' ? 'jwt' : undefined,
      token_exchange: token.extra?.token_exchange,
    });
  }

  // GET /api/2.0/preview/scim/v2/Me: the SCIM user of a workspace token, in the shape of the
  // Databricks SDKs' iam.User (id, userName, displayName, name, emails, active, groups,
  // entitlements, schemas). A service principal (client credentials, or a token exchanged for a
  // federation service principal) answers with its application id as userName.
  async scimMe(req, res) {
    const { value } = TestServer.presented(req);
    const challenge = { 'www-authenticate': 'Bearer realm="databricks"' };
    if (!value) {
      return sendJson(res, 401, { error_code: 'UNAUTHENTICATED', message: 'Credential was not sent or was of an unsupported type for this API.' }, challenge);
    }
    const token = await this.resolveToken(value);
    if (!token || token.mount !== this.databricks.workspace) {
      return sendJson(res, 401, { error_code: 'UNAUTHENTICATED', message: 'Invalid access token.' }, challenge);
    }
    const servicePrincipal = token.kind === 'ClientCredentials'
      || token.clientId === this.databricks.federationClientId || !token.sub;
    const groups = [{ display: 'users', type: 'direct', value: numericId('group users'), $ref: `Groups/${numericId('group users')}` }];
    const entitlements = [{ value: 'workspace-access' }, { value: 'databricks-sql-access' }];
    if (servicePrincipal) {
      return sendJson(res, 200, {
        id: numericId(`sp ${token.clientId}`), userName: token.clientId,
        displayName: 'tokenctl e2e service principal', active: true, schemas: SCIM_SCHEMAS, groups, entitlements,
      });
    }
    const person = /^[a-z][a-z0-9._-]*$/i.test(token.sub);
    const userName = person ? `${token.sub}@example.test` : token.sub;
    return sendJson(res, 200, {
      id: numericId(`user ${token.sub}`), userName,
      displayName: person ? `${capitalise(token.sub)} Example` : token.sub,
      ...(person ? { name: { givenName: capitalise(token.sub), familyName: 'Example' } } : {}),
      emails: person || userName.includes('@') ? [{ type: 'work', value: userName, primary: true }] : [],
      active: true, schemas: SCIM_SCHEMAS, groups, entitlements,
    });
  }

  async hook(req, res, url) {
    const route = `${req.method} ${url.pathname}`;
    const readJson = async () => {
      const text = (await readBody(req)).toString('utf8');
      return text ? JSON.parse(text) : {};
    };
    const bad = (err) => sendJson(res, 400, {
      error: err.error || 'invalid_request', error_description: err.error_description || err.message,
    });
    if (route === 'GET /__test/requests') {
      const endpoint = url.searchParams.get('endpoint');
      return sendJson(res, 200, endpoint ? this.log.filter((e) => e.endpoint === endpoint) : this.log);
    }
    if (route === 'GET /__test/info') return sendJson(res, 200, this.info());
    if (route === 'POST /__test/reset') {
      await readBody(req);
      this.log = [];
      this.faults.reset();
      this.armPersistentFaults();
      return sendJson(res, 200, { ok: true });
    }
    if (route === 'POST /__test/fault') {
      let fault;
      try {
        fault = parseFault(JSON.parse((await readBody(req)).toString('utf8')));
      } catch (err) {
        return sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
      }
      this.faults.arm(fault);
      return sendJson(res, 200, { ok: true, fault });
    }
    if (route === 'POST /__test/clients') {
      try {
        const { client, mount: name = 'main' } = await readJson();
        const mount = this.mountByName(name);
        if (!mount) throw new Error(`no mount ${name} (have ${this.mounts.map((m) => m.name).join(', ')})`);
        await mount.addClient(client);
        if (client.client_secret) recordIssued(mount.issuer, 'client secrets', [{ kind: 'client_secret', value: client.client_secret }]);
        return sendJson(res, 200, { ok: true, client_id: client.client_id, mount: name, token_endpoint: mount.url('token') });
      } catch (err) {
        return bad(err);
      }
    }
    if (route === 'POST /__test/idp/mint') {
      if (!this.idp) return sendJson(res, 404, { error: 'not_found', error_description: 'no identity provider: start with tokenExchange, ci or idp' });
      try {
        const { claims, options } = await readJson();
        const token = await this.idp.mint(claims || {}, options || {});
        recordIssued(this.idp.issuer, 'idp mint', [{ kind: 'identity_token', value: token }]);
        return sendJson(res, 200, { token });
      } catch (err) {
        return bad(err);
      }
    }
    if (route === 'POST /__test/token-exchange') {
      if (!this.tokenExchange) return sendJson(res, 404, { error: 'not_found', error_description: 'start with tokenExchange' });
      try {
        return sendJson(res, 200, this.tokenExchange.configure(await readJson()));
      } catch (err) {
        return bad(err);
      }
    }
    if (route === 'POST /__test/ci') {
      if (!this.ci) return sendJson(res, 404, { error: 'not_found', error_description: 'start with ci' });
      try {
        return sendJson(res, 200, this.ci.configure(await readJson()));
      } catch (err) {
        return bad(err);
      }
    }
    return sendJson(res, 404, { error: 'not_found', error_description: `no test hook ${route}` });
  }

  // What server-main prints after READY and what the harness reads.
  info() {
    const out = {
      issuer: this.issuer, origin: this.origin, port: this.port, ca: this.ca,
      ciSecret: this.ciSecret, confidentialSecret: this.confidentialSecret,
      endpoints: this.main.urls(), discovery: this.main.discovery,
      refreshExpiresIn: this.opts.refreshExpiresIn ?? null,
    };
    const urls = this.main.urls();
    if (this.merchant) {
      out.merchant = {
        clientId: this.merchant.clientId, secret: this.merchant.secret, authMethod: 'client_secret_post',
        authorizationEndpoint: urls.authorization_endpoint, tokenEndpoint: urls.token_endpoint,
        revocationEndpoint: urls.revocation_endpoint, introspectionEndpoint: urls.introspection_endpoint,
        accessTokenTTL: this.merchant.accessTokenTTL, refreshTokenTTL: this.merchant.refreshTokenTTL,
        refreshExpiryField: this.refreshExpiryField(this.merchant.clientId),
      };
    }
    if (this.marketing) {
      out.marketing = {
        clientId: this.marketing.clientId, secret: this.marketing.secret, authMethod: 'client_secret_post',
        tokenEndpoint: urls.token_endpoint, accessTokenTTL: this.marketing.accessTokenTTL,
      };
    }
    if (this.databricks) {
      const d = this.databricks;
      out.databricks = {
        host: this.origin, accountId: d.accountId, workspace: d.workspace.urls(), account: d.account.urls(),
        cliClientId: 'databricks-cli', defaultRedirectUri: 'http://localhost:8020',
        scopes: DATABRICKS_SCOPES, servicePrincipal: { ...d.sp },
        federationClientId: this.tokenExchange ? d.federationClientId : undefined,
        scimMeUrl: this.origin + SCIM_ME,
      };
    }
    if (this.tokenExchange) {
      out.tokenExchange = {
        ...this.tokenExchange.info(), publicClientId: EXCHANGE_PUBLIC_CLIENT,
        confidentialClientId: 'exchange-app', confidentialSecret: this.exchangeSecret,
        defaultAudience: DEFAULT_AUDIENCE,
      };
    }
    if (this.idp) out.idp = { issuer: this.idp.issuer, jwks: this.idp.jwks, jwksUri: `${this.idp.issuer}/jwks.json`, alg: this.idp.alg };
    if (this.ci) out.ci = this.ci.info();
    if (this.main.resources) out.resources = this.main.resources;
    return out;
  }

  // Stop listening, drop every connection (hung ones included) and remove the certificates.
  async close() {
    this.faults.reset();
    const closed = new Promise((resolve) => { this.server.close(() => resolve()); });
    this.server.closeAllConnections?.();
    await closed;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Start the server on 127.0.0.1; options as in DEFAULTS and at the top of this file. Resolves to a
// TestServer once listening.
export async function startTestServer(options = {}) {
  const opts = normalise(options);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-server-'));
  let server;
  try {
    const pki = opts.tls ? createTestPki(dir) : null;
    server = pki
      ? https.createServer({ cert: fs.readFileSync(pki.certPath), key: fs.readFileSync(pki.keyPath) })
      : http.createServer();
    await listen(server, opts.port, '127.0.0.1');
    const origin = `${pki ? 'https' : 'http'}://${opts.hostname}:${server.address().port}`;
    return await new TestServer(opts, server, origin, pki, dir).init();
  } catch (err) {
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
