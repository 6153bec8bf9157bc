// Crash safety: `tokenctl refresh` and `tokenctl netrc
// --write` are killed with SIGKILL at random moments, hundreds of times, against the real server
// with rotating refresh tokens. After every kill the cache is valid JSON whose refresh token is the
// last one the server issued (so it works: the next refresh is accepted), the netrc file is the old
// file or the new one byte for byte, and no temporary file outlives the next write.
//
// The kill moments are spread uniformly over a whole unkilled run (measured as the test goes), so
// they land in start-up, in the HTTP exchange, in the cache write and in the netrc write alike.
// When the tokenctl process is killed, or its whole process group (kill -9 -PGID, what timeout(1),
// shells and CI runners do), the refresh it started still completes in its child, which runs in a
// session of its own (src/sys/committed_work.hpp): no refresh token may be lost, in either loop.
//
// TOKENCTL_CRASH_ITERATIONS (default 300) sets the iterations of each loop.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { cachePath, freshEnv, profileToml, runTokenctl, startServer, writeConfig } from './lib/harness.mjs';
import { KillClock, runAndKill } from './lib/kill.mjs';
import { issuedSets, login, makeDue } from './lib/tokens.mjs';

const ITERATIONS = Number(process.env.TOKENCTL_CRASH_ITERATIONS || 300);

// The names in the folder of `file` that are temporaries of `file` (".NAME.tmp-*").
function temporaries(file) {
  const prefix = `.${path.basename(file)}.tmp-`;
  return fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(prefix));
}

// Parse the cache of `env`, asserting it is whole; returns its token set for `dev`.
function wholeCache(env, i) {
  const file = cachePath(env);
  const text = fs.readFileSync(file, 'utf8');
  let cache;
  assert.doesNotThrow(() => { cache = JSON.parse(text); }, `iteration ${i}: the cache is valid JSON`);
  assert.equal(cache.version, 1);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, `iteration ${i}: the cache is 0600`);
  const set = cache.tokens.dev;
  assert.ok(set?.refresh_token, `iteration ${i}: the cache holds a refresh token`);
  return set;
}

// The refresh tokens the server issued, oldest first.
async function issuedRefreshTokens(server) {
  return (await issuedSets(server)).map((s) => s.refresh_token).filter(Boolean);
}

// The unkilled check after a kill: `refresh` must succeed with what the cache holds.
async function refreshWorks(env, i, clock) {
  const started = Date.now();
  const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
  clock.add(Date.now() - started);
  assert.equal(r.code, 0, `iteration ${i}: the cached refresh token works at the server:\n${r.stderr}`);
}

describe('SIGKILL at random moments', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(() => server?.stop());

  test(`tokenctl refresh killed ${ITERATIONS} times: the cache always holds the last refresh token`, async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
    const clock = new KillClock();
    for (let i = 0; i < 5; i++) await refreshWorks(env, -1, clock);
    const outcomes = { refreshed: 0, untouched: 0, killed: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const before = (await issuedRefreshTokens(server)).length;
      const r = await runAndKill(['refresh', '-p', 'dev'], env, clock.next());
      if (r.signal === 'SIGKILL') outcomes.killed++;
      const issued = await issuedRefreshTokens(server);
      const set = wholeCache(env, i);
      assert.equal(set.refresh_token, issued.at(-1), `iteration ${i}: the last refresh token issued is in the cache`);
      if (issued.length > before) outcomes.refreshed++;
      else outcomes.untouched++;
      assert.deepEqual(temporaries(cachePath(env)), [], `iteration ${i}: no temporary file`);
      await refreshWorks(env, i, clock);
    }
    console.log(`refresh: ${JSON.stringify(outcomes)}`);
    // The kills must have hit both sides of the exchange for the loop to prove anything.
    assert.ok(outcomes.killed > ITERATIONS / 2, `most runs were killed: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refreshed > ITERATIONS / 20, `kills after the request was sent: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.untouched > ITERATIONS / 50, `kills before it was sent: ${JSON.stringify(outcomes)}`);
  });

  test(`process group killed ${ITERATIONS} times: never a torn cache, never a stale temporary, no token lost`, async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
    const clock = new KillClock();
    for (let i = 0; i < 5; i++) await refreshWorks(env, -1, clock);
    const outcomes = { saved: 0, untouched: 0, temporaryLeft: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const before = (await issuedRefreshTokens(server)).length;
      await runAndKill(['refresh', '-p', 'dev'], env, clock.next(), { group: true });
      const issued = await issuedRefreshTokens(server);
      const set = wholeCache(env, i);
      if (temporaries(cachePath(env)).length > 0) outcomes.temporaryLeft++;
      const expected = issued.length === before ? [issued.at(-1)] : issued.slice(-2);
      assert.ok(expected.includes(set.refresh_token), `iteration ${i}: the cache holds one of the last tokens issued`);
      const started = Date.now();
      const check = await runTokenctl(['refresh', '-p', 'dev'], { env });
      // The refresh child outlives the group kill: the next refresh waits for its lock, then works.
      assert.equal(check.code, 0, `iteration ${i}: the refresh token was lost to a group kill:\n${check.stderr}`);
      clock.add(Date.now() - started);
      outcomes[issued.length === before ? 'untouched' : 'saved']++;
      assert.deepEqual(temporaries(cachePath(env)), [], `iteration ${i}: the next write removed every temporary`);
    }
    console.log(`process group: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.saved > ITERATIONS / 20, `kills after sending: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.untouched > ITERATIONS / 50, `kills before sending: ${JSON.stringify(outcomes)}`);
  });

  test(`netrc --write killed ${ITERATIONS} times: the old file or the new one, byte for byte`, async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
    const file = path.join(env.HOME, 'work.netrc');
    const clock = new KillClock();
    const outcomes = { old: 0, new: 0, temporaryLeft: 0 };
    for (let i = -5; i < ITERATIONS; i++) {
      // Every run refreshes (the token is made due) and then merges into a file the user changed.
      makeDue(env);
      const old = `# edited by hand, round ${i}\nmachine other.example\n  login me\n  password not-ours-${i}\n`;
      fs.writeFileSync(file, old, { mode: 0o600 });
      const started = Date.now();
      const r = i < 0 ? await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env })
        : await runAndKill(['netrc', '-p', 'dev', '--write', '--file', file], env, clock.next());
      if (i < 0) {
        assert.equal(r.code, 0, r.stderr);
        clock.add(Date.now() - started);
      }
      const set = wholeCache(env, i);
      const text = fs.readFileSync(file, 'utf8');
      const merged = `${old}\nmachine 127.0.0.1\n  login token\n  password ${set.access_token}\n`;
      assert.ok(text === old || text === merged, `iteration ${i}: the netrc file is the old one or the new one`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      outcomes[text === old ? 'old' : 'new']++;
      if (temporaries(file).length > 0) outcomes.temporaryLeft++;
      const check = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
      assert.equal(check.code, 0, `iteration ${i}: the next write works:\n${check.stderr}`);
      assert.deepEqual(temporaries(file), [], `iteration ${i}: the next write removed every temporary`);
    }
    console.log(`netrc: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.old > ITERATIONS / 20 && outcomes.new > ITERATIONS / 20, JSON.stringify(outcomes));
  });
});
