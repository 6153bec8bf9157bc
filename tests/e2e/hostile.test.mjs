// The hostile authorization server (lib/hostile-server.mjs): first proof that, unscripted, it is a
// server today's tokenctl logs in, refreshes, revokes and runs the device grant against, and that
// scripted answers reach tokenctl; then the attacks a hostile server can make, each with the secure
// behaviour asserted (the man page "Errors": control characters replaced in whatever comes from a server;
// verification addresses must be https, http only on loopback; tokens never on stderr; a token the
// reader would refuse is never stored; a refreshed id token is about the same user).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  cachePath, freshEnv, httpRequest, profileToml, readBrowserLog, readCache, runTokenctl, startTokenctl, writeConfig,
} from './lib/harness.mjs';
import { startHostileServer } from './lib/hostile-server.mjs';
import { assertFailed, assertNoneIn, cacheSnapshot, printedLine } from './lib/tokens.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/; // C0 but tab and newline, DEL, C1

let hs;
before(async () => { hs = await startHostileServer({ tls: true }); });
after(() => hs?.stop());

function loginEnv(extra = {}) {
  const env = freshEnv(hs, extra);
  writeConfig(env, profileToml(hs));
  return env;
}

async function loggedIn() {
  const env = loginEnv();
  const r = await runTokenctl(['login', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  return env;
}

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

// A BROWSER that records its argv (NUL-separated) in $HOME/browser-argv and does nothing else:
// what tokenctl handed the program, byte for byte.
function argvBrowser(env) {
  const file = path.join(env.HOME, 'argv-browser.sh');
  fs.writeFileSync(file, '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$HOME/browser-argv"\n', { mode: 0o755 });
  env.BROWSER = file;
  return () => {
    const log = path.join(env.HOME, 'browser-argv');
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\0').slice(0, -1) : null;
  };
}

// The control characters in `text`, escaped for a failure message.
function controls(text) {
  return [...text].filter((c) => CONTROL.test(c)).map((c) => `U+${c.codePointAt(0).toString(16).padStart(4, '0')}`);
}

describe('unscripted, the hostile server is a correct server', () => {
  test('login: discovery, a 302 straight to the loopback callback (no login page), PKCE, nonce, id token', async () => {
    hs.reset();
    const env = loginEnv();
    const r = await runTokenctl(['login', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Logged in to profile "dev" as alice@example\.test/);
    assertNoneIn(hs.issued().map((s) => s.value), [r.stderr], 'a token');

    assert.deepEqual(hs.requests().map((e) => `${e.method} ${e.endpoint} ${e.status}`),
      ['GET discovery 200', 'GET authorization 302', 'POST token 200']);
    const [authz] = hs.requests('authorization');
    const [exchange] = hs.requests('token');
    assert.equal(exchange.params.grant_type, 'authorization_code');
    assert.equal(exchange.params.redirect_uri, authz.query.redirect_uri);
    assert.equal(authz.query.code_challenge,
      crypto.createHash('sha256').update(exchange.params.code_verifier).digest('base64url'));
    const location = new URL(authz.responseHeaders.location);
    assert.equal(`${location.origin}${location.pathname}`, authz.query.redirect_uri);
    assert.deepEqual([...location.searchParams.keys()].sort(), ['code', 'iss', 'state']);

    const browser = await readBrowserLog(env);
    assert.equal(browser.result, 'ok', JSON.stringify(browser));
    assert.deepEqual(browser.steps.map((s) => `${s.did} ${s.status}`), ['open start address 302', 'follow redirect 302'],
      'the stand-in went from the authorization endpoint straight to the callback');
    const callback = new URL(browser.callback.received);
    assert.equal(callback.searchParams.get('state'), authz.query.state);
    assert.equal(callback.searchParams.get('iss'), hs.issuer);
    assert.equal(browser.final.status, 200);

    const set = readCache(env).tokens.dev;
    const issued = JSON.parse(exchange.response);
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    const claims = claimsOf(set.id_token);
    assert.equal(claims.nonce, authz.query.nonce, 'the nonce of the request is in the id token');
    assert.deepEqual([claims.iss, claims.sub, claims.aud], [hs.issuer, 'alice', 'tokenctl']);

    const me = await httpRequest(hs.endpoints.userinfo, { ca: hs.ca, headers: { authorization: `Bearer ${set.access_token}` } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json().sub, 'alice');
    assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev'], { env })), set.access_token);
  });

  test('refresh rotates the refresh token (the old one is refused after), revoke reaches the server', async () => {
    const env = await loggedIn();
    const old = readCache(env).tokens.dev;
    hs.reset();
    const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assert.equal(r.code, 0, r.stderr);
    const [q] = hs.requests('token');
    assert.equal(q.params.grant_type, 'refresh_token');
    assert.equal(q.params.refresh_token, old.refresh_token);
    const set = readCache(env).tokens.dev;
    const issued = JSON.parse(q.response);
    assert.notEqual(set.refresh_token, old.refresh_token, 'rotated');
    assert.equal(set.refresh_token, issued.refresh_token);
    assert.equal(set.access_token, issued.access_token);

    const replay = await httpRequest(hs.endpoints.token, {
      method: 'POST', ca: hs.ca, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token', refresh_token: old.refresh_token, client_id: 'tokenctl',
      }).toString(),
    });
    assert.equal(replay.status, 400);
    assert.equal(replay.json().error, 'invalid_grant');

    const v = await runTokenctl(['revoke', '-p', 'dev'], { env });
    assert.equal(v.code, 0, v.stderr);
    assert.deepEqual(hs.requests('revocation').map((e) => e.params.token).sort(),
      [set.access_token, set.refresh_token].sort());
    assert.equal(readCache(env).tokens.dev, undefined);
  });

  test('a scripted invalid_grant at the token endpoint: refresh exits 3, says why, keeps the cache', async () => {
    const env = await loggedIn();
    const before = cacheSnapshot(env);
    hs.reset();
    hs.script('token', { status: 400, json: { error: 'invalid_grant', error_description: 'session ended by an admin' } });
    const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
    assertFailed(r, 3);
    assert.match(r.stderr, /invalid_grant: session ended by an admin/);
    assert.match(r.stderr, /tokenctl login/);
    assert.equal(hs.pending('token'), 0, 'the scripted answer was used');
    assert.equal(hs.requests('token')[0].scripted, true);
    assert.deepEqual(cacheSnapshot(env), before);
  });

  test('a scripted device flow: pending polls, then the test approves, tokenctl logs in', async () => {
    hs.reset();
    const env = loginEnv();
    const run = startTokenctl(['login', '--device', '--no-browser', '-p', 'dev', '--timeout', '20s'], { env });
    const [, code] = await run.waitForStderr(/enter the code:\n\n {2}(\S+)\n/);
    await hs.waitForRequest('token', { count: 1 });
    assert.equal(hs.approveDevice(code), 1);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Logged in to profile "dev" as alice/);
    const [device] = hs.requests('device_authorization');
    const { device_code: deviceCode, interval } = JSON.parse(device.response);
    assert.equal(interval, 1);
    const polls = hs.requests('token');
    assert.ok(polls.length >= 2, `${polls.length} polls`);
    for (const poll of polls) {
      assert.deepEqual(poll.params, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'tokenctl' });
    }
    assert.equal(JSON.parse(polls[0].response).error, 'authorization_pending');
    assert.equal(polls.at(-1).status, 200);
    assert.equal(readCache(env).tokens.dev.access_token, JSON.parse(polls.at(-1).response).access_token);
    assert.equal(r.stderr.includes(deviceCode), false, 'the device code is never printed');
  });
});

describe('scripting the hostile server (no tokenctl)', () => {
  const form = (params, headers = {}) => ({
    method: 'POST', ca: hs.ca, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  const ci = () => form({ grant_type: 'client_credentials', scope: 'api' },
    { authorization: `Basic ${Buffer.from(`ci-runner:${hs.ciSecret}`).toString('base64')}` });

  test('raw bodies, delays, dropped connections, raw responses, functions and patches', async () => {
    hs.reset();
    const plain = await httpRequest(hs.endpoints.token, ci());
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.json().scope, 'api');
    assert.ok(hs.issued().some((s) => s.value === plain.json().access_token), 'recorded as issued');

    hs.script('token', { headers: { 'content-type': 'text/html' }, body: Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0xff]) });
    hs.script('token', { delayMs: 400 });
    hs.script('token', { destroy: true });
    hs.script('token', { rawResponse: 'HTTP/1.1 418 I am a teapot\r\ncontent-length: 3\r\n\r\nabc' });
    hs.script('token', (req, entry) => ({
      status: 400, json: { error: 'invalid_request', error_description: `${entry.params.grant_type} seen` },
    }));
    assert.equal(hs.pending('token'), 5);
    const raw = await httpRequest(hs.endpoints.token, ci());
    assert.equal(raw.headers['content-type'], 'text/html');
    assert.equal(raw.text, '\uFEFF{}\uFFFD');
    const t0 = Date.now();
    assert.equal((await httpRequest(hs.endpoints.token, ci())).status, 200);
    assert.ok(Date.now() - t0 >= 390, 'the default answer came after the delay');
    await assert.rejects(httpRequest(hs.endpoints.token, ci()), /socket hang up|ECONNRESET/);
    const teapot = await httpRequest(hs.endpoints.token, ci());
    assert.deepEqual([teapot.status, teapot.text], [418, 'abc']);
    assert.equal((await httpRequest(hs.endpoints.token, ci())).json().error_description, 'client_credentials seen');
    assert.equal(hs.pending(), 0);
    assert.deepEqual(hs.requests('token').map((e) => e.scripted), [false, true, true, true, true, true]);

    hs.metadata({ device_authorization_endpoint: undefined, extra: 'x' });
    for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
      const doc = (await httpRequest(`${hs.origin}/.well-known/${wellKnown}`, { ca: hs.ca })).json();
      assert.equal(doc.issuer, hs.issuer);
      assert.equal(doc.extra, 'x');
      assert.equal('device_authorization_endpoint' in doc, false);
    }
    const badClient = await httpRequest(hs.endpoints.token, form({ grant_type: 'client_credentials', client_id: 'nobody' }));
    assert.deepEqual([badClient.status, badClient.json().error], [401, 'invalid_client']);
  });

  test('an issuer path: discovery below and before it, endpoints below it', async () => {
    const other = await startHostileServer({ issuerPath: '/realms/corp' });
    try {
      assert.match(other.issuer, /^http:\/\/127\.0\.0\.1:\d+\/realms\/corp$/);
      for (const url of [`${other.origin}/.well-known/oauth-authorization-server/realms/corp`,
        `${other.issuer}/.well-known/openid-configuration`]) {
        const res = await httpRequest(url);
        assert.equal(res.status, 200, url);
        assert.equal(res.json().token_endpoint, `${other.issuer}/token`);
      }
      assert.equal((await httpRequest(`${other.origin}/token`)).status, 404);
    } finally {
      await other.stop();
    }
  });
});

describe('a hostile server cannot reach the terminal, the browser\'s argv or the cache', () => {
  test('device flow: a verification_uri that is a browser option never reaches the browser\'s argv',
    async () => {
      hs.reset();
      const env = loginEnv();
      const argv = argvBrowser(env);
      hs.deviceResponse({
        verification_uri: `--renderer-cmd-prefix=sh -c 'touch ${env.HOME}/owned'`, verification_uri_complete: undefined,
      });
      hs.autoApproveDevice();
      const r = await runTokenctl(['login', '--device', '-p', 'dev', '--timeout', '15s'], { env });
      const given = argv() || [];
      assert.deepEqual(given.filter((a) => a.startsWith('-')), [], `argv of the browser: ${JSON.stringify(given)}`);
      assert.notEqual(r.code, 0, 'refused: a verification address must be an https URL (http on loopback)');
      assert.match(r.stderr, /^tokenctl: error: /m);
      assert.equal(fs.existsSync(cachePath(env)), false, 'nothing cached from a refused device authorization');
    });

  test('device flow: a file: verification_uri_complete is never opened', async () => {
      hs.reset();
      const env = loginEnv();
      const argv = argvBrowser(env);
      hs.deviceResponse({ verification_uri_complete: 'file:///etc/passwd' });
      hs.autoApproveDevice();
      await runTokenctl(['login', '--device', '-p', 'dev', '--timeout', '15s'], { env });
      const given = argv() || [];
      for (const arg of given) {
        assert.match(arg, /^https:\/\/|^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/]/,
          `the browser got ${JSON.stringify(arg)}: only https (http on loopback) may be opened`);
      }
    });

  test('device flow: a user_code with ESC [ 2 J is not written raw to stderr', async () => {
      hs.reset();
      const env = loginEnv();
      hs.deviceResponse({ user_code: 'WDJB-\x1b[2J-MJHT' });
      hs.script('token', { status: 400, json: { error: 'access_denied' } });
      const r = await runTokenctl(['login', '--device', '--no-browser', '-p', 'dev', '--timeout', '15s'], { env });
      assert.notEqual(r.code, 0, 'denied (or refused)');
      assert.equal(r.stderr.includes('\x1b'), false, `stderr holds ${controls(r.stderr).join(' ')}`);
      assert.doesNotMatch(r.stderr, CONTROL);
    });

  test('a callback error_description with OSC and C1 CSI sequences is not written raw to stderr', async () => {
      hs.reset();
      const env = loginEnv();
      hs.script('authorization', {
        params: { error: 'access_denied', error_description: 'denied\x1b]0;owned\x07 by \u009b31mpolicy' },
      });
      const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env });
      assertFailed(r, 1);
      assert.match(r.stderr, /access_denied/);
      assert.equal(r.stderr.includes('\x1b'), false, `stderr holds ${controls(r.stderr).join(' ')}`);
      assert.equal(r.stderr.includes('\x07'), false, 'BEL on stderr');
      assert.equal(r.stderr.includes('\u009b'), false, 'U+009B (UTF-8 C2 9B, a C1 CSI) on stderr');
      assert.deepEqual(hs.requests('token'), [], 'no code exchange after an error callback');
    });

  // The whole-run secrets scan watches these answers' tokens too (issued-PID.jsonl).
  const A = `AAAA${crypto.randomBytes(12).toString('hex')}`;
  const B = `BBBB${crypto.randomBytes(12).toString('hex')}`;
  const R = `RRRR${crypto.randomBytes(12).toString('hex')}`;
  for (const [what, headers, body] of [
    ['JSON with a UTF-8 BOM under content type text/html', { 'content-type': 'text/html' },
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({
        access_token: `${A}${B}`, token_type: 'Bearer', expires_in: 3600, refresh_token: R,
      }))])],
    ['a form body with ";" inside the access token', { 'content-type': 'application/x-www-form-urlencoded' },
      `access_token=${A};${B}&token_type=Bearer&expires_in=3600&refresh_token=${R}`],
  ]) {
    test(`-v: a token response of ${what} prints no token byte on stderr`, async () => {
        hs.reset();
        const env = loginEnv();
        hs.script('token', { headers, body });
        const r = await runTokenctl(['login', '-p', 'dev', '-v'], { env });
        assert.match(r.stderr, /^< /m, 'control: -v shows the exchange');
        const parts = [['the access token\'s first part', A], ['its part after the ";"', B], ['the refresh token', R]];
        for (const [name, part] of parts) {
          assert.equal(r.stderr.includes(part), false, `${name} is on stderr`);
        }
      });
  }

  for (const [what, token] of [['of 350 KB', 'A'.repeat(350 * 1024)],
    ['with a space, CR and LF (not RFC 6750 characters)', 'abc def\r\nX-Injected: 1']]) {
    test(`an access token ${what} is refused at login and not stored`, async () => {
        hs.reset();
        const env = loginEnv();
        hs.script('token', { fields: { access_token: token } });
        const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env });
        assert.notEqual(r.code, 0, 'the login succeeded');
        assert.equal(r.stdout, '');
        const cached = fs.existsSync(cachePath(env)) ? readCache(env).tokens?.dev : undefined;
        assert.equal(cached, undefined, 'the token set was cached');
      });
  }

  for (const [claim, value] of [['sub', 'mallory'], ['iss', 'https://attacker.example.test'], ['aud', 'another-client']]) {
    test(`a refresh whose new id token has another ${claim} is refused and the old cache kept (OIDC Core 12.2)`, async () => {
        hs.reset();
        const env = await loggedIn();
        const before = cacheSnapshot(env);
        hs.tokenResponse({ idTokenClaims: { [claim]: value } });
        const r = await runTokenctl(['refresh', '-p', 'dev'], { env });
        assert.equal(hs.requests('token').length, 2, 'the login and the refresh reached the server');
        assert.equal(claimsOf(JSON.parse(hs.requests('token')[1].response).id_token)[claim], value, 'control');
        assert.notEqual(r.code, 0, 'the refresh succeeded');
        assert.match(r.stderr, /^tokenctl: error: /m);
        assert.deepEqual(cacheSnapshot(env), before, 'the cache changed');
      });
  }
});
