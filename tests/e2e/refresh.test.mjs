// tokenctl token / refresh against the real server when the access token runs out (the man page `token`,
// `refresh`, Exit status): one refresh_token grant,
// the rotated refresh token saved and the old one dead at the server, no request while the token
// is fresh, invalid_grant -> exit 3 with the login command and the cache untouched, -v redacted.
// Access tokens live 20 s; lib/tokens.mjs `makeDue` explains how a token is made due at once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import { cachePath, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig } from './lib/harness.mjs';
import {
  assertFailed, assertNoneIn, cacheSnapshot, closedPort, issuedTokens, login, makeDue, MIN_TTL, patchCache, printedLine, redeemRefreshToken, refreshedMessage, revokeAtServer,
} from './lib/tokens.mjs';

const TTL = 20;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loggedIn(server, names = ['dev']) {
  const env = freshEnv(server);
  writeConfig(env, names.map((name) => profileToml(server, { name })).join('\n'));
  for (const name of names) await login(env, name);
  return env;
}

// The one request tokenctl sent for a refresh: a refresh_token grant of the public client.
function assertOneRefresh(requests, refreshToken) {
  assert.deepEqual(requests.map((q) => q.endpoint), ['token'], 'exactly one request, to the token endpoint');
  const [q] = requests;
  assert.equal(q.method, 'POST');
  assert.deepEqual(q.query, {});
  assert.equal(q.params.grant_type, 'refresh_token');
  assert.equal(q.params.refresh_token, refreshToken, 'the cached refresh token was sent');
  assert.equal(q.params.client_id, 'tokenctl');
  assert.equal(q.params.client_secret, undefined);
  assert.equal(q.authorization, null, 'a public client sends no Authorization header');
  assert.equal(q.status, 200);
  return JSON.parse(q.response);
}

describe(`refresh with ${TTL} s access tokens and rotating refresh tokens`, () => {
  let server;
  before(async () => { server = await startServer({ accessTokenTTL: TTL }); });
  after(() => server?.stop());

  test('token with less than --min-ttl left refreshes once; the old refresh token is dead', async () => {
    const env = await loggedIn(server);
    await server.reset();
    const calm = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    assert.equal(printedLine(calm), readCache(env).tokens.dev.access_token, `more than ${MIN_TTL} left: the cached token`);
    assert.equal(calm.stderr, '');
    assert.deepEqual(await server.requests(), [], 'a token with enough time left needs no request');

    const old = makeDue(env);

    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const issued = assertOneRefresh(await server.requests(), old.refresh_token);
    assert.notEqual(token, old.access_token);
    assert.equal(token, issued.access_token, 'the token printed is the one just issued');
    assert.equal(issued.expires_in, TTL);
    assert.ok(issued.refresh_token && issued.refresh_token !== old.refresh_token, 'the server rotated');

    const set = readCache(env).tokens.dev;
    assert.equal(set.access_token, token);
    assert.equal(set.refresh_token, issued.refresh_token, 'the cache holds the rotated refresh token');
    assert.equal((Date.parse(set.expiry) - Date.parse(set.issued_at)) / 1000, TTL);
    assert.ok(Math.abs(Date.parse(set.expiry) - (Date.now() + TTL * 1000)) < 3000, set.expiry);
    assert.equal(set.id_token, issued.id_token);
    assert.deepEqual(set.endpoints, old.endpoints);

    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().sub, 'alice');
    assert.equal(who.json().client_id, 'tokenctl');

    await server.reset();
    for (const args of [['token', '-p', 'dev', '--min-ttl', MIN_TTL], ['token', '-p', 'dev']]) {
      const again = await runTokenctl(args, { env });
      assert.equal(printedLine(again), token, `${args.join(' ')}: the new token, from the cache`);
    }
    assert.deepEqual(await server.requests(), [], 'a fresh token (more than half its lifetime left) needs no request');

    // Last, because oidc-provider answers the reuse of a rotated refresh token by revoking the grant.
    const reuse = await redeemRefreshToken(server, old.refresh_token);
    assert.equal(reuse.status, 400, reuse.text);
    assert.equal(reuse.json().error, 'invalid_grant');
  });

  test('token --header and -o json after a refresh', async () => {
    const env = await loggedIn(server);
    makeDue(env);
    await server.reset();
    const header = await runTokenctl(['token', '-p', 'dev', '--header', '--min-ttl', MIN_TTL], { env });
    assert.equal(header.code, 0, header.stderr);
    assert.equal(header.stderr, '');
    const [first] = (await server.requests('token')).map((q) => JSON.parse(q.response));
    assert.equal(header.stdout, `Authorization: Bearer ${first.access_token}\n`);

    makeDue(env);
    await server.reset();
    const json = await runTokenctl(['-o', 'json', 'token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stderr, '');
    const issued = assertOneRefresh(await server.requests(), first.refresh_token);
    assert.match(json.stdout, /^\{[^\n]*\}\n$/, 'one JSON line');
    const doc = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(doc).sort(), ['access_token', 'expires_in', 'expiry', 'token_type']);
    assert.equal(doc.access_token, issued.access_token);
    assert.equal(doc.token_type, 'Bearer');
    assert.equal(doc.expiry, readCache(env).tokens.dev.expiry);
    assert.ok(Number.isInteger(doc.expires_in) && doc.expires_in > TTL - 5 && doc.expires_in <= TTL,
      String(doc.expires_in));
  });

  test('refresh: refreshes a fresh token now, names the new expiry on stderr, prints nothing', async () => {
    const env = await loggedIn(server);
    const old = readCache(env).tokens.dev;
    await server.reset();
    const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const issued = assertOneRefresh(await server.requests(), old.refresh_token);
    const set = readCache(env).tokens.dev;
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    assert.match(r.stderr, refreshedMessage('dev', set.expiry, TTL));
    assertNoneIn([old.access_token, old.refresh_token, issued.access_token, issued.refresh_token],
      [r.stderr], 'a token');
  });

  test('refresh --all reports every profile and exits with the worst code (4 over 3 over 0)', async () => {
    const env = await loggedIn(server, ['one', 'two', 'three']);
    const before = readCache(env).tokens;
    await revokeAtServer(server, before.two.refresh_token);
    const port = await closedPort();
    const deadEndpoint = `https://127.0.0.1:${port}/token`;
    patchCache(env, (c) => { c.tokens.three.endpoints.token_endpoint = deadEndpoint; });
    const kept = readCache(env).tokens;
    await server.reset();

    const r = await runTokenctl(['refresh', '--all'], { env });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Refreshed profile "one"; the access token expires at \S+Z \(in \d+s\)\.$/m);
    assert.match(r.stderr, /^tokenctl: error: two: .*invalid_grant/m);
    assert.match(r.stderr, new RegExp(`^tokenctl: error: three: .*${deadEndpoint.replace(/[.]/g, '\\.')}`, 'm'));
    assert.equal(r.stderr.match(/^tokenctl: error: /gm).length, 2, r.stderr);

    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => [q.endpoint, q.params.refresh_token, q.status]),
      [['token', before.one.refresh_token, 200], ['token', before.two.refresh_token, 400]]);
    const after = readCache(env).tokens;
    assert.equal(after.one.refresh_token, JSON.parse(sent[0].response).refresh_token);
    assert.deepEqual(after.two, kept.two, 'the rejected profile is left as it was');
    assert.deepEqual(after.three, kept.three, 'the unreachable profile is left as it was');
  });

  test('refresh --all: a profile whose refresh token was rejected is told which login to run',
    async () => {
      const env = await loggedIn(server, ['one', 'two']);
      await revokeAtServer(server, readCache(env).tokens.two.refresh_token);
      const r = await runTokenctl(['refresh', '--all'], { env });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /^Refreshed profile "one"/m);
      assert.ok(r.stderr.includes('tokenctl login -p two'), `exit 3 must name the login command:\n${r.stderr}`);
    });

  test('a refresh token revoked at the server: exit 3, the login command named, the cache untouched', async () => {
    const env = await loggedIn(server);
    const set = makeDue(env);
    await revokeAtServer(server, set.refresh_token);
    await server.reset();
    const snapshot = cacheSnapshot(env);
    for (const args of [['token', '-p', 'dev', '--min-ttl', MIN_TTL], ['refresh', '-p', 'dev']]) {
      const r = await runTokenctl(args, { env });
      assertFailed(r, 3);
      assert.match(r.stderr, /invalid_grant/);
      assert.ok(r.stderr.includes('tokenctl login -p dev'), r.stderr);
      assert.ok(r.stderr.includes(set.endpoints.token_endpoint), 'stderr names the token endpoint');
      assertNoneIn([set.access_token, set.refresh_token], [r.stderr], 'a token');
      assert.deepEqual(cacheSnapshot(env), snapshot, `${args[0]}: cache bytes, inode and mtime unchanged`);
    }
    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => [q.endpoint, q.params.grant_type, q.status]),
      [['token', 'refresh_token', 400], ['token', 'refresh_token', 400]], 'one request per run, never retried');
  });

  test('a garbage refresh token in the cache: exit 3 and the cache untouched', async () => {
    const env = await loggedIn(server);
    patchCache(env, (c) => { c.tokens.dev.refresh_token = 'not-a-refresh-token-of-this-server'; });
    makeDue(env);
    await server.reset();
    const snapshot = cacheSnapshot(env);
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    assertFailed(r, 3);
    assert.match(r.stderr,
      /^tokenctl: error: the server rejected the refresh token of profile "dev": .*invalid_grant/m);
    assert.match(r.stderr, /^tokenctl: hint: run: tokenctl login -p dev$/m);
    assert.equal(r.stderr.includes('not-a-refresh-token'), false);
    assert.deepEqual(cacheSnapshot(env), snapshot);
    assert.equal((await server.requests('token')).length, 1);
  });

  test('-v shows the refresh exchange but neither refresh token nor any access token', async () => {
    const env = await loggedIn(server);
    const old = makeDue(env);
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL, '-v'], { env });
    const token = printedLine(r);
    const issued = assertOneRefresh(await server.requests(), old.refresh_token);
    assert.equal(token, issued.access_token);
    assert.match(r.stderr, new RegExp(`^> POST ${old.endpoints.token_endpoint.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(r.stderr, /^> grant_type=refresh_token&refresh_token=\[redacted\]&client_id=tokenctl$/m);
    assert.match(r.stderr, /^< 200$/m);
    assert.match(r.stderr, /"access_token":"\[redacted\]"/);
    assertNoneIn([old.access_token, old.refresh_token, old.id_token, ...await issuedTokens(server)],
      [r.stderr], 'a token');
  });
});

describe('refresh without touching the cache: a 10 s token, waited on', () => {
  let server;
  before(async () => { server = await startServer({ accessTokenTTL: 10 }); });
  after(() => server?.stop());

  test('the default margin (5m) is capped at half the lifetime: fresh for 5 s, then refreshed', async () => {
    const env = await loggedIn(server);
    const old = readCache(env).tokens.dev;
    await server.reset();
    const early = await runTokenctl(['token', '-p', 'dev'], { env });
    assert.equal(printedLine(early), old.access_token);
    assert.deepEqual(await server.requests(), [], 'more than half the lifetime left: no request');
    assert.ok(Date.now() < Date.parse(old.issued_at) + 5000, 'control: the first call came within 5 s');

    await sleep(Date.parse(old.issued_at) + 5300 - Date.now());
    const late = await runTokenctl(['token', '-p', 'dev'], { env });
    const token = printedLine(late);
    const issued = assertOneRefresh(await server.requests(), old.refresh_token);
    assert.equal(token, issued.access_token);
    assert.equal(readCache(env).tokens.dev.refresh_token, issued.refresh_token);
    assert.equal(fs.statSync(cachePath(env)).mode & 0o777, 0o600);
  });
});
