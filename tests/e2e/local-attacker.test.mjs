// Another user on the same machine.
//
// Item 7, the login hijack: every local user can read every process's argv (/proc/PID/cmdline), so
// the browser tokenctl starts must not be handed the authorization URL (state, PKCE challenge,
// nonce, redirect_uri). It gets a one-time loopback address http://127.0.0.1:PORT/start/SECRET
// that answers 302 to the authorization URL once; a second request for it means someone else has
// it too, and ends the login (the man page "login"; src/cli/login_callback.cpp). The attacker here is
// `nobody` (the tests run as root): it reads the waiting browser's argv, opens the start address
// first, signs in at the server as itself, and keeps the callback address with its code for later.
//
// Item 8, exec's token folder: $XDG_RUNTIME_DIR/tokenctl is used only when it is a folder of the
// user's own (not a symbolic link) that no one else can enter; one owned by another user, or a
// link, is left alone for a fresh private /tmp/tokenctl-XXXXXX folder, with one warning; the
// user's own 0755 folder is tightened to 0700 (the man page "Files": what tokenctl writes outside its
// own folders goes only into folders the user owns and no one else can write to).
//
// Tests that need a second user are skipped, with the reason, when the tests do not run as root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  BROWSER, cachePath, fileMode, freshEnv, profileToml, readBrowserLog, readCache, runBrowser, runTokenctl,
  startTokenctl, writeConfig,
} from './lib/harness.mjs';
import { startHostileServer } from './lib/hostile-server.mjs';
import { login } from './lib/tokens.mjs';

const NOBODY = 65534;
const AS_ROOT = process.getuid() === 0;
const NEEDS_ROOT = AS_ROOT ? false : 'needs root: the attacker runs as nobody (uid 65534), and only root can run it';
const START = /^http:\/\/127\.0\.0\.1:(\d+)\/start\/[A-Za-z0-9_-]{22}$/;
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// Run `args` as nobody (its own uid and gid, no supplementary groups, working folder /, no
// environment but PATH); resolves to {status, stdout, stderr}. Asynchronous: the hostile server
// answers from this process.
function asNobody(args) {
  const child = spawn(args[0], args.slice(1), {
    uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c) => { out.stdout += c; });
  child.stderr.on('data', (c) => { out.stderr += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, ...out }); });
  });
}

// GET `url` as nobody with node's http client, following no redirect: {status, location} or {error}.
async function nobodyGet(url) {
  const js = 'require("http").get(process.argv[1], (r) => { r.resume(); '
    + 'console.log(JSON.stringify({ status: r.statusCode, location: r.headers.location })); })'
    + '.on("error", (e) => console.log(JSON.stringify({ error: e.code })));';
  const r = await asNobody([process.execPath, '-e', js, url]);
  assert.equal(r.status, 0, `node as nobody: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function waitForFile(file, waitMs = 15000) {
  const deadline = Date.now() + waitMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await sleep(20);
  }
  return fs.readFileSync(file, 'utf8');
}

// The NUL-separated argv a BROWSER script saved in `file`.
const savedArgv = (file) => fs.readFileSync(file, 'utf8').split('\0').slice(0, -1);

let hs;
before(async () => { hs = await startHostileServer({ tls: false }); });
after(() => hs?.stop());

describe('login: the browser gets a one-time start address, not the authorization URL', () => {
  test('without an attacker: the browser\'s whole argv is one start address, which leads to the sign-in', async () => {
    hs.reset();
    const env = freshEnv(hs);
    writeConfig(env, profileToml(hs));
    // A BROWSER that saves its argv (in the 0700 home), then hands over to the stand-in.
    const wrapper = path.join(env.HOME, 'recording-browser.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\0' "$@" > "$HOME/browser-argv"\n`
      + `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BROWSER)} "$@"\n`, { mode: 0o700 });
    env.BROWSER = wrapper;
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');

    const argv = savedArgv(path.join(env.HOME, 'browser-argv'));
    assert.equal(argv.length, 1, `the browser's argv: ${JSON.stringify(argv)}`);
    const [start] = argv;
    assert.match(start, START);
    const [authz] = hs.requests('authorization');
    const redirect = new URL(authz.query.redirect_uri);
    assert.equal(Number(start.match(START)[1]), Number(redirect.port), 'served by the login\'s listener');
    for (const key of ['state', 'code_challenge', 'nonce']) {
      assert.ok(authz.query[key], `control: the authorization request has ${key}`);
      assert.equal(start.includes(authz.query[key]), false, `${key} is in the browser's argv`);
    }
    assert.doesNotMatch(start, /redirect_uri|state=|code_challenge|nonce|callback/);

    const log = await readBrowserLog(env);
    assert.equal(log.result, 'ok', JSON.stringify(log));
    assert.equal(log.url, start);
    const opened = new URL(log.authorizationUrl);
    assert.equal(`${opened.origin}${opened.pathname}`, hs.endpoints.authorization);
    assert.deepEqual(Object.fromEntries(opened.searchParams), authz.query, 'the stand-in was sent on to this login\'s request');
    assert.deepEqual(log.steps.map((s) => `${s.did} ${s.status}`).slice(0, 1), ['open start address 302']);
    assert.equal(log.steps[0].location, log.authorizationUrl);
    assert.ok(r.stderr.includes(log.authorizationUrl), 'the authorization URL is printed on stderr, the user\'s own');
  });

  test('another user reads the start address from the browser\'s argv and opens it first: the real '
    + 'browser\'s visit ends the login (exit 1), nothing is cached, the listener is closed', { skip: NEEDS_ROOT }, async () => {
    hs.reset();
    const env = freshEnv(hs);
    writeConfig(env, profileToml(hs));
    // A browser that saves its argv and pid in the home (mode 0700: nobody cannot read them) and
    // then waits, as a browser slow to start would, until the test tells it to go.
    const script = path.join(env.HOME, 'waiting-browser.sh');
    fs.writeFileSync(script, [
      '#!/bin/sh',
      'exec </dev/null >/dev/null 2>&1',
      'printf \'%s\\0\' "$@" > "$HOME/browser-argv.tmp" && mv "$HOME/browser-argv.tmp" "$HOME/browser-argv"',
      'echo $$ > "$HOME/browser-pid.tmp" && mv "$HOME/browser-pid.tmp" "$HOME/browser-pid"',
      'i=0',
      'while [ $i -lt 300 ] && [ ! -e "$HOME/browser-stop" ]; do sleep 0.1; i=$((i + 1)); done',
      '',
    ].join('\n'), { mode: 0o700 });
    env.BROWSER = script;
    const run = startTokenctl(['login', '-p', 'dev', '--timeout', '20s'], { env, timeoutMs: 30000 });
    let browserPid = null;
    try {
      browserPid = Number(await waitForFile(path.join(env.HOME, 'browser-pid')));
      const [, shown] = await run.waitForStderr(/^ {2}(http:\/\/\S+\/authorize\?\S+)$/m);
      const [given] = savedArgv(path.join(env.HOME, 'browser-argv'));
      assert.match(given, START);

      // 1. nobody reads the browser's command line: the start address, and nothing of the login.
      const cat = await asNobody(['cat', `/proc/${browserPid}/cmdline`]);
      assert.equal(cat.status, 0, `nobody cannot read /proc/${browserPid}/cmdline: ${cat.stderr}`);
      const cmdline = cat.stdout.split('\0');
      const start = cmdline.find((a) => START.test(a));
      assert.equal(start, given, `the start address is in the argv nobody sees: ${JSON.stringify(cmdline)}`);
      const asked = new URL(shown).searchParams;
      for (const key of ['state', 'code_challenge', 'nonce', 'redirect_uri']) {
        assert.ok(asked.get(key), `control: the authorization URL has ${key}`);
        assert.equal(cat.stdout.includes(asked.get(key)), false, `${key} is readable in the browser's argv`);
        assert.equal(cat.stdout.includes(key), false, `"${key}" is readable in the browser's argv`);
      }

      // 2. nobody opens the start address first: the 302 to the authorization URL is its one use.
      const first = await nobodyGet(start);
      assert.deepEqual(first, { status: 302, location: shown }, 'the attacker got the authorization URL');
      // ...and signs in at the server as itself, keeping the callback address with its code.
      hs.script('authorization', { user: 'mallory' });
      const signedIn = await nobodyGet(first.location);
      assert.equal(signedIn.status, 302);
      const attackerCallback = new URL(signedIn.location);
      assert.ok(attackerCallback.searchParams.get('code'), 'control: the attacker holds a code for the listener');
      assert.equal(attackerCallback.searchParams.get('state'), asked.get('state'));

      // 3. The user's browser opens the start address: the second request ends the login.
      const browser = await runBrowser(start, { logFile: path.join(env.HOME, 'real-browser.json') });
      assert.equal(browser.log.steps[0]?.status, 410, JSON.stringify(browser.log));
      const secondAt = Date.now();
      const r = await run.done;
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.ok(Date.now() - secondAt < 5000, 'the login ended at the second request, not at its timeout');
      assert.match(r.stderr, /^tokenctl: error: the one-time sign-in address was opened twice: another program on this machine may be trying to take over this login, so it was stopped$/m);
      assert.match(r.stderr, /^tokenctl: hint: run tokenctl login again/m);
      assert.equal(fs.existsSync(cachePath(env)) && readCache(env).tokens?.dev !== undefined, false, 'a token set was cached');
      assert.deepEqual(hs.requests('token'), [], 'no code was exchanged');

      // 4. The attacker delivers its code afterwards: the listener is gone.
      assert.deepEqual(await nobodyGet(attackerCallback.href), { error: 'ECONNREFUSED' });
      assert.deepEqual(hs.requests('token'), []);
    } finally {
      fs.writeFileSync(path.join(env.HOME, 'browser-stop'), '');
      if (run.child.exitCode === null) run.child.kill('SIGTERM');
      await run.done;
      for (let i = 0; browserPid && i < 100 && fs.existsSync(`/proc/${browserPid}/cmdline`); i++) await sleep(50);
    }
  });
});

describe('exec: the token file\'s folder under XDG_RUNTIME_DIR', () => {
  let env;
  let token;
  before(async () => {
    env = freshEnv(hs);
    writeConfig(env, profileToml(hs));
    token = (await login(env, 'dev')).access_token;
  });

  // The command prints its token file, its folder's mode and owner, and the token's length.
  const SHOW = 'echo "$BEARER_TOKEN_FILE"; stat -c %a:%u "$(dirname "$BEARER_TOKEN_FILE")"; '
    + 'test "$(cat "$BEARER_TOKEN_FILE")" = "$EXPECTED" && echo token-ok';

  function runtimeDir(name) {
    const dir = path.join(env.HOME, name);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  async function execShow(runtime) {
    const r = await runTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', SHOW],
      { env: { ...env, XDG_RUNTIME_DIR: runtime, EXPECTED: token } });
    assert.equal(r.code, 0, r.stderr);
    const [file, folder, ok, ...rest] = r.stdout.split('\n');
    assert.deepEqual([ok, rest], ['token-ok', ['']], r.stdout);
    return { r, file, folder };
  }

  // What the command saw when tokenctl refused the runtime folder: a fresh private /tmp folder.
  function assertPrivateTmp({ r, file, folder }, refused, why) {
    assert.match(file, /^\/tmp\/tokenctl-[A-Za-z0-9]{6}\/bearer-token-\d+$/);
    assert.equal(folder, `700:${process.getuid()}`, 'the /tmp folder is 0700 and the user\'s');
    assert.equal(fs.existsSync(path.dirname(file)), false, 'the /tmp folder is removed afterwards');
    assert.equal(r.stderr, `tokenctl: warning: not using ${refused} for the token file: ${why}; `
      + 'using a new private folder in /tmp\n', 'one warning, nothing else');
  }

  test('a folder owned by another user is not used: a fresh private /tmp folder, one warning',
    { skip: NEEDS_ROOT }, async () => {
      const runtime = runtimeDir('run-other');
      const theirs = path.join(runtime, 'tokenctl');
      fs.mkdirSync(theirs, { mode: 0o700 });
      fs.chownSync(theirs, NOBODY, NOBODY);
      assertPrivateTmp(await execShow(runtime), theirs, `it is owned by uid ${NOBODY}`);
      const st = fs.lstatSync(theirs);
      assert.deepEqual([st.uid, st.mode & 0o777], [NOBODY, 0o700], 'the other user\'s folder was changed');
      assert.deepEqual(fs.readdirSync(theirs), [], 'something was written into the other user\'s folder');
    });

  test('a symbolic link is not followed: a fresh private /tmp folder, one warning', async () => {
    const runtime = runtimeDir('run-link');
    const target = path.join(runtime, 'elsewhere');
    fs.mkdirSync(target);
    fs.chmodSync(target, 0o777);
    if (AS_ROOT) fs.chownSync(target, NOBODY, NOBODY); // the attacker's folder
    const link = path.join(runtime, 'tokenctl');
    fs.symlinkSync('elsewhere', link);
    assertPrivateTmp(await execShow(runtime), link, 'it is not a folder (or a symbolic link)');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is left alone');
    assert.deepEqual(fs.readdirSync(target), [], 'something was written through the link');
    assert.equal(fileMode(target), 0o777, 'the link\'s target was changed');
  });

  test('the user\'s own folder of mode 0755 is tightened to 0700 and used, silently', async () => {
    const runtime = runtimeDir('run-own');
    const own = path.join(runtime, 'tokenctl');
    fs.mkdirSync(own);
    fs.chmodSync(own, 0o755);
    const { r, file, folder } = await execShow(runtime);
    assert.match(file, new RegExp(`^${own.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/bearer-token-\\d+$`));
    assert.equal(folder, `700:${process.getuid()}`, 'tightened before the file was written');
    assert.equal(r.stderr, '');
    assert.equal(fileMode(own), 0o700);
    assert.deepEqual(fs.readdirSync(own), [], 'the token file is removed afterwards');
  });
});
