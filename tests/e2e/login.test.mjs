// End-to-end tests of `tokenctl login` and `tokenctl token` (the man page, sections `login` and `token`):
// the built binary against oidc-provider on loopback, with the BROWSER stand-in signing in.
// Needs TOKENCTL_BIN (ctest sets it); every test fails loudly without it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import {
  cachePath, configPath, fileMode, freshEnv, profileToml, readBrowserLog, readCache, runTokenctl,
  startServer, writeConfig,
} from './lib/harness.mjs';

const ERROR_LINE = /^tokenctl: error: \S.*$/m;
const UNRESERVED = /^[A-Za-z0-9._~-]{43,128}$/;

// Every token the server has issued so far (from the token endpoint's recorded answers).
async function issuedTokens(server) {
  const out = [];
  for (const entry of await server.requests('token')) {
    if (entry.status !== 200 || !entry.response) continue;
    const body = JSON.parse(entry.response);
    for (const key of ['access_token', 'refresh_token', 'id_token']) if (body[key]) out.push(body[key]);
  }
  return out;
}

async function assertNoTokenIn(server, ...texts) {
  for (const token of await issuedTokens(server)) {
    for (const text of texts) assert.equal(text.includes(token), false, 'a token was printed');
  }
}

// A failed run: the exit status, nothing on stdout, one `tokenctl: error:` line on stderr.
function assertFailed(r, code) {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}; stderr:\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, ERROR_LINE);
}

function cachedProfiles(env) {
  if (!fs.existsSync(cachePath(env))) return [];
  return Object.keys(readCache(env).tokens || {});
}

async function loginEnv(server, extra = {}) {
  const env = freshEnv(server, extra);
  writeConfig(env, profileToml(server));
  return env;
}

describe('login against an issuer over TLS', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(() => server?.stop());

  test('login signs in through the browser, caches the token set privately, token prints it', async () => {
    await server.reset();
    const env = await loginEnv(server);
    const r = await runTokenctl(['login', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /alice/i);
    assert.match(r.stderr, /expir/i);
    const browser = await readBrowserLog(env);
    assert.equal(browser.result, 'ok', JSON.stringify(browser));
    assert.equal(browser.final.status, 200);
    // The browser gets a one-time loopback address that holds nothing of the login; the
    // authorization URL it redirects to is printed on stderr (the user's own).
    assert.match(browser.url, /^http:\/\/127\.0\.0\.1:\d+\/start\/[A-Za-z0-9_-]{22}$/);
    assert.equal(browser.steps[0].status, 302);
    assert.ok(r.stderr.includes(browser.authorizationUrl), 'the authorization URL is printed on stderr');
    assert.doesNotMatch(browser.authorizationUrl, /code_verifier|client_secret/);
    await assertNoTokenIn(server, r.stderr);

    const cache = cachePath(env);
    assert.equal(fileMode(cache).toString(8), '600');
    const parsed = readCache(env);
    assert.equal(parsed.version, 1);
    assert.equal(typeof parsed.tokens.dev, 'object');

    const [authz] = await server.requests('authorization');
    const tokenRequests = await server.requests('token');
    assert.equal(tokenRequests.length, 1);
    const { params } = tokenRequests[0];
    assert.equal(params.grant_type, 'authorization_code');
    assert.equal(params.client_id, 'tokenctl');
    assert.equal(params.client_secret, undefined);
    assert.match(params.code_verifier, UNRESERVED);
    assert.match(params.redirect_uri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(params.redirect_uri, authz.query.redirect_uri);
    assert.equal(authz.query.code_challenge_method, 'S256');
    assert.equal(authz.query.code_challenge,
      crypto.createHash('sha256').update(params.code_verifier).digest('base64url'));
    assert.ok(authz.query.state.length >= 22, 'state carries at least 128 bits');
    assert.ok(authz.query.nonce, 'nonce is sent when openid is in scope');
    assert.deepEqual(authz.query.scope.split(' ').sort(), ['offline_access', 'openid', 'profile']);
    assert.match(authz.query.prompt, /\bconsent\b/);

    const t = await runTokenctl(['token', '-p', 'dev'], { env });
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^[^\n]+\n$/);
    const token = t.stdout.slice(0, -1);
    assert.equal(token, JSON.parse(tokenRequests[0].response).access_token);
    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().sub, 'alice');
    assert.equal(who.json().client_id, 'tokenctl');
    assert.equal((await server.requests('token')).length, 1, 'a valid cached token needs no request');
  });

  test('an existing 0755 config folder that gets the cache is tightened to 0700', async () => {
    const env = await loginEnv(server);
    assert.equal(fileMode(path.dirname(configPath(env))).toString(8), '755');
    const r = await runTokenctl(['login', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fileMode(path.dirname(cachePath(env))).toString(8), '700');
  });

  test('a new cache folder is 0700 and the cache 0600 even under umask 000', async () => {
    const env = freshEnv(server);
    env.TOKENCTL_TOKEN_CACHE = path.join(env.HOME, 'new-folder', 'token-cache.json');
    writeConfig(env, profileToml(server));
    const r = await runTokenctl(['login', '-p', 'dev'], { env, umask: 0o000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fileMode(cachePath(env)).toString(8), '600');
    assert.equal(fileMode(path.dirname(cachePath(env))).toString(8), '700');
    assert.equal(fs.existsSync(path.join(env.XDG_CONFIG_HOME, 'tokenctl', 'token-cache.json')), false);
  });

  for (const [mode, what] of [['wrong-iss', 'another issuer in iss'],
    ['drop-iss', 'no iss although the server advertises it']]) {
    test(`a callback with ${what} is refused and no token is requested`, async () => {
      await server.reset();
      const env = await loginEnv(server, { TEST_BROWSER_MODE: mode });
      const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env });
      assertFailed(r, 1);
      assert.match(r.stderr, /^tokenctl: error: login refused: the callback/m);
      const browser = await readBrowserLog(env);
      assert.ok(browser.callback, `the stand-in reached the listener: ${JSON.stringify(browser)}`);
      assert.deepEqual(await server.requests('token'), []);
      assert.deepEqual(cachedProfiles(env), []);
    });
  }

  test('a callback with a forged state is answered 400 and ignored: the login waits on, then times out', async () => {
    await server.reset();
    const env = await loginEnv(server, { TEST_BROWSER_MODE: 'wrong-state' });
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '4s'], { env });
    assertFailed(r, 1);
    assert.ok(r.ms >= 3500, `waited for the real callback until the timeout (${r.ms} ms)`);
    assert.match(r.stderr, /^tokenctl: warning: ignored a callback whose state does not match this login \(a forged or stale redirect\); still waiting for the browser$/m);
    assert.match(r.stderr, /^tokenctl: error: no answer from the browser within 4s \(1 callback for another login ignored\); run tokenctl login again$/m);
    const browser = await readBrowserLog(env);
    assert.equal(browser.final?.status, 400, `the forged callback got 400: ${JSON.stringify(browser.final)}`);
    assert.deepEqual(await server.requests('token'), []);
    assert.deepEqual(cachedProfiles(env), []);
  });

  test('denied consent ends the login with access_denied', async () => {
    await server.reset();
    const env = await loginEnv(server, { TEST_BROWSER_MODE: 'deny' });
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '30s'], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, /access_denied/);
    assert.deepEqual(await server.requests('token'), []);
    assert.deepEqual(cachedProfiles(env), []);
  });

  test('--timeout 3s ends a login nobody completes', async () => {
    await server.reset();
    const env = await loginEnv(server, { TEST_BROWSER_MODE: 'idle' });
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '3s'], { env, timeoutMs: 30000 });
    assertFailed(r, 1);
    assert.match(r.stderr, /timed? ?out|within 3 ?s|after 3 ?s/i, 'stderr mentions the timeout');
    assert.ok(r.ms >= 2500, `gave up after ${r.ms} ms, before the timeout`);
    assert.ok(r.ms < 10000, `took ${r.ms} ms`);
    const browser = await readBrowserLog(env);
    assert.match(browser.authorizationUrl, /^https:\/\/127\.0\.0\.1:\d+\/auth\?/);
    assert.deepEqual(await server.requests('token'), []);
  });

  test('without ca_file the server certificate is not trusted: exit 4', async () => {
    await server.reset();
    const env = freshEnv(server);
    writeConfig(env, profileToml(server, { caFile: false }));
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '30s'], { env });
    assertFailed(r, 4);
    assert.deepEqual(cachedProfiles(env), []);
    assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false, 'no browser before discovery worked');
  });
});

test('login --host http://example.com is a usage error (exit 2) before any network use', async () => {
  let connections = 0;
  const trap = net.createServer((socket) => { connections += 1; socket.destroy(); });
  await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const proxy = `http://127.0.0.1:${trap.address().port}`;
  try {
    const env = freshEnv(null, {
      http_proxy: proxy, https_proxy: proxy, HTTPS_PROXY: proxy, ALL_PROXY: proxy, all_proxy: proxy,
    });
    const r = await runTokenctl(['login', '--host', 'http://example.com'], { env, timeoutMs: 30000 });
    assertFailed(r, 2);
    assert.match(r.stderr, /http/);
    assert.equal(connections, 0, 'tokenctl connected (through the proxy trap) before refusing');
    assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false);
    assert.equal(fs.existsSync(configPath(env)), false, 'the refused profile was written');
  } finally {
    await new Promise((resolve) => trap.close(resolve));
  }
});

describe('after a login', () => {
  let server;
  let env;
  let loginStderr;
  before(async () => {
    server = await startServer();
    env = await loginEnv(server);
    const r = await runTokenctl(['login', '-p', 'dev'], { env: { ...env, LD_DEBUG: 'libs' } });
    assert.equal(r.code, 0, r.stderr);
    loginStderr = r.stderr;
  });
  after(() => server?.stop());

  test('show -p dev describes the profile without printing a token', async () => {
    const r = await runTokenctl(['show', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(server.issuer), r.stdout);
    assert.match(r.stdout, /tokenctl/);
    await assertNoTokenIn(server, r.stdout, r.stderr);
  });

  test('token on a valid cached token never loads the network module', async () => {
    assert.match(loginStderr, /tokenctl-net\.so/, 'control: LD_DEBUG=libs shows the module at login');
    const countBefore = (await server.requests()).length;
    const r = await runTokenctl(['token', '-p', 'dev'], { env: { ...env, LD_DEBUG: 'libs' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[^\n]+\n$/);
    assert.match(r.stderr, /find library|calling init/, 'control: LD_DEBUG output is there');
    assert.doesNotMatch(r.stderr, /tokenctl-net\.so/);
    assert.doesNotMatch(r.stderr, /libcurl/);
    assert.equal((await server.requests()).length, countBefore, 'no request to the server');
  });

  test('token --header and -o json', async () => {
    const plain = (await runTokenctl(['token', '-p', 'dev'], { env })).stdout.trim();
    const header = await runTokenctl(['token', '-p', 'dev', '--header'], { env });
    assert.equal(header.code, 0, header.stderr);
    assert.equal(header.stdout, `Authorization: Bearer ${plain}\n`);
    const json = await runTokenctl(['-o', 'json', 'token', '-p', 'dev'], { env });
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.access_token, plain);
    assert.match(doc.token_type, /^bearer$/i);
    assert.match(doc.expiry, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Number.isInteger(doc.expires_in) && doc.expires_in > 3000 && doc.expires_in <= 3600,
      String(doc.expires_in));
  });
});

describe('login against an issuer with a path', () => {
  let server;
  before(async () => { server = await startServer({ issuerPath: '/realms/corp' }); });
  after(() => server?.stop());

  test('discovery, login and token work below /realms/corp', async () => {
    const env = await loginEnv(server);
    const r = await runTokenctl(['login', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    const t = await runTokenctl(['token', '-p', 'dev'], { env });
    assert.equal(t.code, 0, t.stderr);
    const who = await server.whoami(t.stdout.trim());
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().sub, 'alice');
    const [tokenRequest] = await server.requests('token');
    assert.equal(tokenRequest.path, '/realms/corp/token');
    const discovery = await server.requests('discovery');
    assert.equal(discovery[0].path, '/realms/corp/.well-known/openid-configuration');
  });
});
