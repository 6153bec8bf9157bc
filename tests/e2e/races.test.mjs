// Races and order of work,
// against the hostile server (lib/hostile-server.mjs: rotating refresh tokens, scriptable delays):
// - ten concurrent `login --host` into one new config file keep all ten profiles: the config is
//   rewritten under a sibling config.toml.lock (the man page "Files": concurrent processes never lose
//   each other's updates);
// - `revoke` reads, revokes and forgets under the cache lock: a refresh started during a slow
//   revocation waits for it and then finds the profile logged out, so nothing is rotated between
//   what is revoked and what is forgotten (the man page "revoke");
// - `netrc --all` goes on past a failing profile; `git-credential get` refuses a huge request
//   without reading it all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  cachePath, configPath, freshEnv, httpRequest, profileToml, readCache, runTokenctl, startTokenctl, writeConfig,
} from './lib/harness.mjs';
import { startHostileServer } from './lib/hostile-server.mjs';
import { assertFailed, expireNow, login } from './lib/tokens.mjs';

let hs;
before(async () => { hs = await startHostileServer({ tls: false }); });
after(() => hs?.stop());

// Answer a form POST at one of the hostile server's endpoints, as the public client tokenctl.
function post(endpoint, params) {
  return httpRequest(hs.endpoints[endpoint], {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...params, client_id: 'tokenctl' }).toString(),
  });
}

test('ten concurrent `login -p pN --host URL` into one new config file: ten profiles, each "Added"', async () => {
  hs.reset();
  const env = freshEnv(hs);
  const config = configPath(env);
  assert.equal(fs.existsSync(config), false, 'control: the config file is new');
  const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
  // Hold every code exchange until all ten have come, then answer them at once: the ten config
  // rewrites then fall within a few milliseconds of each other.
  const allIn = hs.waitForRequest('token', { count: names.length, timeoutMs: 30000 });
  allIn.catch(() => {});
  hs.script('token', () => allIn.then(() => undefined), { times: names.length });
  const runs = await Promise.all(names.map((name) => runTokenctl(['login', '-p', name, '--host', hs.issuer,
    '--timeout', '25s'], { env: { ...env, TEST_BROWSER_LOG: path.join(env.HOME, `browser-${name}.json`) } })));
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `login -p p${i}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split(`Added profile "p${i}" in ${config}.\n`).length, 2, `p${i} says "Added" once:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^(Updated profile|tokenctl: (warning|error))/m);
  });
  assert.equal(hs.requests('token').length, names.length);
  assert.equal(hs.pending('token'), 0, 'every exchange was held and released');

  const text = fs.readFileSync(config, 'utf8');
  const written = [...text.matchAll(/^\[profiles\.([^\]]+)\]$/gm)].map((m) => m[1]);
  assert.deepEqual([...written].sort(), names, `the config holds:\n${text}`);
  assert.equal(text.split(`host = ${JSON.stringify(hs.issuer)}`).length, names.length + 1);
  assert.ok(fs.existsSync(`${config}.lock`), 'the config was rewritten under config.toml.lock');
  assert.deepEqual(Object.keys(readCache(env).tokens).sort(), names, 'ten token sets cached');
  const list = await runTokenctl(['list', '-o', 'json'], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).map((p) => `${p.name} ${p.status}`).sort(),
    names.map((n) => `${n} valid`));
});

test('a refresh started during a slow revocation waits for revoke\'s lock, then finds no tokens (exit 3)', async () => {
  const env = freshEnv(hs);
  writeConfig(env, profileToml(hs));
  const current = await login(env, 'dev');
  hs.reset();
  hs.script('revocation', { delayMs: 1500 });
  const stamp = (run) => run.done.then((r) => ({ ...r, end: Date.now() }));
  const revoke = startTokenctl(['revoke', '-p', 'dev'], { env });
  const revoked = stamp(revoke);
  const first = await hs.waitForRequest('revocation');
  assert.equal(first.params.token, current.refresh_token, 'the revocation carries the current refresh token');
  const refresh = stamp(startTokenctl(['refresh', '-p', 'dev'], { env }));
  const [v, f] = await Promise.all([revoked, refresh]);

  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stderr, 'Revoked the tokens of profile "dev" at the server and forgot them.\n');
  assertFailed(f, 3);
  assert.match(f.stderr, /^tokenctl: error: profile "dev" is not logged in$/m);
  assert.match(f.stderr, /run: tokenctl login -p dev/);
  assert.ok(f.end >= v.end, `the refresh ended ${v.end - f.end} ms before the revoke`);
  assert.ok(f.ms >= 1000, `the refresh did not wait for the lock (${f.ms} ms)`);
  assert.deepEqual(hs.requests('token'), [], 'the refresh never reached the token endpoint');

  const revocations = hs.requests('revocation');
  assert.deepEqual(revocations.map((e) => e.params.token_type_hint), ['refresh_token', 'access_token']);
  assert.deepEqual(revocations.map((e) => e.params.token), [current.refresh_token, current.access_token],
    'only the set that was current was revoked');
  assert.deepEqual(readCache(env).tokens, {}, 'the cache holds no set for dev');
  const replay = await post('token', { grant_type: 'refresh_token', refresh_token: current.refresh_token });
  assert.deepEqual([replay.status, replay.json().error], [400, 'invalid_grant'], 'the refresh token is dead');
});

describe('consumers of several profiles and of standard input', () => {
  test('netrc --all: the first profile\'s refresh token was revoked (exit 3), the second\'s entry is still printed', async () => {
    const env = freshEnv(hs);
    writeConfig(env, `${profileToml(hs, { name: 'a' })}\n${profileToml(hs, { name: 'b' })}`);
    const a = await login(env, 'a');
    const b = await login(env, 'b');
    expireNow(env, 'a');
    const dead = await post('revocation', { token: a.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(dead.status, 200, dead.text);
    hs.reset();
    const r = await runTokenctl(['netrc', '--all'], { env });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, `machine 127.0.0.1 login token password ${b.access_token}\n`);
    assert.match(r.stderr, /^tokenctl: error: a: the server rejected the refresh token of profile "a": .*invalid_grant/m);
    assert.match(r.stderr, /^tokenctl: hint: run: tokenctl login -p a$/m);
    assert.doesNotMatch(r.stderr, /profile "b"|-p b/, 'nothing is said about b');
    assert.deepEqual(hs.requests('token').map((e) => e.params.refresh_token), [a.refresh_token],
      'one refresh, for a; b\'s token was fresh');
  });

  test('git-credential get with 200 KB on a standard input left open: exit 2 at once, a message, nothing printed', async () => {
    const env = freshEnv(hs);
    writeConfig(env, profileToml(hs));
    const { access_token: token } = await login(env, 'dev');
    const head = `protocol=http\nhost=127.0.0.1:${hs.port}\n`;
    const control = await runTokenctl(['git-credential', 'get'], { env, input: `${head}\n` });
    assert.equal(control.code, 0, control.stderr);
    assert.match(control.stdout, new RegExp(`^username=token\npassword=${token}\n`), 'control: the host is dev\'s');

    // 200 KB, and standard input left open (as a stuck or hostile writer would): tokenctl must
    // decide from what a request may hold (64 KiB), not read on until EOF.
    const run = startTokenctl(['git-credential', 'get'], { env, stdin: 'pipe', timeoutMs: 15000 });
    run.stdin.write(`${head}path=${'a'.repeat(200 * 1024)}\n\n`);
    let r;
    let timer;
    try {
      r = await Promise.race([run.done, new Promise((resolve) => { timer = setTimeout(resolve, 8000); })]);
    } finally {
      clearTimeout(timer);
      run.stdin.end();
      await run.done;
    }
    assert.ok(r, 'tokenctl was still reading standard input after 8 s');
    assert.equal(r.timedOut, false);
    assertFailed(r, 2);
    assert.match(r.stderr, /^tokenctl: error: git-credential: \S/m);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(fs.existsSync(cachePath(env)));
  });
});
