// storage = "keyring": the refresh token in a real Secret Service (gnome-keyring-daemon on a private
// session bus, lib/keyring.mjs), the access token and the rest in the cache. Login, refresh with
// rotation, revoke and storage changes are read back from the keyring by attributes, as any
// Secret Service client would (`secret-tool lookup application tokenctl profile P issuer I`).
// A locked keyring, a hung one and no session bus at all are each an error within the 3-second
// bound, never a silent fallback to the file. `token` with a valid access token never loads
// libsecret (LD_DEBUG) and works even while the bus is frozen. A kill -9 loop during refresh
// never loses the refresh token. The refresh token is searched for in every file of the test home:
// with keyring storage it must be nowhere but the keyring.
//
// Skips, saying why, when the keyring module was not built or the keyring tools are missing.
// TOKENCTL_KEYRING_CRASH_ITERATIONS (default 60) sets the crash loop's length.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { cachePath, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig } from './lib/harness.mjs';
import { keyringUnavailable, noBusEnv, startKeyring } from './lib/keyring.mjs';
import { KillClock, runAndKill } from './lib/kill.mjs';
import { issuedSets, login, makeDue, redeemRefreshToken } from './lib/tokens.mjs';

const ITERATIONS = Number(process.env.TOKENCTL_KEYRING_CRASH_ITERATIONS || 60);
const BOUND_MS = 3000 + 1500; // the spec's 3 seconds, plus process start-up on a loaded machine

function unavailable() {
  const module = process.env.TOKENCTL_KEYRING_MODULE;
  if (!module || !fs.existsSync(module)) {
    return 'the keyring module was not built (CMake found no libsecret-1: Debian package libsecret-1-dev)';
  }
  return keyringUnavailable();
}
const skipReason = unavailable();

const KEYRING_LINE = 'storage = "keyring"';

// Every regular file under `dir`, recursively.
function filesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

// The files of the test home that hold `secret` (names only; the secret is never printed).
function filesHolding(env, secret) {
  return filesUnder(env.HOME).filter((f) => fs.readFileSync(f).includes(secret));
}

async function lastRefreshToken(server) {
  return (await issuedSets(server)).map((s) => s.refresh_token).filter(Boolean).at(-1);
}

describe('storage = "keyring"', { skip: skipReason ?? false }, () => {
  let server;
  let kr;
  before(async () => {
    server = await startServer({ accessTokenTTL: 60 });
    kr = await startKeyring();
  });
  after(async () => { await kr?.stop(); server?.stop(); });

  const item = (name = 'dev') => kr.lookup({ application: 'tokenctl', profile: name, issuer: server.issuer });
  const keyringEnv = (extra = {}) => freshEnv(server, { ...kr.env, ...extra });
  async function keyringLogin(name = 'dev') {
    const env = keyringEnv();
    writeConfig(env, profileToml(server, { name, extra: KEYRING_LINE }));
    await login(env, name);
    return env;
  }

  test('login: the refresh token goes to the keyring, labelled and by attributes; the cache holds the rest', async () => {
    const env = await keyringLogin();
    const issued = (await issuedSets(server)).at(-1);
    assert.ok(issued.refresh_token, 'the server issued a refresh token');
    const set = readCache(env).tokens.dev;
    assert.equal(set.refresh_token, undefined, 'no refresh token in the cache');
    assert.equal(set.refresh_token_in, 'keyring');
    assert.equal(set.access_token, issued.access_token);
    assert.equal((await item())?.toString(), issued.refresh_token, 'secret-tool lookup finds the refresh token');
    const [found] = (await kr.search({ application: 'tokenctl', profile: 'dev' }))
      .filter((i) => i.attributes.issuer === server.issuer);
    assert.equal(found.label, `tokenctl: dev (${new URL(server.issuer).hostname})`);
    assert.deepEqual(Object.keys(found.attributes).filter((k) => !k.startsWith('xdg:')).sort(), ['application', 'issuer', 'profile']);
    assert.deepEqual(filesHolding(env, issued.refresh_token), [], 'the keyring is the only place the refresh token lives');

    const show = await runTokenctl(['show', '-p', 'dev'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^storage: +keyring$/m);
    assert.match(show.stdout, /^refresh token: +\(in the keyring\)$/m);
    assert.match(show.stdout, /^refresh token held: +yes$/m);
    const status = await runTokenctl(['status', '-p', 'dev', '-o', 'json'], { env });
    assert.equal(JSON.parse(status.stdout).storage, 'keyring');
    const list = await runTokenctl(['list', '-o', 'json'], { env });
    assert.equal(JSON.parse(list.stdout)[0].storage, 'keyring');
  });

  test('token with a valid access token: no libsecret or D-Bus loaded, and works while the bus is frozen', async () => {
    const env = await keyringLogin();
    const traced = await runTokenctl(['token', '-p', 'dev'], { env: { ...env, LD_DEBUG: 'libs' } });
    assert.equal(traced.code, 0, traced.stderr);
    const loaded = traced.stderr.split('\n').filter((l) => /calling init: /.test(l)).map((l) => l.split('calling init: ')[1]);
    assert.ok(loaded.length > 0, 'LD_DEBUG=libs listed the libraries initialised');
    for (const lib of loaded) assert.doesNotMatch(lib, /libsecret|libdbus|libgio|libglib|tokenctl-keyring|libcurl|libssl/, lib);

    kr.pause('bus');
    try {
      const r = await runTokenctl(['token', '-p', 'dev'], { env, timeoutMs: 10000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), readCache(env).tokens.dev.access_token);
      assert.ok(r.ms < 1000, `token took ${r.ms} ms with the bus frozen`);
    } finally { kr.resume('bus'); }
  });

  test('refresh: the refresh token is read from the keyring, the rotated one written back; the old one is dead', async () => {
    const env = await keyringLogin();
    const old = (await item()).toString();
    makeDue(env);
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', '5s'], { env });
    assert.equal(r.code, 0, r.stderr);
    const issued = (await issuedSets(server)).at(-1);
    assert.equal(r.stdout.trim(), issued.access_token);
    assert.ok(issued.refresh_token && issued.refresh_token !== old, 'the server rotated the refresh token');
    assert.equal((await item()).toString(), issued.refresh_token, 'the keyring holds the rotated refresh token');
    assert.equal(readCache(env).tokens.dev.refresh_token, undefined);
    assert.equal((await redeemRefreshToken(server, old)).status, 400, 'the old refresh token is dead at the server');
    assert.deepEqual(filesHolding(env, issued.refresh_token), []);
  });

  test('a storage change moves the refresh token on the next write and removes it from the old place', async () => {
    const env = await keyringLogin();
    // keyring -> file
    writeConfig(env, profileToml(server));
    let r = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    let latest = await lastRefreshToken(server);
    assert.equal(readCache(env).tokens.dev.refresh_token, latest, 'the cache holds it now');
    assert.equal(readCache(env).tokens.dev.refresh_token_in, undefined);
    assert.equal(await item(), null, 'the keyring item is gone');
    // file -> keyring, as the top-level default
    writeConfig(env, `${KEYRING_LINE}\n${profileToml(server)}`);
    const status = await runTokenctl(['status', '-p', 'dev', '-o', 'json'], { env });
    assert.equal(JSON.parse(status.stdout).storage, 'keyring', 'the top-level storage applies');
    r = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    latest = await lastRefreshToken(server);
    assert.equal((await item())?.toString(), latest, 'the keyring holds it now');
    assert.equal(readCache(env).tokens.dev.refresh_token, undefined, 'and the cache no longer does');
    assert.deepEqual(filesHolding(env, latest), []);
  });

  test('revoke and revoke --local remove the item', async () => {
    for (const args of [['revoke', '-p', 'dev'], ['revoke', '--local', '-p', 'dev']]) {
      const env = await keyringLogin();
      const rt = (await item()).toString();
      const r = await runTokenctl(args, { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await item(), null, `${args.join(' ')}: the item is gone`);
      assert.equal(readCache(env).tokens?.dev, undefined);
      const redeemed = await redeemRefreshToken(server, rt);
      assert.equal(redeemed.status, args.includes('--local') ? 200 : 400,
        `${args.join(' ')}: the server ${args.includes('--local') ? 'still accepts' : 'no longer accepts'} the refresh token`);
    }
  });

  describe('a keyring that cannot answer: exit 1 within 3 seconds, the reason and the hint, never the file', () => {
    function assertKeyringError(r, pattern, env, before) {
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /storage = "file"/, 'the hint names the file storage');
      assert.ok(r.ms < BOUND_MS, `answered in ${r.ms} ms`);
      assert.deepEqual(readCache(env).tokens.dev, before, 'the cache is as it was: no fallback to the file');
    }

    test('locked', async () => {
      const env = await keyringLogin();
      const before = makeDue(env);
      await kr.lock();
      try {
        const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
        assertKeyringError(r, /the keyring is locked/, env, readCache(env).tokens.dev);
        assert.match(r.stderr, /unlock it/);
        assert.equal(before.refresh_token, undefined);
      } finally { await kr.unlock(); }
      // Unlocked again, the same refresh token works: nothing was lost.
      const again = await runTokenctl(['refresh', '-p', 'dev'], { env });
      assert.equal(again.code, 0, again.stderr);
    });

    test('a keyring that hangs (SIGSTOP)', async () => {
      const env = await keyringLogin();
      makeDue(env);
      const snapshot = readCache(env).tokens.dev;
      kr.pause('keyring');
      try {
        const r = await runTokenctl(['refresh', '-p', 'dev'], { env, timeoutMs: 15000 });
        assertKeyringError(r, /did not answer within 3 seconds/, env, snapshot);
        assert.ok(r.ms >= 2900, `the bound is 3 s, not less (${r.ms} ms)`);
      } finally { kr.resume('keyring'); }
    });

    test('no session bus at all (a headless machine)', async () => {
      const env = await keyringLogin();
      makeDue(env);
      const snapshot = readCache(env).tokens.dev;
      const headless = { ...env, ...Object.fromEntries(Object.entries(noBusEnv()).filter(([, v]) => v !== undefined)) };
      delete headless.DBUS_SESSION_BUS_ADDRESS;
      const r = await runTokenctl(['refresh', '-p', 'dev'], { env: headless });
      assertKeyringError(r, /no Secret Service \(keyring\) answers on the session bus/, env, snapshot);
      assert.match(r.stderr, /without a desktop session/);
    });

    test('login with a locked keyring writes nothing and says why', async () => {
      const env = keyringEnv();
      writeConfig(env, profileToml(server, { extra: KEYRING_LINE }));
      await kr.lock();
      let r;
      try {
        r = await runTokenctl(['login', '-p', 'dev'], { env });
      } finally { await kr.unlock(); }
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /the keyring is locked/);
      assert.ok(!fs.existsSync(cachePath(env)) || readCache(env).tokens?.dev === undefined, 'no token set in the cache');
      const latest = await lastRefreshToken(server);
      assert.deepEqual(filesHolding(env, latest), [], 'the refresh token was not written to any file');
    });
  });

  test(`refresh killed (SIGKILL) ${ITERATIONS} times: the keyring always holds a refresh token the server accepts`, async () => {
    const env = await keyringLogin();
    const clock = new KillClock();
    const refreshWorks = async (i) => {
      const started = Date.now();
      const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
      clock.add(Date.now() - started);
      assert.equal(r.code, 0, `iteration ${i}: the refresh token in the keyring works:\n${r.stderr}`);
    };
    for (let i = 0; i < 5; i++) await refreshWorks(-1);
    const outcomes = { refreshed: 0, untouched: 0, killed: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const before = (await issuedSets(server)).length;
      const r = await runAndKill(['refresh', '-p', 'dev'], env, clock.next());
      if (r.signal === 'SIGKILL') outcomes.killed++;
      const latest = await lastRefreshToken(server);
      assert.equal((await item())?.toString(), latest, `iteration ${i}: the last refresh token issued is in the keyring`);
      const cache = JSON.parse(fs.readFileSync(cachePath(env), 'utf8'));
      assert.equal(cache.tokens.dev.refresh_token, undefined, `iteration ${i}: never in the cache`);
      outcomes[(await issuedSets(server)).length > before ? 'refreshed' : 'untouched']++;
      await refreshWorks(i);
    }
    console.log(`keyring refresh: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.killed > ITERATIONS / 2, `most runs were killed: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refreshed > 0 && outcomes.untouched > 0, `kills on both sides of the request: ${JSON.stringify(outcomes)}`);
  });

  test('client-credentials profiles with keyring storage keep everything in the cache (there is no refresh token)', async () => {
    const env = keyringEnv({ CI_SECRET: server.ciSecret });
    writeConfig(env, `${KEYRING_LINE}\n${profileToml(server, {
      name: 'ci', clientId: 'ci-runner', scopes: ['api'], extra: 'grant = "client_credentials"\nclient_secret_env = "CI_SECRET"',
    })}`);
    const r = await runTokenctl(['token', '-p', 'ci'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readCache(env).tokens.ci.access_token, r.stdout.trim());
    assert.equal(await kr.lookup({ application: 'tokenctl', profile: 'ci', issuer: server.issuer }), null);
  });
});
