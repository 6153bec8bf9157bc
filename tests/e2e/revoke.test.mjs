// tokenctl revoke against the real server: both tokens inactive afterwards (checked by
// introspection), the cache entry gone, the profile kept; server trouble keeps the cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  startServer, freshEnv, writeConfig, profileToml, runTokenctl, cachePath, configPath, readCache, httpRequest,
} from './lib/harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function introspect(token) {
  const res = await httpRequest(`${server.issuer}/token/introspection`, {
    method: 'POST', ca: server.ca,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`ci-runner:${server.ciSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(res.status, 200, res.text);
  return res.json().active;
}

async function loggedIn(names = ['dev']) {
  const env = freshEnv(server);
  writeConfig(env, names.map((name) => profileToml(server, { name })).join('\n'));
  for (const name of names) {
    const r = await runTokenctl(['login', '-p', name], { env });
    assert.equal(r.code, 0, r.stderr);
  }
  return env;
}

test('revoke revokes both tokens at the server, forgets them, keeps the profile', async () => {
  const env = await loggedIn();
  const set = readCache(env).tokens.dev;
  assert.ok(await introspect(set.access_token));
  await server.reset();
  const r = await runTokenctl(['revoke', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Revoked the tokens of profile "dev"/);
  const sent = await server.requests('revocation');
  assert.deepEqual(sent.map((q) => q.params.token_type_hint), ['refresh_token', 'access_token']);
  assert.ok(sent.every((q) => q.params.client_id === 'tokenctl'));
  assert.equal(await introspect(set.access_token), false);
  assert.equal(await introspect(set.refresh_token), false);
  assert.deepEqual(Object.keys(readCache(env).tokens), []);
  assert.match(fs.readFileSync(configPath(env), 'utf8'), /\[profiles\.dev\]/);
  const list = await runTokenctl(['list', '-o', 'json'], { env });
  assert.equal(JSON.parse(list.stdout)[0].status, 'logged-out');
  const again = await runTokenctl(['token', '-p', 'dev'], { env });
  assert.equal(again.code, 3);
});

test('server trouble: exit 4 and the cache kept byte for byte; a retry then succeeds', async () => {
  const env = await loggedIn();
  const before = fs.readFileSync(cachePath(env));
  await server.reset();
  await server.fault({ path: '/token/revocation', mode: '503', count: 10 });
  const r = await runTokenctl(['revoke'], { env: { ...env, TOKENCTL_PROFILE: 'dev' } });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /revocation endpoint .*503/);
  assert.deepEqual(fs.readFileSync(cachePath(env)), before);
  await server.reset();
  const retry = await runTokenctl(['revoke', '-p', 'dev'], { env });
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal(await introspect(JSON.parse(before).tokens.dev.refresh_token), false);
});

test('revoke --local forgets without telling the server', async () => {
  const env = await loggedIn();
  const set = readCache(env).tokens.dev;
  await server.reset();
  const r = await runTokenctl(['revoke', '--local', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /nothing was revoked at the server/);
  assert.equal((await server.requests('revocation')).length, 0);
  assert.ok(await introspect(set.access_token));
  assert.deepEqual(Object.keys(readCache(env).tokens), []);
});

test('a server without a revocation endpoint: forgotten here, and stderr says so', async () => {
  const env = await loggedIn();
  const cache = readCache(env);
  delete cache.tokens.dev.endpoints.revocation_endpoint;
  fs.writeFileSync(cachePath(env), JSON.stringify(cache), { mode: 0o600 });
  await server.reset();
  const r = await runTokenctl(['revoke', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no revocation endpoint: nothing was revoked there/);
  assert.equal((await server.requests('revocation')).length, 0);
  assert.deepEqual(Object.keys(readCache(env).tokens), []);
});

test('revoke --all revokes every profile; a profile without tokens is fine', async () => {
  const env = await loggedIn(['one', 'two']);
  const sets = readCache(env).tokens;
  const r = await runTokenctl(['revoke', '--all'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(readCache(env).tokens), []);
  for (const name of ['one', 'two']) assert.equal(await introspect(sets[name].refresh_token), false);
  const none = await runTokenctl(['revoke', '-p', 'one'], { env });
  assert.equal(none.code, 0);
  assert.match(none.stderr, /holds no tokens/);
});
