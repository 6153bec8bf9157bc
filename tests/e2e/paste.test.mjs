// End-to-end tests of the paste-back login (the man page "Headless logins and other consumers"):
// `login --no-browser` on a terminal also takes the redirect address pasted on standard input,
// for a browser on another machine whose redirect to this machine's loopback address failed.
//
// Why a pty: tokenctl reads pasted lines only when isatty(0), so tokenctl runs under
// `script -qec CMD /dev/null` (util-linux), which gives it a terminal and copies our pipe into it.
// The BROWSER stand-in in mode `no-redirect` signs in without following the final redirect and
// logs that address; the test pastes it (or a forged variant) as a person would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import {
  cachePath, freshEnv, profileToml, readCache, runBrowser, startServer, startTokenctl, writeConfig,
} from './lib/harness.mjs';

const HAVE_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const SKIP = HAVE_SCRIPT ? false : 'the `script` command (util-linux) is needed for a pty';

let server;
before(async () => { if (!SKIP) server = await startServer(); });
after(async () => { await server?.stop(); });

const quote = (word) => `'${String(word).replace(/'/g, "'\\''")}'`;

// Run `tokenctl ARGS` on a pty; returns {write(text), waitFor(regex), done: Promise<{code, output, ms}>}.
// `output` is what the terminal showed: tokenctl's stdout and stderr, and the echo of our input.
function onTerminal(args, env, timeoutMs = 60000) {
  const bin = process.env.TOKENCTL_BIN;
  assert.ok(bin, 'TOKENCTL_BIN is set');
  const command = [bin, ...args].map(quote).join(' ');
  const started = Date.now();
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  let output = '';
  const waiters = new Set();
  const grew = () => { for (const w of waiters) w(); };
  child.stdout.on('data', (c) => { output += c; grew(); });
  child.stderr.on('data', (c) => { output += c; grew(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      grew();
      resolve({ code, output: output.replace(/\r\n/g, '\n'), ms: Date.now() - started });
    });
  });
  const waitFor = (regex, waitMs = 20000) => new Promise((resolve, reject) => {
    const check = () => {
      const m = output.replace(/\r\n/g, '\n').match(regex);
      if (m) {
        waiters.delete(check);
        clearTimeout(t);
        resolve(m);
      }
    };
    const t = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`the terminal never showed ${regex}:\n${output}`));
    }, waitMs);
    waiters.add(check);
    check();
  });
  return { write: (text) => child.stdin.write(text), waitFor, done, end: () => child.stdin.end() };
}

function pasteEnv() {
  const env = freshEnv(server, { TEST_BROWSER_MODE: 'no-redirect' });
  writeConfig(env, profileToml(server));
  return env;
}

// Start `login --no-browser` on a pty, sign in with the stand-in; returns the run and the address
// the browser was sent to (which it did not open).
async function signInElsewhere(env) {
  const run = onTerminal(['login', '--no-browser', '-p', 'dev'], env);
  const [url] = await run.waitFor(/https:\/\/127\.0\.0\.1:\d+\/auth\?\S+/);
  await run.waitFor(/and press Enter\.\n/);
  const browser = await runBrowser(url, {
    env: { TEST_BROWSER_MODE: 'no-redirect', TEST_BROWSER_CA: server.ca }, logFile: env.TEST_BROWSER_LOG,
  });
  assert.equal(browser.log?.result, 'ok', JSON.stringify(browser.log));
  const redirected = browser.log.callback.received;
  assert.match(redirected, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
  return { run, redirected };
}

test('the pasted redirect address completes the login', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const { run, redirected } = await signInElsewhere(env);
  const redirectUri = redirected.slice(0, redirected.indexOf('?'));
  run.write(`${redirected}\n`);
  const r = await run.done;
  assert.equal(r.code, 0, r.output);
  assert.ok(r.output.includes(`(it starts with ${redirectUri}?) and press Enter.`), r.output);
  assert.match(r.output, /Logged in to profile "dev" as alice/);
  const token = await server.requests('token');
  assert.equal(token.length, 1);
  assert.equal(token[0].params.grant_type, 'authorization_code');
  assert.equal(token[0].params.code, new URL(redirected).searchParams.get('code'));
  assert.equal(token[0].params.redirect_uri, redirectUri);
  assert.ok(token[0].params.code_verifier, 'PKCE verifier sent');
  const set = readCache(env).tokens.dev;
  assert.equal((await server.whoami(set.access_token)).json().sub, 'alice');
});

test('garbage lines get a message and are ignored; the right address then works', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const { run, redirected } = await signInElsewhere(env);
  const redirectUri = redirected.slice(0, redirected.indexOf('?'));
  const hint = 'tokenctl: that is not the address of this login; paste the whole address, starting with '
    + `${redirectUri}?`;
  // One line at a time, each answered before the next is typed: the terminal's echo of a line
  // typed while tokenctl writes its message would otherwise cut through that message.
  const quoted = hint.replace(/[.?*+^$()[\]{}|\\/]/g, '\\$&');
  const answered = (n) => run.waitFor(new RegExp(`(?:${quoted}\n[\\s\\S]*){${n}}`));
  run.write('hello there\n');
  await answered(1);
  run.write(`${redirected.replace('127.0.0.1', 'localhost')}\n`);
  await answered(2);
  run.write(`\n   ${redirected}   \n`);
  const r = await run.done;
  assert.equal(r.code, 0, r.output);
  assert.equal(r.output.split(hint).length - 1, 2, `one message per wrong line:\n${r.output}`);
  assert.equal((await server.requests('token')).length, 1);
  assert.ok(readCache(env).tokens.dev.access_token);
});

test('a pasted address with a wrong state is refused and ignored; the right one then works', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const { run, redirected } = await signInElsewhere(env);
  const forged = new URL(redirected);
  forged.searchParams.set('state', 'state-forged-by-the-test');
  forged.searchParams.set('code', 'code-forged-by-the-test');
  run.write(`${forged.href}\n`);
  await run.waitFor(/tokenctl: warning: ignored a pasted address whose state does not match this login \(a forged or stale redirect\); still waiting for the browser\n/);
  assert.equal((await server.requests('token')).length, 0, 'the forged code was not redeemed');
  run.write(`${redirected}\n`);
  const r = await run.done;
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Logged in to profile "dev" as alice/);
  const token = await server.requests('token');
  assert.deepEqual(token.map((q) => q.params.code), [new URL(redirected).searchParams.get('code')],
    'only the real code was redeemed');
});

test('a pasted address with a wrong iss: exit 1, and no token request', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const { run, redirected } = await signInElsewhere(env);
  const forged = new URL(redirected);
  forged.searchParams.set('iss', 'https://attacker.example.test');
  run.write(`${forged.href}\n`);
  const r = await run.done;
  assert.equal(r.code, 1, r.output);
  const message = `tokenctl: error: login refused: the callback's issuer "https://attacker.example.test" is not `
    + `"${server.issuer}" (RFC 9207)`;
  assert.ok(r.output.split('\n').includes(message), r.output);
  assert.equal((await server.requests('token')).length, 0);
});

test('a pasted error redirect ends the login with the server\'s error and description', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const run = onTerminal(['login', '--no-browser', '-p', 'dev'], env);
  const [url] = await run.waitFor(/https:\/\/127\.0\.0\.1:\d+\/auth\?\S+/);
  await run.waitFor(/and press Enter\.\n/);
  const request = new URL(url).searchParams;
  const denied = new URLSearchParams({
    error: 'access_denied', error_description: 'the user said no', state: request.get('state'), iss: server.issuer,
  });
  run.write(`${request.get('redirect_uri')}?${denied}\n`);
  const r = await run.done;
  assert.equal(r.code, 1, r.output);
  assert.ok(r.output.split('\n')
    .includes('tokenctl: error: the authorization server refused the login: access_denied: the user said no'), r.output);
  assert.equal((await server.requests('token')).length, 0);
});

test('without a terminal, --no-browser reads nothing from stdin, waits for the listener', { skip: SKIP }, async () => {
  await server.reset();
  const env = pasteEnv();
  const run = startTokenctl(['login', '--no-browser', '-p', 'dev', '--timeout', '4s'], { env, stdin: 'pipe' });
  const [url] = await run.waitForStderr(/https:\/\/127\.0\.0\.1:\d+\/auth\?\S+/);
  const browser = await runBrowser(url, {
    env: { TEST_BROWSER_MODE: 'no-redirect', TEST_BROWSER_CA: server.ca }, logFile: env.TEST_BROWSER_LOG,
  });
  run.stdin.write(`${browser.log.callback.received}\n`);
  const r = await run.done;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /no answer from the browser within 4s/);
  assert.doesNotMatch(r.stderr, /paste/);
  assert.equal((await server.requests('token')).length, 0);
});
