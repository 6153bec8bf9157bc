// End-to-end tests of `tokenctl token --exec-credential` (the man page "Headless logins and other
// consumers"): the kubectl client.authentication.k8s.io/v1 ExecCredential object, field by field,
// as kubectl's exec plugin reader expects it (one JSON object on stdout, nothing else there).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { assertFailed, expireNow, login } from './lib/tokens.mjs';

const EXEC_INFO = JSON.stringify({
  apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false },
});

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function loggedIn() {
  const env = freshEnv(server);
  writeConfig(env, profileToml(server));
  await login(env, 'dev');
  return env;
}

// Parse an ExecCredential printed by `r`, checking every field; returns the object.
function execCredential(r, { token, expiry }) {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^\{[^\n]*\}\n$/, 'one JSON object on one line');
  const cred = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(cred).sort(), ['apiVersion', 'kind', 'spec', 'status']);
  assert.equal(cred.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(cred.kind, 'ExecCredential');
  assert.deepEqual(cred.spec, { interactive: false });
  assert.deepEqual(Object.keys(cred.status).sort(), ['expirationTimestamp', 'token']);
  assert.equal(cred.status.token, token);
  assert.match(cred.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339 UTC');
  assert.equal(cred.status.expirationTimestamp, expiry);
  return cred;
}

test('the ExecCredential carries the cached token and its expiry, and the token works', async () => {
  const env = await loggedIn();
  const set = readCache(env).tokens.dev;
  const r = await runTokenctl(['token', '-p', 'dev', '--exec-credential'],
    { env: { ...env, KUBERNETES_EXEC_INFO: EXEC_INFO } });
  const cred = execCredential(r, { token: set.access_token, expiry: set.expiry });
  const left = Date.parse(cred.status.expirationTimestamp) - Date.now();
  assert.ok(left > 3500 * 1000 && left <= 3600 * 1000, `expires in ${left} ms`);
  const who = await server.whoami(cred.status.token);
  assert.equal(who.status, 200);
  assert.equal(who.json().sub, 'alice');
});

test('an expired token is refreshed first; the ExecCredential has the new token and expiry', async () => {
  const env = await loggedIn();
  const old = expireNow(env);
  await server.reset();
  const r = await runTokenctl(['token', '--exec-credential'], { env: { ...env, TOKENCTL_PROFILE: 'dev' } });
  const set = readCache(env).tokens.dev;
  assert.notEqual(set.access_token, old.access_token);
  execCredential(r, { token: set.access_token, expiry: set.expiry });
  assert.deepEqual((await server.requests('token')).map((q) => q.params.grant_type), ['refresh_token']);
});

test('not logged in: exit 3 and nothing on stdout, so kubectl shows the message', async () => {
  const env = freshEnv(server);
  writeConfig(env, profileToml(server));
  const r = await runTokenctl(['token', '-p', 'dev', '--exec-credential'], { env });
  assertFailed(r, 3);
  assert.match(r.stderr, /tokenctl login/);
});

test('--exec-credential with --header is a usage error', async () => {
  const env = await loggedIn();
  const r = await runTokenctl(['token', '-p', 'dev', '--exec-credential', '--header'], { env });
  assertFailed(r, 2);
});
