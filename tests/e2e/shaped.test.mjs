// Tokens shaped for the consumer (the man page "Tokens shaped for the consumer"), against the real
// oidc-provider with resource servers (RFC 8707), narrower refresh scopes (RFC 6749 section 6) and
// token exchange (RFC 8693) switched on:
// - `token --id-token`: the id token the server signed (checked with jose against the server's
//   JWKS: signature, iss, aud), refreshed when due (24 s id tokens and a --min-ttl of 18 s), in
//   an ExecCredential's status.token; a refresh that brings none is exit 3 with the login to run;
// - `--scope`, `--resource`, `--audience` on token, netrc, exec and git-credential: what the server
//   received and what it says about the token it issued (introspection, /api/whoami); each
//   variant cached under the set's `variants` and refreshed on its own schedule; the rotated
//   refresh token always written into the profile's own set; `revoke` removes the variants;
//   `list`, `show` and `status` never print a variant's token;
// - JSON errors: with -o json, one `{"error": {...}}` object on stdout for every exit status 1..5;
// - the crash loop (last, ~30-45 s): `token --scope` killed with SIGKILL at random moments, 100
//   times (TOKENCTL_VARIANT_CRASH_ITERATIONS), half of them as a process-group kill: the profile's
//   own refresh token is never lost.
// Access tokens live an hour; lib/tokens.mjs `makeDue` explains how a set is made due at once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jose from 'jose';

import {
  cachePath, freshEnv, httpRequest, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { KillClock, runAndKill } from './lib/kill.mjs';
import {
  assertFailed, assertNoneIn, DUE_LEFT, isoSeconds, issuedSets, issuedTokens, login, makeDue, MIN_TTL,
  patchCache, printedLine,
} from './lib/tokens.mjs';

const ID_TOKEN_TTL = 24;
const API = 'https://api.example.test/';
const JWT_API = 'https://jwt-api.example.test/';
const AUDIENCE = 'tokenctl-e2e-api';
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SCOPES = ['openid', 'offline_access', 'profile', 'api'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Make the variant `key` of profile `name` due, as makeDue does for a whole set.
function makeVariantDue(env, key, name = 'dev') {
  return patchCache(env, (c) => {
    const v = c.tokens[name].variants[key];
    assert.ok(v?.expiry && v?.issued_at, `variant ${key} has an expiry`);
    const lifetime = Date.parse(v.expiry) - Date.parse(v.issued_at);
    const expiry = Math.floor(Date.now() / 1000) * 1000 + DUE_LEFT * 1000;
    v.expiry = isoSeconds(expiry);
    v.issued_at = isoSeconds(expiry - lifetime);
  }).tokens[name].variants[key];
}

// The refresh tokens the server issued, oldest first.
async function issuedRefreshTokens(server) {
  return (await issuedSets(server)).map((s) => s.refresh_token).filter(Boolean);
}

// The one token request since the last reset, as a refresh of `refreshToken` by the public client.
async function oneRefresh(server, refreshToken) {
  const requests = await server.requests();
  assert.deepEqual(requests.map((q) => q.endpoint), ['token'], 'exactly one request, to the token endpoint');
  const [q] = requests;
  assert.equal(q.params.grant_type, 'refresh_token');
  assert.equal(q.params.refresh_token, refreshToken, 'the profile\'s own (last) refresh token was sent');
  assert.equal(q.params.client_id, 'tokenctl');
  assert.equal(q.status, 200, q.response);
  return { params: q.params, issued: JSON.parse(q.response) };
}

describe('tokens shaped for the consumer (resources, narrower scopes, token exchange)', () => {
  let server;
  let jwks;
  before(async () => {
    server = await startServer({ resources: true, tokenExchange: true, idTokenTTL: ID_TOKEN_TTL });
    const res = await httpRequest(server.endpoints.jwks_uri, { ca: server.ca });
    assert.equal(res.status, 200, res.text);
    jwks = jose.createLocalJWKSet(res.json());
  });
  after(() => server?.stop());

  async function loggedIn(extraProfiles = '') {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server, { scopes: SCOPES }) + extraProfiles);
    await login(env);
    return env;
  }

  // Verify `idToken` as the server's: signature against its JWKS, iss, aud; returns the claims.
  async function verifiedIdToken(idToken) {
    const { payload, protectedHeader } = await jose.jwtVerify(idToken, jwks, { issuer: server.issuer, audience: 'tokenctl' });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.exp - payload.iat, ID_TOKEN_TTL);
    return payload;
  }

  describe('token --id-token', () => {
    test('prints the id token the server signed; refreshed once when its exp is within --min-ttl; the new one verifies', async (t) => {
      const env = await loggedIn();
      const first = readCache(env).tokens.dev;
      const claims = await verifiedIdToken(first.id_token);
      // 24 s id tokens, --min-ttl 18s: due 6 s after iat (access tokens live an hour and stay fresh).
      await server.reset();
      if (Date.now() < (claims.iat + 5) * 1000) {
        const calm = await runTokenctl(['token', '-p', 'dev', '--id-token', '--min-ttl', '18s'], { env });
        assert.equal(printedLine(calm), first.id_token, 'more than 18 s left: the cached id token');
        assert.equal(calm.stderr, '');
        assert.deepEqual(await server.requests(), [], 'no request while the id token is fresh');
      } else {
        t.diagnostic('the login took too long to check the fresh id token first');
      }
      assert.notEqual(printedLine(await runTokenctl(['token', '-p', 'dev'], { env })), first.id_token,
        'without --id-token: the access token');

      await sleep(Math.max(0, (claims.iat + 6) * 1000 + 300 - Date.now()));
      const r = await runTokenctl(['token', '-p', 'dev', '--id-token', '--min-ttl', '18s'], { env });
      const idToken = printedLine(r);
      assert.equal(r.stderr, '');
      const { issued } = await oneRefresh(server, first.refresh_token);
      assert.notEqual(idToken, first.id_token, 'a new id token');
      assert.equal(idToken, issued.id_token, 'the id token the refresh brought');
      const fresh = await verifiedIdToken(idToken);
      assert.ok(fresh.iat > claims.iat);
      const set = readCache(env).tokens.dev;
      assert.equal(set.id_token, idToken, 'cached with the set');
      assert.equal(set.access_token, issued.access_token, 'the whole set was refreshed');
      assert.equal(set.refresh_token, issued.refresh_token);
      // The id token is not an access token: userinfo refuses it (and the access token works).
      assert.equal((await server.userinfo(idToken)).status, 401);
      assert.equal((await server.userinfo(set.access_token)).json().sub, 'alice');

      // -o json and --header carry the same id token, with the id token's own expiry.
      const json = await runTokenctl(['token', '-p', 'dev', '--id-token', '-o', 'json'], { env });
      assert.equal(json.code, 0, json.stderr);
      const j = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(j).sort(), ['expires_in', 'expiry', 'id_token']);
      assert.equal(j.id_token, idToken);
      assert.equal(j.expiry, isoSeconds(fresh.exp * 1000));
      assert.ok(j.expires_in > 0 && j.expires_in <= ID_TOKEN_TTL, `expires_in ${j.expires_in}`);
      const header = await runTokenctl(['token', '-p', 'dev', '--id-token', '--header'], { env });
      assert.equal(printedLine(header), `Authorization: Bearer ${idToken}`);
    });

    test('--id-token --exec-credential puts the id token in status.token with its exp, as kubelogin does', async () => {
      const env = await loggedIn();
      const set = readCache(env).tokens.dev;
      const claims = await verifiedIdToken(set.id_token);
      const r = await runTokenctl(['token', '-p', 'dev', '--id-token', '--exec-credential'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^\{[^\n]*\}\n$/, 'one JSON object on one line');
      const cred = JSON.parse(r.stdout);
      assert.deepEqual(cred, {
        apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false },
        status: { token: set.id_token, expirationTimestamp: isoSeconds(claims.exp * 1000) },
      });
      assert.notEqual(cred.status.token, set.access_token);
    });

    test('a refresh that brings no id token (no openid in the scopes): exit 3 with the login, the refresh kept', async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server, { name: 'plain', scopes: ['offline_access', 'profile'] }));
      const before = await login(env, 'plain');
      assert.equal(before.id_token, undefined, 'no openid, no id token at login');
      await server.reset();
      for (const extra of [[], ['--exec-credential'], ['-o', 'json']]) {
        const r = await runTokenctl(['token', '-p', 'plain', '--id-token', ...extra], { env });
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stderr, 'tokenctl: error: the server gave profile "plain" no new id token; a new login brings one\n'
          + 'tokenctl: hint: run: tokenctl login -p plain\n');
        if (extra[0] === '-o') {
          assert.deepEqual(JSON.parse(r.stdout), { error: {
            exit_code: 3, kind: 'login_required',
            message: 'the server gave profile "plain" no new id token; a new login brings one',
            hint: 'run: tokenctl login -p plain',
          } });
        } else {
          assert.equal(r.stdout, '', 'nothing on stdout');
        }
      }
      // It asked: each run refreshed (the set had no id token), and the rotated refresh token was kept.
      const grants = (await server.requests('token')).map((q) => [q.params.grant_type, q.status]);
      assert.deepEqual(grants, [['refresh_token', 200], ['refresh_token', 200], ['refresh_token', 200]]);
      const rts = await issuedRefreshTokens(server);
      assert.equal(readCache(env).tokens.plain.refresh_token, rts.at(-1));
      const again = await runTokenctl(['refresh', '-p', 'plain'], { env });
      assert.equal(again.code, 0, again.stderr);
    });

    test('--id-token with --scope, --resource or --audience is a usage error before any request', async () => {
      const env = await loggedIn();
      await server.reset();
      for (const shape of [['--scope', 'openid'], ['--resource', API], ['--audience', AUDIENCE]]) {
        const r = await runTokenctl(['token', '-p', 'dev', '--id-token', ...shape], { env });
        assertFailed(r, 2);
        assert.equal(r.stderr, 'tokenctl: error: --id-token cannot be combined with --scope, --resource or --audience\n');
      }
      assert.deepEqual(await server.requests(), []);
    });
  });

  describe('--scope and --resource: variants of the set, refreshed on their own schedule', () => {
    test('--scope A and --scope B: each the exact subset, cached under variants; only the due one is refreshed', async () => {
      const env = await loggedIn();
      const base0 = readCache(env).tokens.dev;

      // Variant A: scope "openid".
      await server.reset();
      const a1 = printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid'], { env }));
      let { params, issued } = await oneRefresh(server, base0.refresh_token);
      assert.equal(params.scope, 'openid', 'the narrower scope was asked for');
      assert.equal(params.resource, undefined);
      assert.equal(a1, issued.access_token);
      assert.equal(issued.scope, 'openid');
      let intro = await server.introspect(a1);
      assert.deepEqual([intro.active, intro.scope, intro.sub, intro.client_id, intro.aud], [true, 'openid', 'alice', 'tokenctl', undefined]);
      let cache = readCache(env).tokens.dev;
      assert.equal(cache.access_token, base0.access_token, 'the profile\'s own access token is untouched');
      assert.equal(cache.refresh_token, issued.refresh_token, 'the rotated refresh token went into the profile\'s own set');
      assert.deepEqual(Object.keys(cache.variants), ['scope=openid']);

      // Variant B: scope "openid profile", asked in another order: one key, sorted.
      await server.reset();
      const b1 = printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'profile  openid'], { env }));
      ({ params, issued } = await oneRefresh(server, cache.refresh_token));
      assert.equal(params.scope, 'openid profile');
      assert.equal(b1, issued.access_token);
      intro = await server.introspect(b1);
      assert.deepEqual([intro.active, intro.scope], [true, 'openid profile']);
      cache = readCache(env).tokens.dev;
      assert.equal(cache.refresh_token, issued.refresh_token);
      assert.deepEqual(Object.keys(cache.variants).sort(), ['scope=openid', 'scope=openid profile']);
      for (const [key, v] of Object.entries(cache.variants)) {
        assert.deepEqual(Object.keys(v).sort(), ['access_token', 'expiry', 'issued_at', 'scopes', 'token_type'],
          `${key}: a variant holds an access token only, never a refresh or id token`);
      }
      assert.deepEqual(cache.variants['scope=openid'].scopes, ['openid']);
      assert.deepEqual(cache.variants['scope=openid profile'].scopes, ['openid', 'profile']);
      assert.equal(cache.variants['scope=openid'].access_token, a1);
      assert.equal(cache.variants['scope=openid profile'].access_token, b1);

      // Cached: the same scopes in any order, and -o json, make no request.
      await server.reset();
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid profile', '--min-ttl', MIN_TTL], { env })), b1);
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid'], { env })), a1);
      const json = await runTokenctl(['token', '-p', 'dev', '--scope', 'openid', '-o', 'json'], { env });
      const j = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(j).sort(), ['access_token', 'expires_in', 'expiry', 'token_type']);
      assert.deepEqual([j.access_token, j.token_type, j.expiry], [a1, 'Bearer', cache.variants['scope=openid'].expiry]);
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev'], { env })), base0.access_token);
      assert.deepEqual(await server.requests(), [], 'every token was served from the cache');

      // A due: only A is refreshed; B and the profile's own access token stay.
      makeVariantDue(env, 'scope=openid');
      await server.reset();
      const a2 = printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid', '--min-ttl', MIN_TTL], { env }));
      ({ params, issued } = await oneRefresh(server, cache.refresh_token));
      assert.equal(params.scope, 'openid');
      assert.notEqual(a2, a1);
      assert.equal(a2, issued.access_token);
      cache = readCache(env).tokens.dev;
      assert.equal(cache.variants['scope=openid'].access_token, a2);
      assert.equal(cache.variants['scope=openid profile'].access_token, b1, 'B untouched');
      assert.equal(cache.access_token, base0.access_token, 'the own access token untouched');
      assert.equal(cache.refresh_token, issued.refresh_token);
      await server.reset();
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid profile', '--min-ttl', MIN_TTL], { env })), b1);
      assert.deepEqual(await server.requests(), [], 'B was not due');

      // The own set due: refreshed with no scope parameter; the variants are kept as they were.
      makeDue(env);
      await server.reset();
      const own = printedLine(await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env }));
      ({ params, issued } = await oneRefresh(server, cache.refresh_token));
      assert.equal(params.scope, undefined, 'the own set is refreshed with every granted scope');
      assert.equal(own, issued.access_token);
      assert.equal((await server.introspect(own)).scope, SCOPES.join(' '));
      const after = readCache(env).tokens.dev;
      assert.equal(after.refresh_token, issued.refresh_token);
      assert.deepEqual(after.variants, cache.variants, 'the variants survive the own set\'s refresh');
      // Every rotation landed in the own set: the last refresh token issued works.
      const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
      assert.equal(r.code, 0, r.stderr);
    });

    test('--resource URI: a token whose aud is that resource (opaque and JWT resource servers), and with --scope', async () => {
      const env = await loggedIn();
      const base = readCache(env).tokens.dev;
      await server.reset();
      const api = printedLine(await runTokenctl(['token', '-p', 'dev', '--resource', API], { env }));
      const { params, issued } = await oneRefresh(server, base.refresh_token);
      assert.equal(params.resource, API);
      assert.equal(params.scope, undefined);
      assert.equal(api, issued.access_token);
      const intro = await server.introspect(api);
      assert.deepEqual([intro.active, intro.aud, intro.scope, intro.sub], [true, API, 'api', 'alice']);
      assert.equal((await server.whoami(api)).json().aud, API);

      const jwt = printedLine(await runTokenctl(['token', '-p', 'dev', '--resource', JWT_API], { env }));
      assert.equal(jwt.split('.').length, 3, 'the JWT resource server gets a JWT');
      const who = (await server.whoami(jwt)).json();
      assert.deepEqual([who.format, who.aud, who.sub, who.scope], ['jwt', JWT_API, 'alice', 'api']);

      await server.reset();
      const both = printedLine(await runTokenctl(['token', '-p', 'dev', '--resource', API, '--scope', 'api'], { env }));
      const q = (await server.requests('token'))[0];
      assert.deepEqual([q.params.resource, q.params.scope], [API, 'api']);
      assert.equal((await server.introspect(both)).aud, API);
      const cache = readCache(env).tokens.dev;
      assert.deepEqual(Object.keys(cache.variants).sort(), [`resource=${API}`, `resource=${API}&scope=api`, `resource=${JWT_API}`]);
      assert.equal(cache.access_token, base.access_token);
      assert.equal(cache.refresh_token, (await issuedRefreshTokens(server)).at(-1));
      assert.equal((await server.introspect(cache.access_token)).aud, undefined, 'the own token has no audience');
    });

    test('a scope wider than granted: exit 1 with the server\'s invalid_scope; the own set still works', async () => {
      const env = await loggedIn();
      const before = fs.readFileSync(cachePath(env), 'utf8');
      const r = await runTokenctl(['token', '-p', 'dev', '--scope', 'openid email'], { env });
      assertFailed(r, 1);
      assert.match(r.stderr, /answered invalid_scope/);
      assert.equal(fs.readFileSync(cachePath(env), 'utf8'), before, 'the cache is as it was');
      const again = await runTokenctl(['refresh', '-p', 'dev'], { env });
      assert.equal(again.code, 0, again.stderr);
    });

    test('bad --scope and --resource values are usage errors before any request', async () => {
      const env = await loggedIn();
      await server.reset();
      const cases = [
        [['--resource', 'not a uri'], '--resource: an absolute http(s) URI without a fragment is needed (RFC 8707)'],
        [['--resource', `${API}#frag`], '--resource: an absolute http(s) URI without a fragment is needed (RFC 8707)'],
        [['--scope', 'open"id'], '--scope: "open"id" is not a scope'],
        [['--audience', AUDIENCE, '--scope', 'openid'], '--audience cannot be combined with --scope or --resource'],
      ];
      for (const [args, message] of cases) {
        const r = await runTokenctl(['token', '-p', 'dev', ...args], { env });
        assertFailed(r, 2);
        assert.equal(r.stderr, `tokenctl: error: ${message}\n`);
      }
      assert.deepEqual(await server.requests(), []);
    });
  });

  describe('--audience: token exchange of the profile\'s access token', () => {
    test('sends grant_type token-exchange with the own access token; the exchanged token is for that audience', async () => {
      const env = await loggedIn();
      const base = readCache(env).tokens.dev;
      await server.reset();
      const r = await runTokenctl(['token', '-p', 'dev', '--audience', AUDIENCE], { env });
      const token = printedLine(r);
      assert.equal(r.stderr, '');
      const requests = await server.requests();
      assert.deepEqual(requests.map((q) => q.endpoint), ['token']);
      const [q] = requests;
      assert.deepEqual(q.params, {
        grant_type: EXCHANGE_GRANT, subject_token: base.access_token, subject_token_type: ACCESS_TOKEN_TYPE,
        audience: AUDIENCE, client_id: 'tokenctl',
      });
      assert.equal(q.status, 200, q.response);
      assert.equal(JSON.parse(q.response).access_token, token);
      const who = (await server.whoami(token)).json();
      assert.deepEqual([who.sub, who.aud, who.token_exchange?.subject_token_type], ['alice', AUDIENCE, ACCESS_TOKEN_TYPE]);
      const cache = readCache(env).tokens.dev;
      assert.equal(cache.refresh_token, base.refresh_token, 'an exchange does not touch the refresh token');
      assert.equal(cache.access_token, base.access_token);
      const v = cache.variants[`audience=${AUDIENCE}`];
      assert.equal(v.access_token, token);
      assert.equal(v.refresh_token, undefined);
      assert.equal(v.issued_token_type, ACCESS_TOKEN_TYPE);

      await server.reset();
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev', '--audience', AUDIENCE], { env })), token);
      assert.deepEqual(await server.requests(), [], 'cached');
    });

    test('with the own access token due: refreshed first, then that fresh token is exchanged', async () => {
      const env = await loggedIn();
      const old = makeDue(env);
      await server.reset();
      const token = printedLine(await runTokenctl(['token', '-p', 'dev', '--audience', 'other-service', '--min-ttl', MIN_TTL], { env }));
      const requests = await server.requests('token');
      assert.deepEqual(requests.map((q) => q.params.grant_type), ['refresh_token', EXCHANGE_GRANT]);
      assert.equal(requests[0].params.refresh_token, old.refresh_token);
      const refreshed = JSON.parse(requests[0].response);
      assert.equal(requests[1].params.subject_token, refreshed.access_token, 'the fresh access token was exchanged, not the due one');
      const cache = readCache(env).tokens.dev;
      assert.equal(cache.access_token, refreshed.access_token);
      assert.equal(cache.refresh_token, refreshed.refresh_token);
      assert.equal(cache.variants['audience=other-service'].access_token, token);
      assert.equal((await server.whoami(token)).json().aud, 'other-service');
    });
  });

  describe('consumers, listings and revoke', () => {
    test('netrc, exec and git-credential take the same shape options and hand over the variant', async () => {
      const env = await loggedIn();
      const variant = printedLine(await runTokenctl(['token', '-p', 'dev', '--scope', 'openid profile'], { env }));
      await server.reset();
      const netrc = await runTokenctl(['netrc', '-p', 'dev', '--scope', 'openid profile'], { env });
      assert.equal(netrc.code, 0, netrc.stderr);
      assert.equal(netrc.stdout, `machine 127.0.0.1 login token password ${variant}\n`);
      const exec = await runTokenctl(['exec', '-p', 'dev', '--scope', 'profile openid', '--', 'sh', '-c', 'cat "$BEARER_TOKEN_FILE"'], { env });
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(exec.stdout, `${variant}\n`);
      const git = await runTokenctl(['git-credential', 'get', '-p', 'dev', '--scope', 'openid profile'],
        { env, input: `protocol=https\nhost=127.0.0.1:${server.port}\n\n` });
      assert.equal(git.code, 0, git.stderr);
      assert.match(git.stdout, new RegExp(`^username=token\npassword=${variant}\npassword_expiry_utc=\\d+\n$`));
      assert.deepEqual(await server.requests(), [], 'all three were served from the cached variant');
      const resource = await runTokenctl(['netrc', '-p', 'dev', '--resource', API], { env });
      assert.equal(resource.code, 0, resource.stderr);
      const token = resource.stdout.match(/password (\S+)\n$/)[1];
      assert.equal((await server.introspect(token)).aud, API);
    });

    test('list, show and status never print a variant\'s token; revoke removes the variants with the set', async () => {
      const env = await loggedIn();
      const variants = [];
      for (const shape of [['--scope', 'openid'], ['--resource', API], ['--audience', AUDIENCE]]) {
        variants.push(printedLine(await runTokenctl(['token', '-p', 'dev', ...shape], { env })));
      }
      assert.equal(Object.keys(readCache(env).tokens.dev.variants).length, 3);
      for (const args of [['list'], ['list', '-o', 'json'], ['show', '-p', 'dev'], ['show', '-p', 'dev', '-o', 'json'],
        ['status', '-p', 'dev'], ['status', '-p', 'dev', '-o', 'json']]) {
        const r = await runTokenctl(args, { env });
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assertNoneIn(variants, [r.stdout, r.stderr], `${args.join(' ')}: a variant's token`);
        assertNoneIn(variants.map((t) => t.slice(0, 4)).map((h, i) => `${h}...${variants[i].slice(-4)}`),
          [r.stdout], `${args.join(' ')}: a redacted variant token`);
      }

      await server.reset();
      const r = await runTokenctl(['revoke', '-p', 'dev'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readCache(env).tokens, {}, 'the set and its variants are gone');
      assert.deepEqual((await server.requests('revocation')).map((q) => q.params.token_type_hint), ['refresh_token', 'access_token']);
      // The grant is revoked at the server, so the narrowed and resource tokens of that grant died with it.
      assert.equal((await server.introspect(variants[0])).active, false);
      assert.equal((await server.introspect(variants[1])).active, false);
      for (const shape of [['--scope', 'openid'], ['--resource', API], ['--audience', AUDIENCE]]) {
        const again = await runTokenctl(['token', '-p', 'dev', ...shape], { env });
        assertFailed(again, 3);
        assert.match(again.stderr, /profile "dev" is not logged in\ntokenctl: hint: run: tokenctl login -p dev\n$/);
      }
    });

    test('list and show count the variants', async () => {
      const env = await loggedIn();
      for (const shape of [['--scope', 'openid'], ['--resource', API]]) {
        printedLine(await runTokenctl(['token', '-p', 'dev', ...shape], { env }));
      }
      const show = JSON.parse((await runTokenctl(['show', '-p', 'dev', '-o', 'json'], { env })).stdout);
      const field = Object.keys(show).find((k) => /variant/i.test(k));
      assert.ok(field, `show -o json has a field for the variants: ${Object.keys(show).join(', ')}`);
      const count = Array.isArray(show[field]) ? show[field].length : show[field];
      assert.equal(count, 2);
      assert.match((await runTokenctl(['show', '-p', 'dev'], { env })).stdout, /variant/i);
      const list = JSON.parse((await runTokenctl(['list', '-o', 'json'], { env })).stdout);
      assert.ok(Object.keys(list[0]).some((k) => /variant/i.test(k)), `list -o json: ${Object.keys(list[0]).join(', ')}`);
    });
  });

  describe('-o json errors', () => {
    // The message and hint lines a failure printed on stderr.
    function stderrParts(stderr) {
      const m = stderr.match(/^tokenctl: error: (.*)\n(?:tokenctl: hint: (.*)\n)?$/);
      assert.ok(m, `stderr is the error line and maybe a hint:\n${stderr}`);
      return { message: m[1], hint: m[2] ?? null };
    }

    test('exit 1..5: one {"error": {exit_code, kind, message, hint}} object on stdout, the message on stderr; without -o json stdout is empty', async () => {
      const env = await loggedIn(profileToml(server, { name: 'out' }));
      const kinds = { 1: 'failure', 2: 'usage', 3: 'login_required', 4: 'network', 5: 'config' };
      const cases = [
        [1, ['token', '-p', 'dev', '--scope', 'openid email'], null],
        [2, ['token', '-p', 'dev', '--bogus'], null],
        [2, ['token', '-p', 'dev', '--min-ttl', 'soon'], null],
        [3, ['token', '-p', 'out'], null],
        [3, ['token', '-p', 'out', '--scope', 'openid'], null],
        [4, ['refresh', '-p', 'dev'], { path: '/token', mode: '503', count: 3, retryAfter: 0 }],
        [5, ['token', '-p', 'nowhere', '--audience', AUDIENCE], null],
      ];
      for (const [code, args, fault] of cases) {
        for (const json of [false, true]) {
          if (fault) await server.fault(fault);
          const argv = json ? ['-o', 'json', ...args] : args;
          const r = await runTokenctl(argv, { env });
          const what = argv.join(' ');
          assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`);
          const { message, hint } = stderrParts(r.stderr);
          if (!json) {
            assert.equal(r.stdout, '', `${what}: nothing on stdout without -o json`);
            continue;
          }
          assert.match(r.stdout, /^\{[^\n]*\}\n$/, `${what}: one JSON object on one line`);
          const doc = JSON.parse(r.stdout);
          assert.deepEqual(Object.keys(doc), ['error']);
          assert.deepEqual(Object.keys(doc.error).sort(), ['exit_code', 'hint', 'kind', 'message']);
          assert.equal(doc.error.exit_code, code, what);
          assert.equal(doc.error.kind, kinds[code], what);
          assert.equal(doc.error.message, message, `${what}: the message of stderr`);
          assert.equal(doc.error.hint, hint, `${what}: the hint of stderr, or null`);
          if (code === 3) assert.equal(doc.error.hint, 'run: tokenctl login -p out');
          if (code === 4) assert.match(doc.error.message, /503/);
        }
      }
      // -o json after the command, and as --output=json, count too.
      const late = await runTokenctl(['token', '-p', 'out', '--output=json'], { env });
      assert.equal(late.code, 3);
      assert.equal(JSON.parse(late.stdout).error.kind, 'login_required');
      assertNoneIn(await issuedTokens(server), [late.stdout, late.stderr]);
    });
  });
});

// ---- the crash loop ------------------------------------------------------------------------------

const ITERATIONS = Number(process.env.TOKENCTL_VARIANT_CRASH_ITERATIONS || 100);

// runAndKill and KillClock (lib/kill.mjs) are the crash loop's, as in crash.test.mjs.

describe(`CRASH LOOP (~30-45 s): token --scope killed ${ITERATIONS} times, half as a process group`, () => {
  let server;
  before(async () => { server = await startServer({ resources: true }); });
  after(() => server?.stop());

  test('the profile\'s own refresh token is never lost: always one of the last two issued, and refresh -p dev works', async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server, { scopes: SCOPES }));
    await login(env);
    const args = ['token', '-p', 'dev', '--scope', 'openid', '--min-ttl', MIN_TTL];
    const clock = new KillClock();
    // Unkilled runs of the very command, to measure how long it takes.
    for (let i = 0; i < 5; i++) {
      if (i > 0) makeVariantDue(env, 'scope=openid');
      const started = Date.now();
      const r = await runTokenctl(args, { env });
      assert.equal(r.code, 0, r.stderr);
      clock.add(Date.now() - started);
    }
    const file = cachePath(env);
    const temporaries = () => fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(`.${path.basename(file)}.tmp-`));
    const outcomes = { killed: 0, refreshed: 0, untouched: 0, group: 0, temporaryLeft: 0 };
    const started = Date.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const group = i % 2 === 1;
      makeVariantDue(env, 'scope=openid');
      const own = readCache(env).tokens.dev;
      const before = (await issuedRefreshTokens(server)).length;
      const r = await runAndKill(args, env, clock.next(), { group });
      if (r.signal === 'SIGKILL') outcomes.killed++;
      if (group) outcomes.group++;
      const issued = await issuedRefreshTokens(server);

      const text = fs.readFileSync(file, 'utf8');
      let cache;
      assert.doesNotThrow(() => { cache = JSON.parse(text); }, `iteration ${i}: the cache is valid JSON`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, `iteration ${i}: the cache is 0600`);
      const set = cache.tokens.dev;
      assert.ok(set?.refresh_token, `iteration ${i}: the profile's own set holds a refresh token`);
      const expected = issued.length === before ? [issued.at(-1)] : issued.slice(-2);
      assert.ok(expected.includes(set.refresh_token),
        `iteration ${i} (${group ? 'group' : 'process'} kill): the own refresh token is one of the last issued`);
      assert.equal(set.access_token, own.access_token, `iteration ${i}: a variant refresh never replaces the own access token`);
      assert.equal(set.variants?.['scope=openid']?.refresh_token, undefined, `iteration ${i}: no refresh token in a variant`);
      if (temporaries().length > 0) outcomes.temporaryLeft++;
      outcomes[issued.length > before ? 'refreshed' : 'untouched']++;

      const t0 = Date.now();
      const check = await runTokenctl(['refresh', '-p', 'dev'], { env });
      assert.equal(check.code, 0, `iteration ${i}: the own refresh token was lost (${group ? 'group' : 'process'} kill):\n${check.stderr}`);
      clock.add(Date.now() - t0);
      assert.equal(readCache(env).tokens.dev.refresh_token, (await issuedRefreshTokens(server)).at(-1));
      assert.deepEqual(temporaries(), [], `iteration ${i}: the next write removed every temporary`);
    }
    console.log(`variant crash loop: ${JSON.stringify(outcomes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.ok(outcomes.killed > ITERATIONS / 2, `most runs were killed: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refreshed > ITERATIONS / 20, `kills after the request was sent: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.untouched > ITERATIONS / 50, `kills before it was sent: ${JSON.stringify(outcomes)}`);
  });
});
