// Many tokenctl processes at once on one profile (the man page Files: "never refresh the same profile
// twice at once"): 30 `token` calls on a due token make ONE
// refresh and all print its token; 8 forced `refresh` calls run one after another, each redeeming
// the refresh token the previous one saved, so the rotating server never sees a reuse.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig } from './lib/harness.mjs';
import { login, makeDue, MIN_TTL } from './lib/tokens.mjs';

const PROCESSES = 30;
const REFRESHES = 8;

describe('concurrent tokenctl processes on one profile', () => {
  let server;
  before(async () => { server = await startServer({ accessTokenTTL: 60 }); });
  after(() => server?.stop());

  test(`${PROCESSES} concurrent token --min-ttl ${MIN_TTL} on a due token: one refresh, one token for all`, async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
    const old = makeDue(env);
    await server.reset();

    const runs = await Promise.all(Array.from({ length: PROCESSES },
      () => runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env, timeoutMs: 90000 })));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0, `process ${i}: exit ${r.code}\n${r.stderr}`);
      assert.equal(r.stderr, '', `process ${i}`);
      assert.match(r.stdout, /^[^\n]+\n$/, `process ${i}`);
    }
    const printed = new Set(runs.map((r) => r.stdout));
    assert.equal(printed.size, 1, `${printed.size} different tokens printed`);

    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => [q.endpoint, q.params.grant_type, q.status]),
      [['token', 'refresh_token', 200]], 'exactly one refresh request');
    assert.equal(sent[0].params.refresh_token, old.refresh_token);
    const issued = JSON.parse(sent[0].response);
    assert.equal([...printed][0], `${issued.access_token}\n`);
    const set = readCache(env).tokens.dev;
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    assert.equal((await server.whoami(issued.access_token)).status, 200);
  });

  test(`${REFRESHES} concurrent forced refreshes chain the rotated refresh tokens, none reused`, async () => {
    const env = freshEnv(server);
    writeConfig(env, profileToml(server));
    const first = await login(env);
    await server.reset();

    const runs = await Promise.all(Array.from({ length: REFRESHES },
      () => runTokenctl(['refresh', '-p', 'dev'], { env, timeoutMs: 90000 })));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0, `process ${i}: exit ${r.code}\n${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^Refreshed profile "dev"/);
    }
    const sent = await server.requests();
    assert.equal(sent.length, REFRESHES);
    assert.ok(sent.every((q) => q.endpoint === 'token' && q.status === 200),
      sent.map((q) => `${q.endpoint} ${q.status}`).join(', '));
    // Each request redeems the refresh token the one before it received.
    let expected = first.refresh_token;
    for (const q of sent) {
      assert.equal(q.params.refresh_token, expected, `request ${q.seq} redeemed a stale refresh token`);
      expected = JSON.parse(q.response).refresh_token;
    }
    const set = readCache(env).tokens.dev;
    assert.equal(set.refresh_token, expected, 'the cache holds the last rotated refresh token');
    assert.equal(set.access_token, JSON.parse(sent.at(-1).response).access_token);
    assert.equal((await server.whoami(set.access_token)).status, 200);
  });
});
