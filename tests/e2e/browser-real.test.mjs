// `tokenctl login` with a real browser: Debian's Chromium, headless, as $BROWSER
// (chromium-browser.mjs, driven by playwright-core), against oidc-provider on loopback over
// plain http (loopback http is what tokenctl allows for tests and local servers; a Chromium
// profile has no way to trust the run-time CA short of ignoring certificate errors).
// Skips, with the reason, where /usr/bin/chromium (package `chromium`) or playwright-core
// (`npm ci --prefix tests/e2e`) is missing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import {
  E2E_DIR, cachePath, fileMode, freshEnv, profileToml, readBrowserLog, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { assertNoneIn } from './lib/tokens.mjs';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_BROWSER = path.join(E2E_DIR, 'chromium-browser.mjs');

function skipReason() {
  if (!fs.existsSync(CHROMIUM)) {
    return `no Chromium at ${CHROMIUM}: install the Debian package chromium (scripts/install-deps.sh does)`;
  }
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed: run `npm ci --prefix tests/e2e`';
  }
  return false;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

describe('login in a real browser (Chromium)', { skip: skipReason() }, () => {
  let server;
  before(async () => { server = await startServer({ tls: false }); });
  after(() => server?.stop());

  test('tokenctl login with BROWSER=chromium-browser.mjs: sign-in and consent pages, one code exchange, the cache', async () => {
    const env = freshEnv(server, { BROWSER: CHROMIUM_BROWSER, TEST_BROWSER_USER: 'carol' });
    writeConfig(env, profileToml(server));
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '45s'], { env, timeoutMs: 60000 });
    const browserLog = () => (fs.existsSync(env.TEST_BROWSER_LOG)
      ? fs.readFileSync(env.TEST_BROWSER_LOG, 'utf8') : '(no browser log)');
    assert.equal(r.code, 0, `${r.stderr}\n${browserLog()}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Logged in to profile "dev" as carol/);

    // The cache, and one code exchange at the server.
    assert.equal(fileMode(cachePath(env)).toString(8), '600');
    const set = readCache(env).tokens.dev;
    const exchanges = await server.requests('token');
    assert.equal(exchanges.length, 1, 'one request to the token endpoint');
    assert.equal(exchanges[0].params.grant_type, 'authorization_code');
    assert.equal(exchanges[0].status, 200);
    const issued = JSON.parse(exchanges[0].response);
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    const who = await server.whoami(set.access_token);
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().sub, 'carol');
    const authorization = await server.requests('authorization');
    assert.match(authorization[0].userAgent, /Chrome\//, 'the browser at the authorization endpoint was Chromium');

    // The browser's own account of it.
    const log = await readBrowserLog(env, { timeoutMs: 20000 });
    assert.equal(log.result, 'ok', browserLog());
    assert.match(log.version, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(log.steps.map((s) => s.did), ['login form', 'consent form']);
    const pages = log.pages.map((p) => `${new URL(p.url).pathname.replace(/\/interaction\/.*/, '/interaction/ID')} `
      + `${p.status} ${p.title}`);
    assert.deepEqual(pages,
      ['/interaction/ID 200 Sign-in', '/interaction/ID 200 Sign-in', '/callback 200 Signed in to tokenctl']);
    const redirectUri = authorization[0].query.redirect_uri;
    const final = new URL(log.final.url);
    assert.equal(`${final.origin}${final.pathname}`, redirectUri, 'it ended on tokenctl\'s loopback listener');
    assert.equal(log.final.status, 200);
    assert.match(log.final.text, /You are signed in to tokenctl/);

    // Every request it made (from Chromium's NetLog): the authorization request, both form posts,
    // the callback, and what it asked for on its own (/favicon.ico); nothing left loopback.
    const requests = log.requests.map((q) => ({ ...q, u: new URL(q.url) }));
    const at = (method, test) => requests.filter((q) => q.method === method && test(q.u));
    // The first hop: tokenctl's one-time loopback address (no state, challenge or nonce in the
    // browser's argv), answered once with a redirect to the authorization URL.
    const start = at('GET', (u) => u.pathname.startsWith('/start/'));
    assert.equal(start.length, 1, 'the one-time start address was requested once');
    assert.match(start[0].url, /^http:\/\/127\.0\.0\.1:\d+\/start\/[A-Za-z0-9_-]{22}$/);
    assert.equal(start[0].status, 302);
    assert.ok(requests.indexOf(start[0]) < requests.findIndex((q) => q.u.pathname === '/auth'),
      'the start address came before the authorization request');
    assert.equal(at('GET', (u) => u.pathname === '/auth' && u.searchParams.get('state') === '[redacted]').length, 1,
      'the authorization request, its state redacted');
    assert.equal(at('POST', (u) => u.pathname.startsWith('/interaction/')).length, 2, 'the login and consent forms');
    assert.equal(at('GET', (u) => `${u.origin}${u.pathname}` === redirectUri).length, 1, 'one callback');
    assert.ok(at('GET', (u) => u.pathname === '/favicon.ico').length >= 1, 'Chromium asked for /favicon.ico on its own');
    // Chromium's own requests elsewhere (its account check, ListAccounts, among them) either fail
    // (no name resolves), are refused by the proxy (403), or are still unanswered when the browser
    // closes: none gets an answer from anywhere.
    for (const q of requests.filter((x) => !LOOPBACK.test(x.u.hostname))) {
      assert.ok(q.error || q.status === undefined || q.status === 403, `${q.method} ${q.url} went out: ${JSON.stringify(q)}`);
    }
    for (const q of log.outside) {
      assert.doesNotMatch(q.url.replace(/^https?:\/\//, ''), /^(127\.|localhost|\[::1\])/,
        'loopback went through the refusing proxy');
    }

    // No token, code, verifier, state, nonce or challenge in the log.
    const text = fs.readFileSync(env.TEST_BROWSER_LOG, 'utf8');
    const { query } = authorization[0];
    assertNoneIn([issued.access_token, issued.refresh_token, issued.id_token, issued.id_token.split('.')[2],
      exchanges[0].params.code, exchanges[0].params.code_verifier, query.state, query.nonce, query.code_challenge],
    [text], 'a secret of the login');
  });
});
