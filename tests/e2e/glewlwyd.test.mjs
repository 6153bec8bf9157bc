// tokenctl against a second, independent authorization server: Debian's glewlwyd (C, 2.7.5 in
// Debian 12), started here on loopback with a fresh sqlite database behind a TLS proxy that logs
// every request (lib/glewlwyd.mjs; its quirks are in README.md, "The second server: glewlwyd").
// The flows: `login` (authorization code + PKCE, a real sign-in through glewlwyd's login API by
// glewlwyd-browser.mjs, on a fixed redirect port because glewlwyd matches redirect URIs exactly),
// refresh with rotation (glewlwyd's one-time refresh tokens), client credentials with the
// confidential client ci-runner, and `revoke` where glewlwyd allows it (confidential clients
// only). Skipped, with the reason, where glewlwyd is not installed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import {
  cachePath, configPath, fileMode, freshEnv, profileToml, readBrowserLog, readCache, runTokenctl, writeConfig,
} from './lib/harness.mjs';
import { GLEWLWYD_BROWSER, glewlwydMissing, startGlewlwyd } from './lib/glewlwyd.mjs';
import { assertFailed, assertNoneIn, cacheSnapshot, makeDue, MIN_TTL, printedLine } from './lib/tokens.mjs';

const TTL = 600;
const SCOPES = ['openid', 'offline_access', 'api'];
const UNRESERVED = /^[A-Za-z0-9._~-]{43,128}$/;
const missing = glewlwydMissing();
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The claims of a JWT (no signature check: glewlwyd's userinfo and introspection say whether a
// token is good).
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

describe('tokenctl against glewlwyd', { skip: missing || false }, () => {
  let g;
  before(async () => { g = await startGlewlwyd({ accessTokenTTL: TTL, redirectPorts: 5 }); });
  after(() => g?.stop());

  // A fresh home whose BROWSER is the glewlwyd stand-in; profiles `dev` (the public client, on
  // redirect port `port` unless null) and `ci` (ci-runner, client credentials, scopes `ciScopes`
  // unless null: then none).
  function envFor({ port = g.redirectPort, ciScopes = ['api'], secret = g.ciSecret } = {}) {
    const env = freshEnv(g, { ...g.browserEnv(), CI_SECRET: secret });
    const ci = [`[profiles.ci]`, `host = ${JSON.stringify(g.issuer)}`, 'client_id = "ci-runner"',
      'grant = "client_credentials"', 'client_secret_env = "CI_SECRET"', `ca_file = ${JSON.stringify(g.ca)}`];
    if (ciScopes) ci.push(`scopes = ${JSON.stringify(ciScopes)}`);
    writeConfig(env, `${profileToml(g, { scopes: SCOPES, extra: port === null ? '' : `redirect_port = ${port}` })}\n${ci.join('\n')}\n`);
    return env;
  }

  // A home logged in as alice on redirect port `port`: from the config's redirect_port, or with
  // `viaFlag` from `login --port` (the config then has none).
  async function loggedIn(port, { viaFlag = false } = {}) {
    const env = envFor({ port: viaFlag ? null : port });
    const args = viaFlag ? ['--port', String(port)] : [];
    const r = await runTokenctl(['login', '-p', 'dev', ...args], { env });
    assert.equal(r.code, 0, `login failed:\n${r.stderr}\nglewlwyd:\n${g.output().slice(-3000)}`);
    return { env, r, set: readCache(env).tokens.dev };
  }

  async function assertUserinfo(accessToken, sub) {
    const res = await g.userinfo(accessToken);
    assert.equal(res.status, 200, `userinfo: ${res.status} ${res.text}`);
    const who = res.json();
    assert.equal(who.name, 'Alice Example');
    assert.equal(who.email, 'alice@example.test');
    if (sub) assert.equal(who.sub, sub);
    return who;
  }

  test('login: authorization code with PKCE, signed in through glewlwyd, cached privately; token prints it', async () => {
    await g.reset();
    const { env, r, set } = await loggedIn(g.redirectPort);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /alice/i);
    assert.match(r.stderr, /expir/i);
    const browser = await readBrowserLog(env);
    assert.equal(browser.result, 'ok', JSON.stringify(browser));
    assert.match(browser.url, /^http:\/\/127\.0\.0\.1:\d+\/start\//, 'the browser got the one-time start address');
    assert.ok(r.stderr.includes(browser.authorizationUrl), 'the authorization URL is printed on stderr');
    assert.equal(browser.final.status, 200, 'the listener answered the browser');
    assert.deepEqual(browser.grant.requested.sort(), [...SCOPES].sort());
    const callback = new URL(browser.callback.received);
    assert.equal(callback.searchParams.get('iss'), g.issuer, 'RFC 9207 iss in the authorization response');

    // What glewlwyd received: the authorization request (then again with the login app's
    // g_continue), and one code exchange of the public client with the PKCE verifier.
    const authz = await g.requests('authorization');
    assert.equal(authz.length, 2, authz.map((q) => q.path).join(', '));
    const q = authz[0].query;
    assert.equal(q.response_type, 'code');
    assert.equal(q.client_id, 'tokenctl');
    assert.equal(q.redirect_uri, g.redirectUri(g.redirectPort), 'exactly the registered redirect URI');
    assert.equal(q.code_challenge_method, 'S256');
    assert.ok(q.state.length >= 22, 'state carries at least 128 bits');
    assert.ok(q.nonce, 'nonce is sent when openid is in scope');
    assert.deepEqual(q.scope.split(' ').sort(), [...SCOPES].sort());
    assert.equal(callback.searchParams.get('state'), q.state);
    const exchanges = await g.requests('token');
    assert.equal(exchanges.length, 1);
    const [x] = exchanges;
    assert.equal(x.method, 'POST');
    assert.deepEqual(x.query, {});
    assert.deepEqual(Object.keys(x.params).sort(), ['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    assert.equal(x.params.grant_type, 'authorization_code');
    assert.equal(x.params.client_id, 'tokenctl');
    assert.equal(x.params.code, callback.searchParams.get('code'));
    assert.equal(x.params.redirect_uri, q.redirect_uri);
    assert.match(x.params.code_verifier, UNRESERVED);
    assert.equal(q.code_challenge, crypto.createHash('sha256').update(x.params.code_verifier).digest('base64url'));
    assert.equal(x.authorization, null, 'a public client sends no Authorization header');
    assert.equal(x.status, 200);
    const issued = JSON.parse(x.response);
    assert.equal(issued.token_type, 'bearer', 'glewlwyd writes the token type in lower case');

    // The cache: 0600 in a 0700 folder, the issued set, the token type as RFC 6750 spells it.
    assert.equal(fileMode(cachePath(env)).toString(8), '600');
    assert.equal(fileMode(path.dirname(cachePath(env))).toString(8), '700');
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    assert.equal(set.id_token, issued.id_token);
    assert.equal(set.token_type.toLowerCase(), 'bearer');
    assert.equal((Date.parse(set.expiry) - Date.parse(set.issued_at)) / 1000, TTL);
    assert.equal(set.endpoints.issuer, g.issuer);
    assert.equal(set.endpoints.token_endpoint, `${g.issuer}/token`);
    const id = claims(set.id_token);
    assert.equal(id.nonce, q.nonce);
    assert.equal(id.aud, 'tokenctl');
    assert.equal(id.iss, g.issuer);
    assertNoneIn([issued.access_token, issued.refresh_token, issued.id_token], [r.stderr, fs.readFileSync(configPath(env), 'utf8')], 'a token');

    await g.reset();
    const t = await runTokenctl(['token', '-p', 'dev'], { env });
    assert.equal(printedLine(t), issued.access_token);
    assert.equal(t.stderr, '');
    assert.deepEqual(await g.requests(), [], 'a fresh cached token needs no request');
    await assertUserinfo(issued.access_token, id.sub);
  });

  test('the stand-in signs in from any first URL that redirects to the authorization URL (a loopback /start/ address)', async () => {
    const port = g.redirectPorts[4];
    const verifier = crypto.randomBytes(32).toString('base64url');
    const state = crypto.randomBytes(16).toString('base64url');
    const authorization = new URL(`${g.issuer}/auth`);
    for (const [k, v] of Object.entries({
      response_type: 'code', client_id: 'tokenctl', redirect_uri: g.redirectUri(port), scope: 'openid api', state,
      nonce: crypto.randomBytes(16).toString('base64url'), code_challenge_method: 'S256',
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
    })) authorization.searchParams.set(k, v);
    let received = null;
    const listener = http.createServer((req, res) => {
      const url = new URL(req.url, `http://127.0.0.1:${port}`);
      if (url.pathname === '/start/one-time-random') {
        res.writeHead(302, { location: authorization.href });
        res.end();
      } else if (url.pathname === '/callback') {
        received = Object.fromEntries(url.searchParams);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<p>signed in</p>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((resolve) => listener.listen(port, '127.0.0.1', resolve));
    try {
      const log = path.join(g.dir, 'start-browser-log.json');
      const child = spawn(process.execPath, [GLEWLWYD_BROWSER, `http://127.0.0.1:${port}/start/one-time-random`], {
        env: { ...process.env, ...g.browserEnv(), TEST_BROWSER_CA: g.ca, TEST_BROWSER_LOG: log }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c) => { stderr += c; });
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      const steps = JSON.parse(fs.readFileSync(log, 'utf8')).steps;
      assert.equal(steps[0].location, authorization.href, 'the first URL redirected to the authorization URL');
      assert.equal(received?.state, state);
      assert.equal(received.iss, g.issuer);
      const res = await g.tokenRequest({
        grant_type: 'authorization_code', code: received.code, redirect_uri: g.redirectUri(port), client_id: 'tokenctl',
        code_verifier: verifier,
      });
      assert.equal(res.status, 200, res.text);
      await assertUserinfo(res.json().access_token);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  test('login on a redirect port glewlwyd does not know: its authorization endpoint refuses (403), the login times out', async () => {
    const env = envFor({ port: null });
    await g.reset();
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '2s'], { env, timeoutMs: 30000 });
    assertFailed(r, 1);
    assert.match(r.stderr, /within 2 ?s|timed? ?out/i);
    const [authz] = await g.requests('authorization');
    assert.equal(authz.status, 403, 'glewlwyd matches redirect URIs exactly, port included (no RFC 8252 7.3 any-port rule)');
    assert.ok(!g.redirectPorts.includes(Number(new URL(authz.query.redirect_uri).port)));
    assert.deepEqual(await g.requests('token'), []);
    assert.equal(fs.existsSync(cachePath(env)) && 'dev' in readCache(env).tokens, false);
  });

  test('refresh: token --min-ttl refreshes once as the public client; glewlwyd rotates the refresh token', async () => {
    const { env, set: old } = await loggedIn(g.redirectPorts[1], { viaFlag: true });
    makeDue(env);
    await g.reset();
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const sent = await g.requests();
    assert.deepEqual(sent.map((q) => q.endpoint), ['token'], 'one request, no discovery (endpoints are remembered)');
    const [q] = sent;
    assert.deepEqual(q.params, { grant_type: 'refresh_token', refresh_token: old.refresh_token, client_id: 'tokenctl' });
    assert.equal(q.authorization, null);
    assert.equal(q.status, 200);
    const issued = JSON.parse(q.response);
    assert.equal(token, issued.access_token);
    assert.ok(issued.refresh_token && issued.refresh_token !== old.refresh_token, 'glewlwyd rotated the refresh token');
    const set = readCache(env).tokens.dev;
    assert.equal(set.access_token, token);
    assert.equal(set.refresh_token, issued.refresh_token, 'the cache holds the rotated refresh token');
    assert.equal((Date.parse(set.expiry) - Date.parse(set.issued_at)) / 1000, TTL);
    await assertUserinfo(token, claims(old.id_token).sub);

    // `refresh` rotates again; the second rotated token replaces the first.
    await g.reset();
    const again = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
    const [q2] = await g.requests('token');
    assert.equal(q2.params.refresh_token, issued.refresh_token);
    const second = JSON.parse(q2.response);
    const now = readCache(env).tokens.dev;
    // TTL is 600 s: "(in 10m)" or, a second later, "(in 9m 59s)" (refreshedMessage is for < 60 s).
    assert.match(again.stderr, new RegExp(`^Refreshed profile "dev"; the access token expires at ${now.expiry} \\(in (10m|9m 59s)\\)\\.\n$`));
    assert.equal(now.refresh_token, second.refresh_token);
    assert.notEqual(now.refresh_token, issued.refresh_token);
    assertNoneIn([old.refresh_token, issued.refresh_token, second.refresh_token, second.access_token],
      [r.stderr, again.stderr], 'a token');

    // The refresh tokens used are dead at glewlwyd (one-time use).
    for (const used of [old.refresh_token, issued.refresh_token]) {
      const reuse = await g.redeemRefreshToken(used);
      assert.equal(reuse.status, 400, `a used refresh token was accepted: ${reuse.text}`);
    }
  });

  test('a refresh token glewlwyd disabled (a reuse broke the chain): HTTP 400 without a body; the cache kept, not "server trouble"', async () => {
      const { env, set: old } = await loggedIn(g.redirectPorts[2]);
      const r1 = await runTokenctl(['refresh', '-p', 'dev'], { env });
      assert.equal(r1.code, 0, r1.stderr);
      // Replaying the first refresh token makes glewlwyd disable the whole chain, the cached one too.
      assert.equal((await g.redeemRefreshToken(old.refresh_token)).status, 400);
      const snapshot = cacheSnapshot(env);
      const cached = readCache(env).tokens.dev;
      await g.reset();
      const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
      const [q] = await g.requests('token');
      assert.equal(q.params.refresh_token, cached.refresh_token);
      assert.equal(q.status, 400);
      assert.equal(q.response, '', 'glewlwyd sends no error code (RFC 6749 5.2 wants invalid_grant)');
      assert.deepEqual(cacheSnapshot(env), snapshot, 'the cache is left as it was');
      assert.ok(r.stderr.includes(cached.endpoints.token_endpoint), r.stderr);
      assert.match(r.stderr, /\b400\b/);
      assertNoneIn([cached.refresh_token, cached.access_token], [r.stderr], 'a token');
      // A 4xx is the server refusing, not trouble that passes (the man page: 4 is timeouts, 5xx, 429, TLS;
      // faults.test.mjs: "the request reached a server that refused it"): 1, or 3 (log in again).
      assert.equal(r.stdout, '');
      assert.ok([1, 3].includes(r.code), `exit ${r.code}, expected 1 or 3:\n${r.stderr}`);
    });

  describe('client credentials as the confidential client ci-runner', () => {
    test('scopes = ["api"]: one request with HTTP Basic and scope=api; the token is active; the cache reused', async () => {
      const env = envFor();
      await g.reset();
      const r = await runTokenctl(['token', '-p', 'ci', '-v'], { env });
      const token = printedLine(r);
      const sent = await g.requests();
      const [q] = sent.filter((e) => e.endpoint === 'token');
      assert.deepEqual(sent.map((e) => e.endpoint), ['metadata', 'discovery', 'token'],
        'RFC 8414 metadata (404 at glewlwyd), then OpenID discovery, then the token request');
      assert.equal(sent[0].path, '/.well-known/oauth-authorization-server/api/oidc');
      assert.equal(sent[0].status, 404);
      assert.equal(q.method, 'POST');
      assert.deepEqual(q.query, {});
      assert.deepEqual(q.params, { grant_type: 'client_credentials', scope: 'api' });
      assert.equal(q.authorization?.scheme, 'Basic');
      assert.equal(q.authorization.user, 'ci-runner');
      assert.equal(decodeURIComponent(q.authorization.password.replace(/\+/g, ' ')), g.ciSecret);
      assert.equal(q.status, 200);
      const issued = JSON.parse(q.response);
      assert.equal(token, issued.access_token);
      assert.match(r.stderr, /^> Authorization: Basic \[redacted\]$/m);
      assert.match(r.stderr, /^> grant_type=client_credentials&scope=api$/m);
      assertNoneIn([g.ciSecret, token], [r.stderr], 'the secret or the token');

      const set = readCache(env).tokens.ci;
      assert.equal(set.access_token, token);
      assert.equal(set.refresh_token, undefined, 'no refresh token for client credentials');
      assert.equal(set.token_type.toLowerCase(), 'bearer');
      assert.equal(fileMode(cachePath(env)).toString(8), '600');
      assertNoneIn([g.ciSecret], [fs.readFileSync(cachePath(env), 'utf8')], 'the secret');

      const info = await g.introspect(token);
      assert.equal(info.active, true, JSON.stringify(info));
      assert.equal(info.client_id, 'ci-runner');
      assert.equal(info.scope, 'api');

      await g.reset();
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'ci'], { env })), token);
      assert.deepEqual(await g.requests(), [], 'the cached token is reused without a request');
    });

    test('no scopes in the profile: the request carries no scope; glewlwyd refuses scope-less client credentials (403)', async () => {
        const env = envFor({ ciScopes: null });
        await g.reset();
        const r = await runTokenctl(['token', '-p', 'ci'], { env });
        const [q] = await g.requests('token');
        assert.equal(q.authorization?.user, 'ci-runner');
        assert.equal(fs.existsSync(cachePath(env)) && 'ci' in readCache(env).tokens, false, 'nothing cached');
        assertNoneIn([g.ciSecret], [r.stderr], 'the secret');
        assert.equal(r.stdout, '');
        assert.notEqual(r.code, 0);
        assert.ok(r.stderr.includes(`${g.issuer}/token`), r.stderr);
        assert.deepEqual(q.params, { grant_type: 'client_credentials' }, 'no scope parameter (the man page Scopes)');
        assert.equal(q.status, 403, 'glewlwyd wants a scope for client credentials and says so with an empty 403');
      });

    test('a wrong secret: glewlwyd answers 403 without a body; exit 1, nothing cached, the secret not shown', async () => {
        const wrong = `${g.ciSecret}-wrong`;
        const env = envFor({ secret: wrong });
        await g.reset();
        const r = await runTokenctl(['token', '-p', 'ci', '-v'], { env });
        const [q] = await g.requests('token');
        assert.equal(q.status, 403);
        assert.equal(q.response, '');
        assertNoneIn([wrong, g.ciSecret], [r.stderr], 'a secret');
        assert.equal(fs.existsSync(cachePath(env)) && 'ci' in readCache(env).tokens, false, 'nothing cached');
        assert.match(r.stderr, new RegExp(`^tokenctl: error: .*${escape(`${g.issuer}/token`)}.*\\b403\\b`, 'm'));
        assertFailed(r, 1);
      });
  });

  describe('revoke', () => {
    test('client credentials: revoke sends the access token with HTTP Basic; inactive afterwards; the profile kept', async () => {
      const env = envFor();
      const token = printedLine(await runTokenctl(['token', '-p', 'ci'], { env }));
      assert.equal((await g.introspect(token)).active, true);
      await g.reset();
      const r = await runTokenctl(['revoke', '-p', 'ci'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Revoked the tokens of profile "ci"/);
      const sent = await g.requests();
      assert.deepEqual(sent.map((q) => q.endpoint), ['revocation']);
      const [q] = sent;
      assert.equal(q.params.token, token);
      assert.ok([undefined, 'access_token'].includes(q.params.token_type_hint), q.params.token_type_hint);
      assert.equal(q.params.client_secret, undefined);
      assert.equal(q.authorization?.user, 'ci-runner');
      assert.equal(decodeURIComponent(q.authorization.password.replace(/\+/g, ' ')), g.ciSecret);
      assert.equal(q.status, 200);
      assert.equal((await g.introspect(token)).active, false, 'the access token is revoked at glewlwyd');
      assert.equal('ci' in readCache(env).tokens, false);
      assert.match(fs.readFileSync(configPath(env), 'utf8'), /\[profiles\.ci\]/);
      assertNoneIn([token, g.ciSecret], [r.stderr], 'the token or the secret');
    });

    test('a login of the public client: glewlwyd refuses revocation by public clients (401); exit 1, the cache kept; --local forgets', async () => {
      const { env, set } = await loggedIn(g.redirectPorts[3]);
      const snapshot = cacheSnapshot(env);
      await g.reset();
      const r = await runTokenctl(['revoke', '-p', 'dev'], { env });
      assertFailed(r, 1);
      assert.match(r.stderr, new RegExp(`revocation endpoint ${escape(`${g.issuer}/revoke`)} .*\\b401\\b`));
      const sent = await g.requests('revocation');
      assert.ok(sent.length >= 1);
      assert.equal(sent[0].params.token, set.refresh_token);
      assert.equal(sent[0].params.token_type_hint, 'refresh_token');
      assert.equal(sent[0].params.client_id, 'tokenctl');
      assert.equal(sent[0].authorization, null);
      assert.ok(sent.every((q) => q.status === 401));
      assert.deepEqual(cacheSnapshot(env), snapshot, 'a refused revocation keeps the cache for another try or --local');
      assertNoneIn([set.refresh_token, set.access_token], [r.stderr], 'a token');
      await assertUserinfo(set.access_token);

      const local = await runTokenctl(['revoke', '--local', '-p', 'dev'], { env });
      assert.equal(local.code, 0, local.stderr);
      assert.equal('dev' in readCache(env).tokens, false);
      const again = await runTokenctl(['token', '-p', 'dev'], { env });
      assert.equal(again.code, 3, again.stderr);
    });
  });
});
