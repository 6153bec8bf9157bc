// No core dump can carry a secret: every tokenctl process sets its soft RLIMIT_CORE
// to 0 and makes itself non-dumpable (prctl PR_SET_DUMPABLE 0) first thing
// (src/sys/os.cpp disable_core_dumps, called at the top of cli::run). Checked on the two commands
// that hold secrets for long: `exec` (the access token, for as long as its command runs) and
// `login` (the PKCE verifier and then the tokens, while it waits for the browser).
//
// How "non-dumpable" is seen from outside: the kernel gives the files in /proc/PID of a
// non-dumpable process to root instead of to the process's user (proc(5), /proc/PID; prctl(2),
// PR_SET_DUMPABLE). So tokenctl runs here as an unprivileged user (nobody, 65534, when the tests
// run as root, else the tests' own user), and /proc/PID/status must belong to root while its
// Uid line names that user. The control that the probe tells the two apart: exec's COMMAND, the
// same user's process, is dumpable again after its execve, and its /proc/PID/status belongs to
// that user.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { freshEnv, profileToml, startServer, startTokenctl, writeConfig } from './lib/harness.mjs';
import { login } from './lib/tokens.mjs';

const NOBODY = 65534;
const AS_ROOT = process.getuid() === 0;
// The user tokenctl runs as: never root, whose /proc files belong to root anyway.
const USER = AS_ROOT ? { uid: NOBODY, gid: NOBODY } : { uid: process.getuid(), gid: process.getgid() };

// Give `dir` and everything below it to USER (when the tests run as root).
function giveToUser(dir) {
  if (!AS_ROOT) return;
  fs.lchownSync(dir, USER.uid, USER.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) giveToUser(file);
    else fs.lchownSync(file, USER.uid, USER.gid);
  }
}

// The soft and hard "Max core file size" of process `pid`, as /proc/PID/limits shows them.
function coreLimits(pid) {
  const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = text.match(/^Max core file size\s+(\S+)\s+(\S+)\s+bytes\s*$/m);
  assert.ok(m, `no core size line in /proc/${pid}/limits:\n${text}`);
  return { soft: m[1], hard: m[2] };
}

// The real uid of process `pid` (its Uid line) and the owner of its /proc/PID/status.
function procOwnership(pid) {
  const file = `/proc/${pid}/status`;
  const uid = Number(fs.readFileSync(file, 'utf8').match(/^Uid:\s+(\d+)/m)[1]);
  return { uid, owner: fs.statSync(file).uid };
}

// Assert that the running tokenctl `pid` can leave no core dump. The hard limit stays the user's,
// so that the programs tokenctl starts get the user's own limit back.
function assertNoCoreDump(pid, what) {
  assert.deepEqual(coreLimits(pid), { soft: '0', hard: coreLimits(process.pid).hard }, `${what}: RLIMIT_CORE`);
  assert.deepEqual(procOwnership(pid), { uid: USER.uid, owner: 0 },
    `${what} runs as ${USER.uid} and is not dumpable (its /proc files belong to root)`);
}

// The first line the running `run` printed on stdout.
function firstLine(run) {
  return new Promise((resolve, reject) => {
    let text = '';
    run.child.stdout.on('data', (c) => {
      text += c;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    run.child.on('close', () => reject(new Error(`tokenctl ended before its command printed a line: ${text}`)));
  });
}

// The build tree may sit below a folder only root can enter (a CI checkout in a `mktemp -d`
// folder, mode 0700): run a copy of tokenctl and its network module from a folder USER can reach.
function useBinaryTheUserCanRun() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-bin-'));
  fs.chmodSync(dir, 0o755);
  const built = path.dirname(process.env.TOKENCTL_BIN);
  for (const name of [path.basename(process.env.TOKENCTL_BIN), 'tokenctl-net.so']) {
    if (fs.existsSync(path.join(built, name))) fs.copyFileSync(path.join(built, name), path.join(dir, name));
    if (fs.existsSync(path.join(dir, name))) fs.chmodSync(path.join(dir, name), 0o755);
  }
  process.env.TOKENCTL_BIN = path.join(dir, path.basename(process.env.TOKENCTL_BIN));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

describe('core dumps are disabled while tokenctl holds secrets', () => {
  let server;
  before(async () => {
    // A soft core limit that is not 0 (util-linux prlimit on this test process), so that the
    // command's limit can be told apart from tokenctl's.
    const raised = spawnSync('prlimit', ['--pid', String(process.pid), '--core=1048576:'], { encoding: 'utf8' });
    assert.equal(raised.status, 0, `prlimit: ${raised.stderr}`);
    assert.equal(coreLimits(process.pid).soft, '1048576');
    if (AS_ROOT) useBinaryTheUserCanRun();
    server = await startServer({ tls: false });
  });
  after(async () => { await server?.stop(); });

  test('exec: no core for tokenctl while its command runs; the command itself is dumpable', async () => {
    const env = freshEnv(server, { XDG_RUNTIME_DIR: undefined });
    writeConfig(env, profileToml(server));
    await login(env, 'dev');
    giveToUser(env.HOME);
    const run = startTokenctl(['exec', '-p', 'dev', '--', 'sh', '-c', 'echo $$; exec sleep 30'],
      { env, timeoutMs: 40000, ...USER });
    const commandPid = Number(await firstLine(run));
    try {
      assertNoCoreDump(run.child.pid, 'tokenctl exec');
      assert.deepEqual(procOwnership(commandPid), { uid: USER.uid, owner: USER.uid },
        'the control: a dumpable process of the same user owns its /proc files');
      // tokenctl sets it (prlimit) right after the start: a fast command may print first.
      for (let i = 0; i < 100 && coreLimits(commandPid).soft !== coreLimits(process.pid).soft; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(coreLimits(commandPid), coreLimits(process.pid),
        "the command runs with the user's core limit, not tokenctl's");
    } finally {
      run.child.kill('SIGTERM');
    }
    const r = await run.done;
    assert.equal(r.code, 128 + 15, `exec passes on the command's death by SIGTERM:\n${r.stderr}`);
  });

  test('login: no core while it waits for the browser', async () => {
    const env = freshEnv(server, { TEST_BROWSER_MODE: 'idle' });
    writeConfig(env, profileToml(server));
    giveToUser(env.HOME);
    const run = startTokenctl(['login', '-p', 'dev', '--timeout', '30s'], { env, timeoutMs: 40000, ...USER });
    try {
      await run.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/auth\?/);
      assertNoCoreDump(run.child.pid, 'tokenctl login');
    } finally {
      run.child.kill('SIGTERM');
    }
    const r = await run.done;
    assert.notEqual(r.code, 0, 'the login was interrupted');
  });
});
