// End-to-end tests of `tokenctl login --device` (the man page "Headless logins and other consumers";
// RFC 8628): the device authorization grant against oidc-provider,
// with the BROWSER stand-in completing (or aborting, or ignoring) the sign-in at the
// verification_uri_complete that tokenctl opens.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import {
  cachePath, fileMode, freshEnv, profileToml, readBrowserLog, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { assertFailed, assertNoneIn, issuedTokens } from './lib/tokens.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

function deviceEnv(mode) {
  const env = freshEnv(server, { TEST_BROWSER_MODE: mode });
  writeConfig(env, profileToml(server));
  return env;
}

// The server's answer to tokenctl's device authorization request (there must be exactly one).
async function deviceAuthorization() {
  const sent = await server.requests('device_authorization');
  assert.equal(sent.length, 1, 'one device authorization request');
  assert.equal(sent[0].method, 'POST');
  assert.equal(sent[0].params.client_id, 'tokenctl');
  assert.equal(sent[0].params.scope, 'openid offline_access profile');
  return JSON.parse(sent[0].response);
}

test('a device login completed in the browser: user code on stderr, polls, cache, working token', async () => {
  await server.reset();
  const env = deviceEnv('device');
  const r = await runTokenctl(['login', '--device', '-p', 'dev'], { env, timeoutMs: 90000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const device = await deviceAuthorization();
  assert.ok(r.stderr.includes(`To sign in, open ${device.verification_uri} in a browser and enter the code:\n\n  `
    + `${device.user_code}\n`), r.stderr);
  assert.ok(r.stderr.includes(device.verification_uri_complete));
  assert.match(r.stderr, /Logged in to profile "dev" as alice/);
  assert.equal(r.stderr.includes(device.device_code), false, 'the device code is never printed');
  assertNoneIn(await issuedTokens(server), [r.stderr], 'a token');

  const browser = await readBrowserLog(env);
  assert.equal(browser.result, 'ok', JSON.stringify(browser));
  assert.equal(browser.url, device.verification_uri_complete, 'the browser opened the address with the code');

  const polls = await server.requests('token');
  assert.ok(polls.length >= 1);
  for (const poll of polls) {
    assert.deepEqual(poll.params, { grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: 'tokenctl' });
  }
  assert.equal(polls.at(-1).status, 200);
  const interval = (device.interval ?? 5) * 1000;
  const started = (await server.requests('device_authorization'))[0].time;
  const times = [started, ...polls.map((p) => p.time)];
  for (let i = 1; i < times.length; i += 1) {
    const gap = times[i] - times[i - 1];
    assert.ok(gap >= interval - 100, `poll ${i} came ${gap} ms after the previous request`);
  }

  assert.equal(fileMode(cachePath(env)).toString(8), '600');
  const set = readCache(env).tokens.dev;
  assert.equal(set.access_token, JSON.parse(polls.at(-1).response).access_token);
  assert.ok(set.refresh_token, 'offline_access gives a refresh token');
  const who = await server.whoami(set.access_token);
  assert.equal(who.status, 200);
  assert.equal(who.json().sub, 'alice');
  const token = await runTokenctl(['token', '-p', 'dev'], { env });
  assert.equal(token.stdout, `${set.access_token}\n`);
});

test('device-deny: the user aborts at the confirmation page, exit 1 access_denied, nothing cached', async () => {
  await server.reset();
  const env = deviceEnv('device-deny');
  const r = await runTokenctl(['login', '--device', '-p', 'dev'], { env, timeoutMs: 90000 });
  assertFailed(r, 1);
  assert.match(r.stderr, /^tokenctl: error: the sign-in was denied \(access_denied\)$/m);
  const polls = await server.requests('token');
  assert.equal(JSON.parse(polls.at(-1).response).error, 'access_denied');
  assert.equal(fs.existsSync(cachePath(env)), false);
});

// One idle run with --timeout 7s, shared by the two tests after it (it takes 10 s).
let idleRun;
function timedOutLogin() {
  idleRun ??= (async () => {
    await server.reset();
    const env = deviceEnv('idle');
    const r = await runTokenctl(['login', '--device', '-p', 'dev', '--timeout', '7s'], { env, timeoutMs: 30000 });
    const device = JSON.parse((await server.requests('device_authorization'))[0].response);
    return { env, r, device, polls: await server.requests('token') };
  })();
  return idleRun;
}

test('nobody signs in: --timeout 7s ends the login with exit 1 well before the device code expires', async () => {
  const { env, r, polls } = await timedOutLogin();
  assertFailed(r, 1);
  assert.ok(r.ms < 15000, `gave up after ${r.ms} ms`);
  assert.ok(r.ms >= 6500, `gave up after only ${r.ms} ms`);
  assert.match(r.stderr, /not completed in time/);
  assert.ok(polls.every((p) => JSON.parse(p.response).error === 'authorization_pending'));
  assert.equal(fs.existsSync(cachePath(env)), false);
});

test('the --timeout message names the timeout, not an expired device code', async () => {
  const { r, device } = await timedOutLogin();
  assert.ok(device.expires_in > 60, `the device code was good for ${device.expires_in} s`);
  assert.doesNotMatch(r.stderr, /expired/, 'the device code had not expired');
  assert.match(r.stderr, /7s/, 'the message names the --timeout that ran out');
});

test('--device with --no-browser prints the code and opens nothing', async () => {
  await server.reset();
  const env = deviceEnv('device');
  const r = await runTokenctl(['login', '--device', '--no-browser', '-p', 'dev', '--timeout', '3s'], { env });
  assertFailed(r, 1);
  const device = await deviceAuthorization();
  assert.ok(r.stderr.includes(device.user_code));
  assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false, 'no browser was started');
});

test('a device code that expires (6 s) ends the login without --timeout, well before 5 minutes', async () => {
  const shortLived = await startServer({ deviceCodeTTL: 6 });
  try {
    const env = freshEnv(shortLived, { TEST_BROWSER_MODE: 'idle' });
    writeConfig(env, profileToml(shortLived));
    const r = await runTokenctl(['login', '--device', '-p', 'dev'], { env, timeoutMs: 60000 });
    assertFailed(r, 1);
    assert.ok(r.ms < 15000, `gave up after ${r.ms} ms`);
    assert.match(r.stderr, /device code expired/);
    const device = JSON.parse((await shortLived.requests('device_authorization'))[0].response);
    assert.ok(device.expires_in <= 6, `expires_in ${device.expires_in}`);
  } finally {
    await shortLived.stop();
  }
});
