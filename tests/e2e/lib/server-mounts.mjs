// The authorization servers behind the e2e front (lib/server.mjs): one oidc-provider 8.8.1 instance
// per issuer ("mount"), each with its own clients, routes, scopes, cookies and storage.
//
// Why several: Databricks has two issuers on one host, a workspace one ({host}/oidc) and an
// account one ({host}/oidc/accounts/ACCOUNT_ID), with their own endpoint paths (/v1/authorize,
// /v1/token); the tokenctl tests need both beside the usual test issuer. Each extra instance is
// made only when startServer's options ask for it, so that the usual server starts as fast as
// before.
//
// Everything here is oidc-provider's own configuration (its documented options: clients, routes,
// scopes, ttl, features, adapter, extraTokenClaims, registerGrantType); what oidc-provider cannot do
// is emulated in the front, lib/server.mjs, and said there.

import Provider, { errors } from 'oidc-provider';
// The provider's signing keys: oidc-provider's own development key set (what it used before this
// file passed `jwks` explicitly), named here so that the front can verify the JWT access tokens
// it issues for resource servers (/api/whoami, token exchange of an access token).
import DEV_KEYSTORE from 'oidc-provider/lib/consts/dev_keystore.js';
import * as crypto from 'node:crypto';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const LOOPBACK_REDIRECTS = ['http://127.0.0.1/callback', 'http://localhost/callback'];
// Databricks CLI's redirect: http://localhost:8020 with no path; oidc-provider lets a native client
// use any port on a loopback host (RFC 8252 section 7.3; lib/models/client.js redirectUriAllowed
// drops the port of both URIs before comparing them), so the port is left out here.
export const DATABRICKS_REDIRECTS = ['http://localhost', 'http://127.0.0.1'];
export const DATABRICKS_SCOPES = ['all-apis', 'offline_access', 'openid', 'profile', 'email', 'sql'];
export const MAIN_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'api'];
// The public client that a token exchange request without any client authentication is made for
// (the front adds client_id=exchange-public: oidc-provider's token endpoint needs a client).
export const EXCHANGE_PUBLIC_CLIENT = 'exchange-public';

const DAY = 24 * 3600;

// oidc-provider's default routes (below the issuer), and the Databricks ones.
export const DEFAULT_ROUTES = {
  authorization: '/auth', code_verification: '/device', device_authorization: '/device/auth',
  introspection: '/token/introspection', jwks: '/jwks', revocation: '/token/revocation',
  token: '/token', userinfo: '/me',
};
export const DATABRICKS_ROUTES = {
  ...DEFAULT_ROUTES, authorization: '/v1/authorize', token: '/v1/token', userinfo: '/v1/userinfo',
  jwks: '/jwks.json', revocation: '/v1/revoke', introspection: '/v1/token/introspection',
};
// Request-log names of the routes (the names the front has always used).
const LOG_NAMES = {
  authorization: 'authorization', code_verification: 'code_verification',
  device_authorization: 'device_authorization', introspection: 'introspection', jwks: 'jwks',
  revocation: 'revocation', token: 'token', userinfo: 'userinfo',
};

const PUBLIC_JWK_FIELDS = ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'];
export const PROVIDER_PUBLIC_JWKS = {
  keys: DEV_KEYSTORE.keys.map((k) => Object.fromEntries(
    Object.entries(k).filter(([name]) => PUBLIC_JWK_FIELDS.includes(name)))),
};

function capitalise(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const epoch = () => Math.floor(Date.now() / 1000);

// An in-memory adapter (oidc-provider's `adapter` option) with the semantics of oidc-provider's
// own MemoryAdapter (lib/adapters/memory_adapter.js: grant and user-code indexes, consume, and
// entries that outlive their expiry: that adapter passes `expiresIn * 1000` where quick-lru wants
// {maxAge}, so nothing ever expires there, and the models check `exp` themselves; an expired device
// code must still be found to be answered `expired_token`), but one store per mount and no
// eviction. oidc-provider's own keeps ONE module-wide LRU of 1,000 entries for every Provider in
// the process: with two issuers in one process a token of one would be found by the other, and a
// long test (crash.test.mjs) could see entries evicted. Entries expired for a day are dropped.
export function createStore() {
  const entries = new Map(); // key -> {value, expiresAt (ms) | 0}
  const GRACE_MS = 24 * 3600 * 1000;
  let writes = 0;
  const get = (key) => entries.get(key)?.value;
  const set = (key, value, expiresIn) => {
    entries.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    writes += 1;
    if (writes % 2000 === 0) {
      const old = Date.now() - GRACE_MS;
      for (const [k, e] of entries) if (e.expiresAt && e.expiresAt <= old) entries.delete(k);
    }
  };
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest']);

  class TestAdapter {
    constructor(model) { this.model = model; }

    key(id) { return `${this.model}:${id}`; }

    async destroy(id) { entries.delete(this.key(id)); }

    async consume(id) {
      const value = get(this.key(id));
      if (value) value.consumed = epoch();
    }

    async find(id) { return get(this.key(id)); }

    async findByUid(uid) { return this.find(get(`sessionUid:${uid}`)); }

    async findByUserCode(userCode) { return this.find(get(`userCode:${userCode}`)); }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      if (this.model === 'Session') set(`sessionUid:${payload.uid}`, id, expiresIn);
      const { grantId, userCode } = payload;
      if (grantable.has(this.model) && grantId) {
        const grant = get(`grant:${grantId}`);
        if (!grant) set(`grant:${grantId}`, [key], 0);
        else grant.push(key);
      }
      if (userCode) set(`userCode:${userCode}`, id, expiresIn);
      set(key, payload, expiresIn);
    }

    async revokeByGrantId(grantId) {
      const grant = get(`grant:${grantId}`);
      if (grant) {
        for (const key of grant) entries.delete(key);
        entries.delete(`grant:${grantId}`);
      }
    }
  }
  return TestAdapter;
}

// Resource servers for `resources: true` (RFC 8707): one with opaque access tokens (introspection
// shows scope and aud) and one with JWT access tokens.
export const DEFAULT_RESOURCES = {
  'https://api.example.test/': { scope: 'api read write', accessTokenFormat: 'opaque' },
  'https://jwt-api.example.test/': { scope: 'api read', accessTokenFormat: 'jwt' },
};

// The resource server table of the `resources` option: {URI: {scope, accessTokenFormat,
// accessTokenTTL, audience}}, URIs normalised by the URL parser.
export function resourceTable(option) {
  if (!option) return null;
  const source = option === true ? DEFAULT_RESOURCES : option;
  const table = {};
  for (const [uri, info] of Object.entries(source)) {
    const href = new URL(uri).href;
    table[href] = {
      scope: info.scope ?? 'api', accessTokenFormat: info.accessTokenFormat ?? 'opaque',
      ...(info.accessTokenTTL ? { accessTokenTTL: info.accessTokenTTL } : {}),
      ...(info.audience ? { audience: info.audience } : {}),
    };
  }
  return table;
}

// One issuer: an oidc-provider instance with its prefix (path of the issuer on the front's
// origin), its routes and its clients.
//   spec: {name, prefix, origin, routes, scopes, clients, clientTtls: {clientId: {AccessToken,
//          RefreshToken, ClientCredentials}}, deviceFlow, revocation, resources, discovery,
//          metadataAlias, tokenExchange (a TokenExchange or null), cookieSuffix}
export class Mount {
  constructor(spec, opts, hooks) {
    this.name = spec.name;
    this.prefix = spec.prefix.replace(/\/+$/, '');
    this.issuer = spec.origin + this.prefix;
    this.routes = spec.routes;
    this.scopes = spec.scopes;
    this.discovery = spec.discovery !== false;
    this.metadataAlias = Boolean(spec.metadataAlias);
    this.deviceFlow = spec.deviceFlow !== false;
    this.revocation = spec.revocation !== false;
    this.clientTtls = spec.clientTtls || {};
    this.resources = spec.resources || null;
    this.tokenExchange = spec.tokenExchange || null;
    this.staticClientIds = new Set(spec.clients.map((c) => c.client_id));
    this.Adapter = createStore();
    this.endpoints = this.logTable();
    this.provider = new Provider(this.issuer, this.configuration(spec, opts, hooks));
    this.provider.on('server_error', (ctx, err) => console.error(`oidc-provider server_error (${this.name}):`, err));
    if (this.tokenExchange) this.tokenExchange.register(this);
    if (hooks.use) this.provider.use(hooks.use(this));
    this.callback = this.provider.callback();
  }

  // [relative path, log name], longest first (prefix match: '/token/revocation' before '/token').
  logTable() {
    const table = [['/.well-known/openid-configuration', 'discovery'], ['/interaction', 'interaction']];
    if (this.metadataAlias) table.push(['/.well-known/oauth-authorization-server', 'metadata']);
    for (const [route, p] of Object.entries(this.routes)) {
      if (LOG_NAMES[route]) table.push([p, LOG_NAMES[route]]);
    }
    return table.sort((a, b) => b[0].length - a[0].length);
  }

  // The path below the issuer, or null when `pathname` is not below it.
  relativePath(pathname) {
    if (!this.prefix) return pathname;
    if (pathname === this.prefix) return '/';
    return pathname.startsWith(`${this.prefix}/`) ? pathname.slice(this.prefix.length) : null;
  }

  endpointName(rel) {
    const hit = this.endpoints.find(([p]) => rel === p || rel.startsWith(`${p}/`));
    return hit ? hit[1] : 'other';
  }

  url(route) {
    return this.issuer + this.routes[route];
  }

  // The endpoint URLs, as a discovery document would name them.
  urls() {
    const out = {
      issuer: this.issuer, authorization_endpoint: this.url('authorization'),
      token_endpoint: this.url('token'), userinfo_endpoint: this.url('userinfo'),
      introspection_endpoint: this.url('introspection'), jwks_uri: this.url('jwks'),
    };
    if (this.revocation) out.revocation_endpoint = this.url('revocation');
    if (this.deviceFlow) out.device_authorization_endpoint = this.url('device_authorization');
    if (this.metadataAlias) out.metadata_url = `${this.issuer}/.well-known/oauth-authorization-server`;
    if (this.discovery) out.discovery_url = `${this.issuer}/.well-known/openid-configuration`;
    return out;
  }

  clientTtl(client, kind) {
    return client ? this.clientTtls[client.clientId]?.[kind] : undefined;
  }

  configuration(spec, opts, hooks) {
    const rotate = opts.rotateRefreshToken;
    const resources = this.resources;
    const features = {
      devInteractions: { enabled: true }, revocation: { enabled: this.revocation },
      introspection: { enabled: true }, clientCredentials: { enabled: true },
      deviceFlow: { enabled: this.deviceFlow }, userinfo: { enabled: true },
    };
    if (resources) {
      features.resourceIndicators = {
        enabled: true,
        // Grant every configured resource at the authorization (and device authorization)
        // endpoint when the request names none, so that a login that did not send `resource`
        // can later ask a refresh for one (RFC 8707 section 2.2; oidc-provider only issues for a
        // resource that the grant holds). Elsewhere no default: a code or refresh without
        // `resource` gets the usual userinfo access token.
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return undefined;
          const route = ctx.oidc?.route;
          if (opts.grantResources !== false && (route === 'authorization' || route === 'device_authorization')) {
            return Object.keys(resources);
          }
          return undefined;
        },
        async getResourceServerInfo(ctx, indicator) {
          let href;
          try { href = new URL(indicator).href; } catch { href = indicator; }
          const info = resources[href];
          if (!info) throw new errors.InvalidTarget(`resource ${indicator} is not a resource server of this test server`);
          return { ...info };
        },
        async useGrantedResource() { return false; },
      };
    }
    const ttl = (kind, fallback) => (ctx, token, client) => token?.resourceServer?.accessTokenTTL
      || this.clientTtl(client, kind) || fallback;
    return {
      adapter: this.Adapter,
      jwks: DEV_KEYSTORE,
      clients: spec.clients,
      cookies: {
        keys: [crypto.randomBytes(32).toString('base64url')],
        ...(spec.cookieSuffix ? {
          names: Object.fromEntries(['session', 'interaction', 'resume', 'state']
            .map((n) => [n, `_${n}${spec.cookieSuffix}`])),
        } : {}),
      },
      claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
      conformIdTokenClaims: false,
      features,
      extraTokenClaims: async (ctx, token) => hooks.extraTokenClaims?.(token),
      assertJwtClientAuthClaimsAndHeader: async (ctx, claims) => {
        const max = opts.assertionMaxLifetime;
        if (max && !(typeof claims.iat === 'number' && claims.exp - claims.iat <= max)) {
          throw new errors.InvalidClientAuth(`client assertion lives longer than ${max} s (exp - iat), or has no iat`);
        }
      },
      pkce: { methods: ['S256'], required: () => true },
      responseTypes: ['code'],
      routes: this.routes,
      scopes: this.scopes,
      rotateRefreshToken: rotate === 'default' ? undefined : () => rotate,
      async findAccount(ctx, sub) {
        return {
          accountId: sub,
          async claims() {
            return {
              sub, name: `${capitalise(sub)} Example`, email: `${sub}@example.test`, email_verified: true,
            };
          },
        };
      },
      ttl: {
        AccessToken: ttl('AccessToken', opts.accessTokenTTL),
        ClientCredentials: ttl('ClientCredentials', opts.clientCredentialsTTL),
        RefreshToken: (ctx, token, client) => this.clientTtl(client, 'RefreshToken') || opts.refreshTokenTTL,
        // A grant must outlive its refresh tokens (the refresh grant checks the grant's expiry).
        Grant: (ctx, grant, client) => Math.max(14 * DAY, opts.refreshTokenTTL,
          this.clientTtl(client, 'RefreshToken') || 0),
        IdToken: opts.idTokenTTL, AuthorizationCode: 60, DeviceCode: opts.deviceCodeTTL,
        BackchannelAuthenticationRequest: 600, Interaction: 3600, Session: 14 * DAY,
      },
    };
  }

  // Add (or replace) a client at run time through the adapter, which is where oidc-provider looks
  // for clients that are not static (Client.find: static clients first, then the adapter). The
  // metadata is validated at once by finding the client; invalid metadata is removed again and
  // the error rethrown (InvalidClientMetadata, with error_description).
  async addClient(metadata) {
    if (!metadata || typeof metadata.client_id !== 'string' || !metadata.client_id) {
      throw new errors.InvalidClientMetadata('client_id is required');
    }
    if (this.staticClientIds.has(metadata.client_id)) {
      throw new errors.InvalidClientMetadata(`client_id ${metadata.client_id} is a static client of this server`);
    }
    const adapter = new this.Adapter('Client');
    await adapter.upsert(metadata.client_id, metadata);
    try {
      const client = await this.provider.Client.find(metadata.client_id);
      if (!client) throw new Error('not found after upsert');
      return client;
    } catch (err) {
      await adapter.destroy(metadata.client_id);
      throw err;
    }
  }

  // An opaque access token (or client credentials token) of this issuer, or undefined.
  async findOpaque(value) {
    for (const model of [this.provider.AccessToken, this.provider.ClientCredentials]) {
      try {
        const token = await model.find(value);
        if (token) return token;
      } catch { /* not this kind of token */ }
    }
    return undefined;
  }
}
