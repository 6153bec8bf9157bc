// Helpers for the refresh, fault, client-credentials and concurrency tests: log a profile in,
// make its cached token set due for a refresh, snapshot the cache file, talk to the token and
// revocation endpoints directly, and collect every token the server handed out.
//
// Why `makeDue` edits the cache: a token fresh from the server has its whole lifetime left, so
// only time can make it due. Rather than sleep most of a lifetime in every test, `makeDue` moves
// the set's expiry (and issued_at, keeping its lifetime) back, as if it had been issued long ago,
// until DUE_LEFT seconds are left: then `token --min-ttl MIN_TTL` (more than DUE_LEFT, less than any
// test server's token lifetime) refreshes it exactly once, and the fresh token meets the margin, so
// nothing is said on stderr. The tokens stay what the server issued. One test in refresh.test.mjs
// waits for real instead.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { cachePath, httpRequest, readCache, runTokenctl } from './harness.mjs';

// RFC 3339 UTC to whole seconds, as tokenctl writes it.
export function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Log in profile `name` (already in the config of `env`) through the BROWSER stand-in.
export async function login(env, name = 'dev') {
  const r = await runTokenctl(['login', '-p', name], { env });
  assert.equal(r.code, 0, `login -p ${name} failed:\n${r.stderr}`);
  return readCache(env).tokens[name];
}

// Rewrite the cache of `env` through `edit(cache)` (the parsed JSON), keeping the file's mode.
export function patchCache(env, edit) {
  const file = cachePath(env);
  const cache = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(cache);
  fs.writeFileSync(file, `${JSON.stringify(cache, null, 2)}\n`);
  return cache;
}

// Seconds left on a token after makeDue, and the --min-ttl that then refreshes it once.
export const DUE_LEFT = 2;
export const MIN_TTL = '5s';

// Make the token set of `name` due (see the top of the file): DUE_LEFT seconds left, its lifetime
// (expiry - issued_at) unchanged. Returns the token set as it now is.
export function makeDue(env, name = 'dev') {
  const cache = patchCache(env, (c) => {
    const set = c.tokens[name];
    assert.ok(set?.expiry && set?.issued_at, `profile ${name} has a token set with an expiry`);
    const lifetime = Date.parse(set.expiry) - Date.parse(set.issued_at);
    const expiry = Math.floor(Date.now() / 1000) * 1000 + DUE_LEFT * 1000;
    set.expiry = isoSeconds(expiry);
    set.issued_at = isoSeconds(expiry - lifetime);
  });
  return cache.tokens[name];
}

// Make the access token of `name` expired a minute ago (issued an hour before that), as a token
// left in the cache overnight; returns the token set as it now is.
export function expireNow(env, name = 'dev') {
  return patchCache(env, (c) => {
    c.tokens[name].expiry = isoSeconds(Date.now() - 60000);
    c.tokens[name].issued_at = isoSeconds(Date.now() - 3660000);
  }).tokens[name];
}

// What must not change when a refresh fails: the cache's bytes, inode and mtime, and the names in
// its folder (no temporary file left behind, no backup written).
export function cacheSnapshot(env) {
  const file = cachePath(env);
  const st = fs.statSync(file, { bigint: true });
  return {
    bytes: fs.readFileSync(file).toString('base64'),
    ino: st.ino.toString(),
    mtimeNs: st.mtimeNs.toString(),
    mode: (Number(st.mode) & 0o777).toString(8),
    folder: fs.readdirSync(path.dirname(file)).sort(),
  };
}

// A loopback port with nothing listening on it (listened on, then closed).
export async function closedPort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function formPost(server, endpointPath, params) {
  return httpRequest(`${server.issuer}${endpointPath}`, {
    method: 'POST', ca: server.ca,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
  });
}

// Redeem `refreshToken` at the token endpoint ourselves, as the public client tokenctl.
export function redeemRefreshToken(server, refreshToken) {
  return formPost(server, '/token', {
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'tokenctl',
  });
}

// Revoke `token` (a refresh token) at the server, as the public client tokenctl; asserts 200.
export async function revokeAtServer(server, token) {
  const res = await formPost(server, '/token/revocation', {
    token, token_type_hint: 'refresh_token', client_id: 'tokenctl',
  });
  assert.equal(res.status, 200, `revocation failed: ${res.text}`);
}

// The parsed answers of the successful token requests in the server's log, oldest first.
export async function issuedSets(server) {
  const out = [];
  for (const entry of await server.requests('token')) {
    if (entry.status === 200 && entry.response && !entry.fault) out.push(JSON.parse(entry.response));
  }
  return out;
}

// Every token value the server has issued so far (access, refresh and id tokens).
export async function issuedTokens(server) {
  const out = [];
  for (const set of await issuedSets(server)) {
    for (const key of ['access_token', 'refresh_token', 'id_token']) if (set[key]) out.push(set[key]);
  }
  return out;
}

// Assert that none of `secrets` occurs in any of `texts` (without printing the secret).
export function assertNoneIn(secrets, texts, what = 'a secret') {
  for (const secret of secrets) {
    if (!secret) continue;
    for (const text of texts) {
      assert.equal(text.includes(secret), false, `${what} (ending ...${secret.slice(-4)}) was printed`);
    }
  }
}

// Assert that `r` failed with `code`, nothing on stdout and a `tokenctl: error:` line on stderr.
export function assertFailed(r, code) {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}; stderr:\n${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout after a failure');
  assert.match(r.stderr, /^tokenctl: error: \S/m);
}

// The whole stderr of a successful `refresh` of `name` whose new token expires at `expiry` after
// `ttl` seconds; the seconds left are counted from the send time, rounded down: ttl or ttl - 1.
export function refreshedMessage(name, expiry, ttl) {
  const left = `(${ttl - 1}|${ttl})s`;
  return new RegExp(`^Refreshed profile "${name}"; the access token expires at ${expiry} \\(in ${left}\\)\\.\n$`);
}

// Assert that `r` succeeded and printed exactly one line; returns that line.
export function printedLine(r) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr:\n${r.stderr}`);
  assert.match(r.stdout, /^[^\n]+\n$/, 'exactly one line on stdout');
  return r.stdout.slice(0, -1);
}
