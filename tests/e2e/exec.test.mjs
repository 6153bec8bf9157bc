// End-to-end tests of `tokenctl exec -- COMMAND` (the man page "Headless logins and other consumers"):
// BEARER_TOKEN_FILE (0600) kept fresh while COMMAND runs, gone afterwards; COMMAND's exit status
// (128 + signal when killed) passed through; signals to tokenctl passed on to COMMAND; the token
// never in COMMAND's argv or environment.
//
// The long test uses 10-second access tokens (the margin is then half the lifetime, 5 s): a shell
// loop reads the file every 2 s for 24 s and asks the server's /api/whoami with curl (the header
// from a file, so that the token is in no argv here either) whether the token it read works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  cachePath, fileMode, freshEnv, profileToml, readCache, runTokenctl, startServer, startTokenctl, writeConfig,
} from './lib/harness.mjs';
import { login, makeDue, MIN_TTL } from './lib/tokens.mjs';

const NO_CURL = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0 ? false
  : 'the curl command is not installed';
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function loggedIn(server, extra = {}) {
  const env = freshEnv(server, extra);
  writeConfig(env, profileToml(server));
  await login(env, 'dev');
  return env;
}

// Wait until `file` exists and is not empty; returns its text.
async function waitForFile(file, waitMs = 20000) {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.statSync(file).size > 0) return fs.readFileSync(file, 'utf8');
    await sleep(50);
  }
  throw new Error(`${file} never appeared`);
}

// The first line that the command of a running `exec` printed.
function firstLine(run) {
  return new Promise((resolve, reject) => {
    let collected = '';
    run.child.stdout.on('data', (c) => {
      collected += c;
      if (collected.includes('\n')) resolve(collected.slice(0, collected.indexOf('\n')));
    });
    run.child.on('close', () => reject(new Error(`the command ended before printing a line: ${collected}`)));
  });
}

describe('a command that outlives several 10-second tokens', () => {
  let server;
  before(async () => { server = await startServer({ accessTokenTTL: 10 }); });
  after(async () => { await server?.stop(); });

  test('reads a working token every 2 s for 24 s; the file is 0600, private, removed', { skip: NO_CURL }, async () => {
    const runtime = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'tokenctl-e2e-run-'));
    const env = await loggedIn(server, { XDG_RUNTIME_DIR: runtime });
    const work = path.join(env.HOME, 'work');
    fs.mkdirSync(work);
    const script = [
      'echo $$ > "$WORK/pid"',
      'i=0',
      'while [ $i -lt 12 ]; do',
      '  i=$((i + 1))',
      '  tok=$(cat "$BEARER_TOKEN_FILE")',
      '  printf "Authorization: Bearer %s\\n" "$tok" > "$WORK/header"',
      '  code=$(curl -s -o "$WORK/who.$i" -w "%{http_code}" --cacert "$CA" -H @"$WORK/header" "$ORIGIN/api/whoami")',
      '  printf "%s\\n" "$tok" > "$WORK/token.$i"',
      '  echo "read $i $code $(stat -c %a "$BEARER_TOKEN_FILE") $BEARER_TOKEN_FILE"',
      '  sleep 2',
      'done',
    ].join('\n');
    await server.reset();
    const run = startTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', script], {
      env: { ...env, WORK: work, CA: server.ca, ORIGIN: server.origin }, timeoutMs: 90000,
    });
    // While it runs: the token is in neither the argv nor the environment of the command.
    const pid = (await waitForFile(path.join(work, 'pid'))).trim();
    await waitForFile(path.join(work, 'token.1'));
    const seen = new Set();
    for (let probe = 0; probe < 3; probe += 1) {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const tokenFile = environ.find((v) => v.startsWith('BEARER_TOKEN_FILE=')).slice(18);
      const token = fs.readFileSync(tokenFile, 'utf8').trim();
      seen.add(token);
      assert.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token), false, 'token in argv');
      assert.equal(environ.some((v) => v.includes(token)), false, 'token in the environment');
      await sleep(6000);
    }
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const reads = r.stdout.trim().split('\n');
    assert.equal(reads.length, 12, r.stdout);
    const tokenFile = path.join(runtime, 'tokenctl', `bearer-token-${run.child.pid}`);
    const tokens = new Set();
    reads.forEach((line, i) => {
      assert.equal(line, `read ${i + 1} 200 600 ${tokenFile}`, `read ${i + 1}: ${line}`);
      const who = JSON.parse(fs.readFileSync(path.join(work, `who.${i + 1}`), 'utf8'));
      assert.equal(who.sub, 'alice');
      assert.equal(who.auth, 'bearer');
      tokens.add(fs.readFileSync(path.join(work, `token.${i + 1}`), 'utf8').trim());
    });
    assert.ok(tokens.size >= 3, `${tokens.size} different tokens over 24 s of 10-second tokens`);
    for (const token of seen) assert.ok(tokens.has(token));
    const refreshes = (await server.requests('token')).filter((q) => q.params.grant_type === 'refresh_token');
    assert.ok(refreshes.length >= 3, `${refreshes.length} refreshes`);
    assert.equal(fs.existsSync(tokenFile), false, 'the token file is removed afterwards');
    assert.equal(fileMode(path.join(runtime, 'tokenctl')).toString(8), '700');
    assert.deepEqual(fs.readdirSync(path.join(runtime, 'tokenctl')), []);
    assert.equal(readCache(env).tokens.dev.access_token, JSON.parse(refreshes.at(-1).response).access_token,
      'the cache holds the last token');
    fs.rmSync(runtime, { recursive: true, force: true });
  });

  test('when renewal fails the command keeps running, with a warning; its status still counts', async () => {
    const env = await loggedIn(server, { XDG_RUNTIME_DIR: undefined });
    const before = fs.readFileSync(cachePath(env));
    await server.reset();
    await server.fault({ path: '/token', mode: '503', count: 100 });
    const r = await runTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', 'sleep 8; cat "$BEARER_TOKEN_FILE"; exit 3'],
      { env, timeoutMs: 30000 });
    await server.reset();
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, `${JSON.parse(before).tokens.dev.access_token}\n`, 'the old token stays in the file');
    assert.match(r.stderr,
      /^tokenctl: warning: could not renew the token for the running command: .*503.*; trying again in 30s$/m);
    assert.deepEqual(fs.readFileSync(cachePath(env)), before, 'the cache is kept');
  });
});

describe('exit status, signals, the token folder', () => {
  let server;
  let env;
  before(async () => {
    server = await startServer();
    env = await loggedIn(server, { XDG_RUNTIME_DIR: undefined });
  });
  after(async () => { await server?.stop(); });

  test("COMMAND's exit status is tokenctl's: 7 gives 7, a kill by SIGKILL gives 137", async () => {
    const seven = await runTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', 'exit 7'], { env });
    assert.equal(seven.code, 7, seven.stderr);
    assert.equal(seven.stderr, '');
    const killed = await runTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', 'kill -KILL $$'], { env });
    assert.equal(killed.code, 137, killed.stderr);
  });

  test('without XDG_RUNTIME_DIR the file is in a private /tmp folder, removed with the folder', async () => {
    const script = 'ls -ld "$(dirname "$BEARER_TOKEN_FILE")"; stat -c "%a %U" "$BEARER_TOKEN_FILE"; '
      + 'echo "$BEARER_TOKEN_FILE"; cat "$BEARER_TOKEN_FILE"';
    const r = await runTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', script], { env });
    assert.equal(r.code, 0, r.stderr);
    const [dirLine, modeLine, file, token] = r.stdout.trim().split('\n');
    assert.match(dirLine, /^drwx------ /);
    assert.equal(modeLine.split(' ')[0], '600');
    assert.match(file, /^\/tmp\/tokenctl-[^/]+\/bearer-token-\d+$/);
    assert.equal(token, readCache(env).tokens.dev.access_token);
    assert.equal(fs.existsSync(path.dirname(file)), false, 'the private folder is removed');
  });

  test('SIGTERM (INT, HUP) to tokenctl reaches COMMAND: it traps it, exits 42, and so does tokenctl', async () => {
    for (const [signal, status] of [['TERM', 42], ['INT', 43], ['HUP', 44]]) {
      const script = `trap "echo got ${signal}; exit ${status}" ${signal}; echo ready; while :; do sleep 0.1; done`;
      const run = startTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', script], { env, timeoutMs: 30000 });
      assert.equal(await firstLine(run), 'ready');
      run.child.kill(`SIG${signal}`);
      const r = await run.done;
      assert.equal(r.code, status, `${signal}: ${r.stderr}`);
      assert.equal(r.signal, null);
      assert.equal(r.stdout, `ready\ngot ${signal}\n`);
    }
  });

  test('SIGTERM to tokenctl with a COMMAND that does not trap it: exit 143, the file removed', async () => {
    const script = 'echo "$BEARER_TOKEN_FILE"; exec sleep 30';
    const run = startTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', script], { env, timeoutMs: 30000 });
    const file = await firstLine(run);
    assert.ok(fs.existsSync(file));
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.ok(r.ms < 10000, `tokenctl took ${r.ms} ms`);
    assert.equal(r.code, 143, r.stderr);
    assert.equal(fs.existsSync(file), false);
  });

  test('--min-ttl makes a due token fresh before COMMAND starts; a bad duration is a usage error', async () => {
    const own = await loggedIn(server, { XDG_RUNTIME_DIR: undefined });
    const old = makeDue(own).access_token;
    const r = await runTokenctl(['exec', '--min-ttl', MIN_TTL, '-p', 'dev', '--', 'sh', '-c', 'cat "$BEARER_TOKEN_FILE"'],
      { env: own });
    assert.equal(r.code, 0, r.stderr);
    const fresh = readCache(own).tokens.dev.access_token;
    assert.notEqual(fresh, old);
    assert.equal(r.stdout, `${fresh}\n`);
    const bad = await runTokenctl(['exec', '--min-ttl', 'soon', '-p', 'dev', '--', 'true'], { env: own });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--min-ttl: invalid duration "soon"/);
  });

  test('a command that cannot be started: an error, and no token file left behind', async () => {
    const runtime = path.join(env.HOME, 'runtime');
    fs.mkdirSync(runtime, { mode: 0o700 });
    const r = await runTokenctl(['exec', '-p', 'dev', '--', '/nonexistent/command'],
      { env: { ...env, XDG_RUNTIME_DIR: runtime } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tokenctl: error: cannot run /nonexistent/command: No such file or directory\n');
    assert.equal(r.stdout, '');
    assert.deepEqual(fs.readdirSync(path.join(runtime, 'tokenctl')), []);
  });
});
