// RFC 8693 token exchange for the e2e server, as an oidc-provider grant type
// (provider.registerGrantType, oidc-provider's documented extension point for grants it does not
// implement; 8.8.1 has no token exchange of its own).
//
// Subject tokens accepted:
//  - urn:ietf:params:oauth:token-type:jwt (and :id_token): a JWT of the test identity provider
//    (lib/ci-idp.mjs), checked in this order, each failure an `invalid_grant` whose
//    error_description names the check: a JWT at all, signed (not alg none), signature against
//    the identity provider's JWKS, then per federation policy: `iss` trusted, `exp` present and
//    not passed, `nbf` passed, `aud` accepted, `sub` allowed.
//  - urn:ietf:params:oauth:token-type:access_token: an active access token of the same issuer
//    (opaque, or a JWT access token of a resource server), for tokenctl's `--audience` narrowing.
// Federation policies (Databricks' model): [{name, clientId?, issuers, audiences, subjects?,
// scopes?}]. A request with a client_id uses the policies of that client_id, if any, else the
// policies without clientId; so does a request without one. `subjects` entries match exactly, or
// with `*` as a wildcard.
// Targets: `audience` and `resource` (RFC 8693 section 2.1) must name a known target (the
// `targets` option, the issuers, the configured resource servers), else `invalid_target`; one
// target per token.
// Answer: access_token (opaque, with `aud` = the target, `sub` = the subject), issued_token_type
// access_token, token_type Bearer, expires_in = the smaller of `ttl` and the subject token's time
// left (Databricks does the same), scope when any; never a refresh token. `requested_token_type`
// other than access_token, and `actor_token`, are `invalid_request`.

import { errors } from 'oidc-provider';
import * as jose from 'jose';

import { EXCHANGE_PUBLIC_CLIENT, TOKEN_EXCHANGE_GRANT } from './server-mounts.mjs';

export const TOKEN_TYPES = {
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  refresh_token: 'urn:ietf:params:oauth:token-type:refresh_token',
};
const JWT_TYPES = new Set([TOKEN_TYPES.jwt, TOKEN_TYPES.id_token]);
const PARAMS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'audience',
  'resource', 'requested_token_type', 'scope'];
export const DEFAULT_TARGETS = ['https://api.example.test/', 'https://other-api.example.test/',
  'tokenctl-e2e-api', 'other-service'];
const NOT_FOR_EXCHANGE = new Set(['offline_access']);

const epoch = () => Math.floor(Date.now() / 1000);

function fail(code, description) {
  return new errors.CustomOIDCProviderError(code, description);
}

function globMatch(pattern, value) {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

function list(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function sameTarget(a, b) {
  if (a === b) return true;
  try { return new URL(a).href === new URL(b).href; } catch { return false; }
}

export class TokenExchange {
  // server: the TestServer (resolveToken, idp, issuers); options: {policies, targets, ttl}.
  constructor(server, options = {}) {
    this.server = server;
    this.ttl = options.ttl ?? 3600;
    this.targets = options.targets ?? DEFAULT_TARGETS;
    this.policies = options.policies ?? null; // null until the server fills in its defaults
    this.extras = new WeakMap(); // issued token -> extra claims (see extraTokenClaims)
  }

  // Change policies, targets and ttl at run time (POST /__test/token-exchange).
  configure({ policies, targets, ttl } = {}) {
    if (policies !== undefined) this.policies = policies.map((p) => this.normalisePolicy(p));
    if (targets !== undefined) this.targets = targets;
    if (ttl !== undefined) this.ttl = ttl;
    return this.info();
  }

  normalisePolicy(p) {
    if (!p || typeof p !== 'object') throw new Error('a policy must be an object');
    const issuers = list(p.issuers ?? p.issuer);
    const audiences = list(p.audiences ?? p.audience);
    if (!issuers.length) throw new Error('a policy needs issuers');
    if (!audiences.length) throw new Error('a policy needs audiences');
    return {
      name: p.name || (p.clientId ? `client ${p.clientId}` : 'default'), clientId: p.clientId || undefined,
      issuers, audiences, subjects: p.subjects === undefined ? undefined : list(p.subjects),
      scopes: p.scopes === undefined ? undefined : list(p.scopes),
    };
  }

  info() {
    return { grantType: TOKEN_EXCHANGE_GRANT, ttl: this.ttl, targets: this.targets, policies: this.policies };
  }

  register(mount) {
    mount.provider.registerGrantType(TOKEN_EXCHANGE_GRANT, this.handler(mount), PARAMS, ['audience', 'resource']);
  }

  extraClaims(token) {
    return this.extras.get(token);
  }

  handler(mount) {
    return async (ctx, next) => {
      const { params, client, provider } = ctx.oidc;
      if (!params.subject_token) throw fail('invalid_request', 'subject_token is missing');
      if (!params.subject_token_type) throw fail('invalid_request', 'subject_token_type is missing');
      if (params.actor_token || params.actor_token_type) {
        throw fail('invalid_request', 'actor_token (delegation) is not supported by this server');
      }
      if (params.requested_token_type && params.requested_token_type !== TOKEN_TYPES.access_token) {
        throw fail('invalid_request', `requested_token_type ${params.requested_token_type} is not supported: this server issues ${TOKEN_TYPES.access_token} only`);
      }
      const target = this.target(mount, params);
      // The client_id as the client sent it (the front adds exchange-public when there was none).
      const sentClientId = client.clientId === EXCHANGE_PUBLIC_CLIENT ? undefined : client.clientId;
      let subject;
      if (JWT_TYPES.has(params.subject_token_type)) {
        subject = await this.checkJwt(params.subject_token, sentClientId);
      } else if (params.subject_token_type === TOKEN_TYPES.access_token) {
        subject = await this.checkAccessToken(mount, params.subject_token);
      } else {
        throw fail('invalid_request', `subject_token_type ${params.subject_token_type} is not supported (use ${TOKEN_TYPES.jwt} or ${TOKEN_TYPES.access_token})`);
      }
      const scope = this.scope(mount, params.scope, subject);
      const left = subject.exp - epoch();
      if (left <= 0) throw fail('invalid_grant', 'subject_token has expired');
      const at = new provider.AccessToken({
        accountId: subject.sub || undefined, client, gty: 'token_exchange', scope: scope || undefined,
        expiresIn: Math.min(this.ttl, left),
      });
      if (target) at.setAudience(target);
      this.extras.set(at, {
        token_exchange: {
          subject_token_type: params.subject_token_type, subject_iss: subject.iss,
          subject_aud: subject.aud, policy: subject.policy,
          ...(subject.clientId ? { subject_client_id: subject.clientId } : {}),
        },
      });
      ctx.oidc.entity('AccessToken', at);
      const value = await at.save();
      ctx.body = {
        access_token: value, issued_token_type: TOKEN_TYPES.access_token, token_type: 'Bearer',
        expires_in: at.expiration, scope: at.scope || undefined,
      };
      await next();
    };
  }

  // The one audience/resource of the request, checked against the known targets; or undefined.
  target(mount, params) {
    const audiences = list(params.audience);
    const resources = list(params.resource);
    for (const r of resources) {
      let href;
      try { href = new URL(r).href; } catch { throw fail('invalid_target', `resource ${r} is not an absolute URI`); }
      if (href.includes('#')) throw fail('invalid_target', `resource ${r} has a fragment`);
    }
    const wanted = [...audiences, ...resources];
    if (wanted.length === 0) return undefined;
    const distinct = wanted.filter((t, i) => !wanted.slice(0, i).some((u) => sameTarget(u, t)));
    if (distinct.length > 1) {
      throw fail('invalid_target', `one token has one audience: ${distinct.join(', ')} name different targets`);
    }
    const known = [...this.targets, ...this.server.issuers(), ...Object.keys(mount.resources || {})];
    const [t] = distinct;
    if (!known.some((k) => sameTarget(k, t))) {
      throw fail('invalid_target', `${audiences.length ? 'audience' : 'resource'} ${t} is not a known target of this server`);
    }
    return t;
  }

  scope(mount, requested, subject) {
    const asked = requested ? [...new Set(requested.split(' ').filter(Boolean))] : [];
    if (subject.scopes) { // an access token: at most its scope
      const extra = asked.filter((s) => !subject.scopes.has(s));
      if (extra.length) {
        throw fail('invalid_scope', `scope ${extra.join(' ')} exceeds the subject token's scope "${[...subject.scopes].join(' ')}"`);
      }
      return asked.length ? asked.join(' ') : [...subject.scopes].join(' ');
    }
    const allowed = subject.allowedScopes || mount.scopes.filter((s) => !NOT_FOR_EXCHANGE.has(s));
    const bad = asked.filter((s) => !allowed.includes(s));
    if (bad.length) {
      throw fail('invalid_scope', `scope ${bad.join(' ')} cannot be granted by token exchange here (allowed: ${allowed.join(' ')})`);
    }
    return asked.join(' ');
  }

  async checkJwt(token, clientId) {
    let header;
    let payload;
    try {
      header = jose.decodeProtectedHeader(token);
      payload = jose.decodeJwt(token);
    } catch {
      throw fail('invalid_grant', 'subject_token is not a JWT');
    }
    if (!header.alg || header.alg === 'none') throw fail('invalid_grant', 'subject_token is not signed (alg none)');
    try {
      await this.server.idp.verifySignature(token);
    } catch {
      throw fail('invalid_grant', `subject_token signature does not verify against the identity provider's JWKS (alg ${header.alg}, kid ${header.kid ?? 'none'})`);
    }
    const own = (this.policies || []).filter((p) => clientId !== undefined && p.clientId === clientId);
    const candidates = own.length ? own : (this.policies || []).filter((p) => !p.clientId);
    if (!candidates.length) {
      throw fail('invalid_grant', `no federation policy applies to ${clientId === undefined ? 'a request without client_id' : `client_id ${clientId}`}`);
    }
    let first;
    for (const policy of candidates) {
      const problem = this.policyProblem(policy, payload);
      if (!problem) {
        return {
          sub: payload.sub, exp: payload.exp, iss: payload.iss, aud: payload.aud, policy: policy.name,
          allowedScopes: policy.scopes,
        };
      }
      first ??= `${problem} (policy ${policy.name})`;
    }
    throw fail('invalid_grant', first);
  }

  policyProblem(policy, payload) {
    const now = epoch();
    if (!policy.issuers.includes(payload.iss)) return `subject_token issuer ${JSON.stringify(payload.iss)} is not trusted`;
    if (typeof payload.exp !== 'number') return 'subject_token has no exp claim';
    if (payload.exp <= now) return `subject_token expired ${now - payload.exp} s ago`;
    if (typeof payload.nbf === 'number' && payload.nbf > now) return `subject_token is not valid before ${payload.nbf} (nbf, ${payload.nbf - now} s from now)`;
    const aud = list(payload.aud);
    if (!aud.some((a) => policy.audiences.includes(a))) {
      return `subject_token audience ${JSON.stringify(payload.aud ?? null)} is not accepted (expected one of ${policy.audiences.join(', ')})`;
    }
    if (typeof payload.sub !== 'string' || !payload.sub) return 'subject_token has no sub claim';
    if (policy.subjects && !policy.subjects.some((s) => globMatch(s, payload.sub))) {
      return `subject ${JSON.stringify(payload.sub)} is not allowed by the federation policy (allowed: ${policy.subjects.join(', ')})`;
    }
    return null;
  }

  async checkAccessToken(mount, value) {
    const found = await this.server.resolveToken(value);
    if (!found) throw fail('invalid_grant', 'subject_token is not an active access token of this server');
    if (found.mount !== mount) {
      throw fail('invalid_grant', `subject_token is an access token of ${found.mount.issuer}, not of this issuer`);
    }
    return {
      sub: found.sub, exp: found.exp, iss: mount.issuer, aud: found.aud, policy: 'access_token',
      scopes: new Set((found.scope || '').split(' ').filter(Boolean)), clientId: found.clientId,
    };
  }
}
