// End-to-end tests of the loopback listener under abuse: while a real
// `tokenctl login` waits for the browser, the test attacks the listener's port with 1,000 junk
// connections, slow-loris clients, 1 MB request lines and raced callbacks. Each time the real
// callback must still complete the login promptly, exactly one code exchange must reach the
// server, tokenctl's peak memory must stay small, and tokenctl must exit 0 leaving the port free.
//
// How: BROWSER is the stand-in in mode `idle` (it only receives the authorization URL, which
// tokenctl also prints on stderr, with the port in its redirect_uri), so nothing reaches the
// listener until the test says so. The real callback is then delivered by the stand-in in mode
// `login` (it signs in and follows the redirect to the listener), or, where its timing must be
// measured exactly, the stand-in runs in mode `no-redirect` and the test sends that address itself.
// Peak memory is VmHWM from /proc/PID/status, sampled while tokenctl runs; its growth during the
// attack is bounded.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';

import {
  collectResponse, connect, exchange, getRequest, junkFlood, probePort, sleep, slowLoris, watchMemory,
} from './abuse-attacks.mjs';
import {
  freshEnv, profileToml, readCache, runBrowser, startServer, startTokenctl, writeConfig,
} from './lib/harness.mjs';

// Growth of peak memory during an attack over what tokenctl held when it started waiting (about
// 0.5 MiB measured in a release build, where the baseline is about 15 MiB; a sanitizer build has a
// far larger baseline and holds freed memory in quarantine, hence a bound on the growth).
const MEMORY_GROWTH_LIMIT_KIB = 32 * 1024;
const ERROR_LINE = /^(tokenctl: error|browser\.mjs:)/m;

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// Start `tokenctl login` with an idle stand-in; resolves once the authorization URL is printed.
// A tokenctl still running when test `t` ends (it failed) is killed.
async function startLogin(t) {
  await server.reset();
  const env = freshEnv(server, { TEST_BROWSER_MODE: 'idle' });
  writeConfig(env, profileToml(server));
  const run = startTokenctl(['login', '-p', 'dev', '--timeout', '60s'], { env, timeoutMs: 90000 });
  const memory = watchMemory(run.child.pid);
  t.after(() => {
    memory.stop();
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const [, url] = await run.waitForStderr(/\n {2}(https:\/\/\S+)\n/);
  const redirectUri = new URL(url).searchParams.get('redirect_uri');
  const port = Number(new URL(redirectUri).port);
  assert.ok(port > 0, redirectUri);
  return { env, run, memory, url, redirectUri, port, baselineKiB: memory.now() };
}

// Run the stand-in on the login's URL in `mode` (login: deliver the callback; no-redirect: only
// get its address); resolves to {log, ms}.
async function browse(login, mode) {
  const started = Date.now();
  const logFile = path.join(login.env.HOME, `browser-${mode}.json`);
  const b = await runBrowser(login.url, {
    env: { TEST_BROWSER_MODE: mode, TEST_BROWSER_CA: server.ca }, logFile, timeoutMs: 30000,
  });
  assert.equal(b.log?.result, 'ok', `${b.stderr}\n${JSON.stringify(b.log)}`);
  return { log: b.log, ms: Date.now() - started };
}

// The real callback address, from a stand-in that signs in but does not follow the redirect.
async function realCallback(login) {
  const { log } = await browse(login, 'no-redirect');
  const received = new URL(log.callback.received);
  assert.equal(`${received.origin}${received.pathname}`, login.redirectUri);
  return received;
}

// The login's end: exit 0 with the success line and no error line, the token set cached and
// working, exactly one code exchange (with `code` when given), peak memory bounded, port free.
async function assertCleanLogin(t, login, { code } = {}) {
  const r = await login.run.done;
  const peakKiB = login.memory.stop();
  assert.equal(r.timedOut, false, `tokenctl killed after its test deadline; stderr:\n${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, ERROR_LINE);
  assert.match(r.stderr, /^Logged in to profile "dev" as alice/m);
  const exchanges = await server.requests('token');
  assert.equal(exchanges.length, 1, `code exchanges: ${JSON.stringify(exchanges.map((e) => e.params))}`);
  assert.equal(exchanges[0].params.grant_type, 'authorization_code');
  assert.equal(exchanges[0].params.redirect_uri, login.redirectUri);
  if (code) assert.equal(exchanges[0].params.code, code);
  const set = readCache(login.env).tokens.dev;
  assert.equal((await server.whoami(set.access_token)).json().sub, 'alice');
  assert.ok(peakKiB > 0, 'VmHWM was read');
  assert.ok(peakKiB - login.baselineKiB < MEMORY_GROWTH_LIMIT_KIB,
    `tokenctl peaked at ${peakKiB} KiB, ${peakKiB - login.baselineKiB} KiB over its ${login.baselineKiB} KiB before the attack`);
  // bindable fails while tokenctl's port holds TIME_WAIT sockets of connections it closed first
  // (node's SO_REUSEADDR does not help: tokenctl's sockets lack it), as a fixed redirect_port would.
  assert.deepEqual(await probePort(login.port), { refused: true, bindable: true });
  t.diagnostic(`tokenctl ran ${r.ms} ms; VmHWM ${login.baselineKiB} KiB before the attack, ${peakKiB} KiB peak`);
  return r;
}

test('1,000 junk connections, a tenth of them silent, do not stop the real callback', async (t) => {
  const login = await startLogin(t);
  const flood = await junkFlood(login.port, { count: 1000 });
  t.after(flood.release);
  t.diagnostic(`flood: ${flood.ms} ms; ${flood.closed} ended gracefully, ${flood.reset} reset (dropped), `
    + `${flood.held} silent ones still held, ${flood.timedOut} timed out, ${flood.failed} failed `
    + `${JSON.stringify(flood.errors)}`);
  assert.equal(flood.failed, 0, 'no junk client was refused');
  assert.equal(flood.timedOut, 0, 'the listener ended every junk connection that was not silent');
  assert.equal(flood.closed + flood.reset + flood.held, 1000);
  assert.ok(flood.ms < 20000, `the flood took ${flood.ms} ms`);
  // The silent ones it kept are still connected (inside their 5 s) while the browser comes.
  const browser = await browse(login, 'login');
  assert.equal(browser.log.final.status, 200, browser.log.final.text);
  assert.ok(browser.ms < 10000, `the stand-in took ${browser.ms} ms`);
  await assertCleanLogin(t, login);
  t.diagnostic(`sign-in through the stand-in after the flood: ${browser.ms} ms`);
});

test('the real callback gets through while 1,000 junk connections are still arriving', async (t) => {
  const login = await startLogin(t);
  const callback = await realCallback(login);
  const floods = junkFlood(login.port, { count: 1000, waves: 25, waveGapMs: 120 }); // 40 at once, for 3 s
  await sleep(1000);
  const answer = await exchange(login.port, getRequest(`${callback.pathname}${callback.search}`, login.port));
  const sentAt = 1000 + answer.ms;
  const flood = await floods;
  t.after(flood.release);
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.ok(answer.ms < 3000, `the callback was answered after ${answer.ms} ms`);
  assert.ok(flood.lastEndedMs > sentAt, `the flood was over (${flood.lastEndedMs} ms) before the callback`);
  await assertCleanLogin(t, login, { code: callback.searchParams.get('code') });
  // Waves sent after tokenctl exited are refused: that is the port being free, not a failure.
  t.diagnostic(`callback answered in ${answer.ms} ms (connected after ${answer.connectMs} ms) amid the flood; `
    + `flood ${flood.ms} ms; ${flood.closed} ended gracefully, ${flood.reset} reset, ${JSON.stringify(flood.errors)}`);
});

test('slow-loris clients sending a byte a second do not hold up the real callback', async (t) => {
  const login = await startLogin(t);
  const callback = await realCallback(login);
  const loris = await slowLoris(login.port, { clients: 10 });
  t.after(loris.stop);
  await sleep(2200); // each has sent three bytes and is far from its 5 s client timeout
  assert.equal(loris.open(), 10, 'the slow clients are still connected');
  const answer = await exchange(login.port, getRequest(`${callback.pathname}${callback.search}`, login.port));
  await login.run.done;
  const closedAt = [...loris.closedAt];
  loris.stop();
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.ok(answer.ms < 1000, `the callback was answered after ${answer.ms} ms`);
  // None had been dropped before the answer: the listener ended them all once the login was done.
  assert.equal(closedAt.length, 10);
  assert.ok(Math.min(...closedAt) >= 2200, `a slow client was closed after ${Math.min(...closedAt)} ms`);
  await assertCleanLogin(t, login, { code: callback.searchParams.get('code') });
  t.diagnostic(`callback answered in ${answer.ms} ms beside 10 slow-loris clients`);
});

test('more slow-loris clients than the listener keeps: the oldest are dropped, the callback is served', async (t) => {
  const login = await startLogin(t);
  const callback = await realCallback(login);
  const loris = await slowLoris(login.port, { clients: 40 });
  t.after(loris.stop);
  await sleep(1200);
  const answer = await exchange(login.port, getRequest(`${callback.pathname}${callback.search}`, login.port));
  const dropped = loris.closedAt.length;
  loris.stop();
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.ok(answer.ms < 1000, `the callback was answered after ${answer.ms} ms`);
  assert.ok(dropped >= 40 - 16, `only ${dropped} of 40 slow clients were dropped`);
  await assertCleanLogin(t, login, { code: callback.searchParams.get('code') });
  t.diagnostic(`callback answered in ${answer.ms} ms; ${dropped} of 40 slow-loris clients dropped before`);
});

test('a 1 MB request line gets 431 at once; memory stays bounded; the login completes', async (t) => {
  const login = await startLogin(t);
  const huge = `GET /callback?code=${'A'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1:${login.port}\r\n\r\n`;
  const one = await exchange(login.port, huge);
  assert.equal(one.status, 431, JSON.stringify({ ...one, body: one.body.slice(0, 200) }));
  assert.ok(one.ms < 2000, `the 431 came after ${one.ms} ms`);
  const many = await Promise.all(Array.from({ length: 12 }, () => exchange(login.port, huge)));
  for (const answer of many) {
    assert.ok(answer.status === 431 || (answer.status === 0 && answer.how !== 'timeout'), JSON.stringify(answer.how));
  }
  const slowest = Math.max(...many.map((a) => a.ms));
  assert.ok(slowest < 5000, `the slowest of 12 parallel answers came after ${slowest} ms`);
  const afterAttackKiB = login.memory.now();
  const browser = await browse(login, 'login');
  assert.equal(browser.log.final.status, 200, browser.log.final.text);
  await assertCleanLogin(t, login);
  t.diagnostic(`431 after ${one.ms} ms; 12 in parallel: ${many.filter((a) => a.status === 431).length} x 431, `
    + `slowest ${slowest} ms; VmHWM after the attack ${afterAttackKiB} KiB`);
});

test('two copies of the real callback at the same moment: one code exchange, one success page', async (t) => {
  const login = await startLogin(t);
  const callback = await realCallback(login);
  const request = getRequest(`${callback.pathname}${callback.search}`, login.port);
  const sockets = [await connect(login.port), await connect(login.port)];
  const answers = sockets.map((s) => collectResponse(s));
  for (const s of sockets) s.write(request); // same tick
  const statuses = (await Promise.all(answers)).map((a) => a.status).sort();
  assert.deepEqual(statuses, [0, 200], 'one success page; the other connection is closed unanswered');
  await assertCleanLogin(t, login, { code: callback.searchParams.get('code') });
});

test('a forged callback racing the real one neither ends the login nor reaches the token endpoint', async (t) => {
  const login = await startLogin(t);
  const callback = await realCallback(login);
  const forged = new URL(callback);
  forged.searchParams.set('code', 'code-of-the-attackers-own-session');
  forged.searchParams.set('state', 'state-guessed-by-the-attacker');
  // The forged one connects first, and both are sent in the same tick.
  const attacker = await connect(login.port);
  const browser = await connect(login.port);
  const answers = [collectResponse(attacker), collectResponse(browser)];
  attacker.write(getRequest(`${forged.pathname}${forged.search}`, login.port));
  browser.write(getRequest(`${callback.pathname}${callback.search}`, login.port));
  const [attackerAnswer, browserAnswer] = await Promise.all(answers);
  const exchanges = await server.requests('token');
  assert.ok(exchanges.every((e) => e.params.code !== forged.searchParams.get('code')),
    'the forged code never reaches the token endpoint');
  assert.equal(attackerAnswer.status, 400, 'the forged callback is answered 400');
  assert.equal(browserAnswer.status, 200, JSON.stringify(browserAnswer));
  await assertCleanLogin(t, login, { code: callback.searchParams.get('code') });
});
