// A token endpoint in trouble while `tokenctl token` must refresh (the man page Exit status and Errors;
// RFC 6749 section 5.2): every fault ends with exit 4 (a redirect: 1), an
// empty stdout, the token endpoint named on stderr, the cache file untouched (bytes, inode,
// mtime, folder) and the refresh token still good afterwards; retries only for 408/429/503 or a
// request that never left (connect/TLS failure), at most 3 attempts, Retry-After honoured.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';

import { freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig } from './lib/harness.mjs';
import {
  assertFailed, cacheSnapshot, closedPort, login, makeDue, MIN_TTL, patchCache, printedLine,
} from './lib/tokens.mjs';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// mode, count armed (503/429 fail every one of the 3 attempts), exit, attempts seen, stderr.
const FAULTS = [
  ['500', 1, 4, 1, /answered server_error: injected fault: 500/],
  ['503', 3, 4, 3, /answered temporarily_unavailable: injected fault: 503/],
  ['429', 3, 4, 3, /answered temporarily_unavailable: injected fault: 429/],
  ['html', 1, 4, 1, /answered HTTP 200 with a body that is not a JSON object/],
  ['garbage', 1, 4, 1, /answered HTTP 200 with a body that is not a JSON object/],
  ['truncated', 1, 4, 1, /failed: .*partial/i],
  ['huge', 1, 4, 1, /larger than 1 MiB/],
  // A 3xx from the token endpoint is refused, not followed. tokenctl treats it like any
  // other non-2xx answer that is not 5xx/429/408: exit 1 ("any other failure"), not exit 4; the
  // request reached a server that refused it, and trying again later would not help.
  ['redirect', 1, 1, 1, /answered with a redirect \(HTTP 307\), which tokenctl does not follow/],
];

describe('faults at the token endpoint during a refresh', () => {
  let server;
  let env;
  let due;
  before(async () => {
    server = await startServer({ accessTokenTTL: 20 });
    env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
    due = makeDue(env);
  });
  after(() => server?.stop());

  // Run `token --min-ttl MIN_TTL` against the armed fault; asserts what every failure must keep.
  async function failingRefresh(code, timeoutMs = 60000) {
    const snapshot = cacheSnapshot(env);
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env, timeoutMs });
    assert.equal(r.timedOut, false, `tokenctl was still running after ${timeoutMs} ms`);
    assertFailed(r, code);
    assert.ok(r.stderr.includes(due.endpoints.token_endpoint), `stderr names the token endpoint:\n${r.stderr}`);
    assert.equal(r.stderr.includes(due.refresh_token), false, 'the refresh token was printed');
    assert.equal(r.stderr.includes(due.access_token), false, 'the access token was printed');
    assert.deepEqual(cacheSnapshot(env), snapshot, 'cache bytes, inode, mtime and folder unchanged');
    return r;
  }

  for (const [mode, count, code, attempts, message] of FAULTS) {
    test(`${mode}: exit ${code}, ${attempts} request(s), the cache untouched`, async () => {
      await server.reset();
      await server.fault({ path: '/token', mode, count });
      const r = await failingRefresh(code);
      assert.match(r.stderr, message);
      const sent = await server.requests();
      assert.deepEqual(sent.map((q) => [q.endpoint, q.fault]), Array(attempts).fill(['token', mode]));
      assert.ok(sent.every((q) => q.params.refresh_token === due.refresh_token));
      if (mode === 'redirect') assert.deepEqual(await server.requests('redirected'), [], 'the redirect was followed');
    });
  }

  test('hang: gives up within the 30 s total timeout, exit 4, one request, the cache untouched', async () => {
    await server.reset();
    await server.fault({ path: '/token', mode: 'hang' });
    const r = await failingRefresh(4, 45000);
    assert.match(r.stderr, /timed out/);
    assert.ok(r.ms < 32000, `took ${r.ms} ms`);
    assert.deepEqual((await server.requests()).map((q) => q.fault), ['hang'], 'a sent request is never retried');
    await server.reset();
  });

  test('connection refused (nothing listens on the token endpoint port): exit 4, the cache untouched', async () => {
    const port = await closedPort();
    const endpoint = `https://127.0.0.1:${port}/token`;
    const original = readCache(env);
    patchCache(env, (c) => { c.tokens.dev.endpoints.token_endpoint = endpoint; });
    try {
      const snapshot = cacheSnapshot(env);
      const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
      assertFailed(r, 4);
      assert.match(r.stderr, new RegExp(`cannot connect to ${escape(endpoint)}: Connection refused`));
      assert.ok(r.ms >= 1400, `3 attempts with 0.5 s and 1 s pauses take >= 1.5 s, took ${r.ms} ms`);
      assert.deepEqual(cacheSnapshot(env), snapshot);
    } finally {
      patchCache(env, (c) => { c.tokens.dev = original.tokens.dev; });
    }
  });

  test('a TLS handshake that fails (connection reset) is retried: exactly 3 attempts, exit 4', async () => {
    let connections = 0;
    const trap = net.createServer((socket) => { connections += 1; socket.destroy(); });
    await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const endpoint = `https://127.0.0.1:${trap.address().port}/token`;
    const original = readCache(env);
    patchCache(env, (c) => { c.tokens.dev.endpoints.token_endpoint = endpoint; });
    try {
      const snapshot = cacheSnapshot(env);
      const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
      assertFailed(r, 4);
      assert.ok(r.stderr.includes(endpoint), r.stderr);
      assert.equal(connections, 3, 'a request that never left is tried 3 times');
      assert.deepEqual(cacheSnapshot(env), snapshot);
    } finally {
      patchCache(env, (c) => { c.tokens.dev = original.tokens.dev; });
      await new Promise((resolve) => trap.close(resolve));
    }
  });

  test('after all that, the kept refresh token still works', async () => {
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => [q.endpoint, q.params.refresh_token, q.status]),
      [['token', due.refresh_token, 200]]);
    assert.equal(token, JSON.parse(sent[0].response).access_token);
    assert.equal((await server.whoami(token)).status, 200);
  });
});

describe('retries of a refresh', () => {
  let server;
  let env;
  before(async () => {
    server = await startServer({ accessTokenTTL: 20 });
    env = freshEnv(server);
    writeConfig(env, profileToml(server));
    await login(env);
  });
  after(() => server?.stop());

  test('429 with Retry-After: 1, then success: exit 0 after >= 1 s, exactly 2 requests', async () => {
    const due = makeDue(env);
    await server.reset();
    await server.fault({ path: '/token', mode: '429', count: 1, retryAfter: 1 });
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    assert.ok(r.ms >= 1000, `Retry-After: 1 honoured, took ${r.ms} ms`);
    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => [q.endpoint, q.fault, q.status, q.params.refresh_token]),
      [['token', '429', 429, due.refresh_token], ['token', null, 200, due.refresh_token]]);
    assert.ok(sent[1].time - sent[0].time >= 950, `second attempt ${sent[1].time - sent[0].time} ms after the first`);
    const issued = JSON.parse(sent[1].response);
    assert.equal(token, issued.access_token);
    assert.equal(readCache(env).tokens.dev.refresh_token, issued.refresh_token);
  });

  test('503 three times: exit 4 after exactly 3 requests, backing off between them', async () => {
    makeDue(env);
    await server.reset();
    await server.fault({ path: '/token', mode: '503', count: 3 });
    const snapshot = cacheSnapshot(env);
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    assertFailed(r, 4);
    assert.match(r.stderr, /503/);
    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => q.status), [503, 503, 503]);
    assert.ok(sent[2].time - sent[0].time >= 1400, 'pauses of about 0.5 s and 1 s');
    assert.deepEqual(cacheSnapshot(env), snapshot);
  });

  test('503 twice, then success: exit 0 on the third attempt', async () => {
    makeDue(env);
    await server.reset();
    await server.fault({ path: '/token', mode: '503', count: 2 });
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    const sent = await server.requests();
    assert.deepEqual(sent.map((q) => q.status), [503, 503, 200]);
    assert.equal(token, JSON.parse(sent[2].response).access_token);
  });

  test('500 is never retried: exactly 1 request', async () => {
    makeDue(env);
    await server.reset();
    await server.fault({ path: '/token', mode: '500', count: 3 });
    const r = await runTokenctl(['token', '-p', 'dev', '--min-ttl', MIN_TTL], { env });
    assertFailed(r, 4);
    assert.deepEqual((await server.requests()).map((q) => q.status), [500]);
  });
});
