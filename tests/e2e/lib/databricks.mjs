// Helpers for the tests of tokenctl as the Databricks CLI (databricks*.test.mjs): the program
// installed under the name `databricks` (a symbolic link to tokenctl, as `cmake --install` and the
// .deb put it at LIBDIR/tokenctl/databricks), runs of it that the secrets recorder sees, Databricks
// profiles of the test server logged in through the BROWSER stand-in, `.databrickscfg` files, the
// SDK mimic clients of clients/, and the expiry format the SDKs parse.
//
// Why a link and not TOKENCTL_BIN itself: the SDKs run whatever `databricks_cli_path` names, and
// tokenctl answers as the Databricks CLI only when argv[0] ends in `databricks` (src/cli/app.cpp).
// The link lives in a hidden folder of the test home (~/.local/lib/tokenctl/), where the secrets
// recorder does not follow it.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E2E_DIR, readCache, runTokenctl, writeConfig } from './harness.mjs';
import { trackRun } from './recorder.mjs';
import { closedPort } from './tokens.mjs';

export const ONE_MIB = 1024 * 1024;
export const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'];
export const NOT_CONFIGURED = 'databricks OAuth is not configured for this host';
// What `databricks auth token` prints as expiry: local wall time, a fraction, a numeric offset.
export const EXPIRY_FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,9})([+-])(\d{2}):(\d{2})$/;
// The version tokenctl answers (tests/e2e/clients/README.md, "The version tokenctl should answer").
export const CLI_VERSION = '0.296.0';

const PY_CLIENT = path.join(E2E_DIR, 'clients', 'databricks_sdk_py_client.py');
const GO_CLIENT = path.join(E2E_DIR, 'clients', 'databricks_sdk_go_client.mjs');

// The Python interpreter itself (not a pyenv shim on PATH), or null with PY_SKIP the reason.
const python = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 8), sys.executable)'], { encoding: 'utf8' });
const [pyOk, pyExe] = python.status === 0 ? python.stdout.trim().split(' ') : [];
export const PYTHON = pyOk === 'True' ? pyExe : null;
export const PY_SKIP = PYTHON ? false : 'python3 (3.8 or newer) is not installed';

// tokenctl's binary, links resolved: what the SDKs measure.
export function tokenctlTarget() {
  if (!process.env.TOKENCTL_BIN) throw new Error('TOKENCTL_BIN is not set');
  return fs.realpathSync(process.env.TOKENCTL_BIN);
}

// Make `dir`/databricks a symbolic link to tokenctl, as installed; returns the link's path.
export function linkAsDatabricks(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const link = path.join(dir, 'databricks');
  fs.symlinkSync(tokenctlTarget(), link);
  return link;
}

// The installed layout in `env`'s home: ~/.local/lib/tokenctl/databricks -> tokenctl.
export function installShim(env) {
  return linkAsDatabricks(path.join(env.HOME, '.local', 'lib', 'tokenctl'));
}

// Run the program at `file` (the `databricks` link, or anything else) with `args` to its end, as
// runTokenctl does for tokenctl (recorded for the secrets scan under that argv[0]); resolves to
// {code, signal, stdout, stderr, ms, timedOut}.
export function runProgram(file, args, { env, timeoutMs = 60000, input } = {}) {
  const started = Date.now();
  const child = spawn(file, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin.end(input);
  const out = { stdout: '', stderr: '' };
  const record = trackRun(file, args, env, child, out);
  child.stdout.on('data', (c) => { out.stdout += c; });
  child.stderr.on('data', (c) => { out.stderr += c; });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      record.flush(false, { code, signal, timedOut });
      resolve({ code, signal, stdout: out.stdout, stderr: out.stderr, ms: Date.now() - started, timedOut });
    });
  });
}

// TOML for a Databricks profile of `server` (databricks: true): provider "databricks" (a loopback
// host is not a Databricks host name), a free redirect port (Databricks' default, 8020, may be
// taken), the test CA; account_id for the account issuer.
export async function databricksProfileToml(server, { name = 'dbx', accountId, host = server.origin, extra = '' } = {}) {
  const lines = [`[profiles.${name}]`, `host = ${JSON.stringify(host)}`, 'provider = "databricks"',
    `redirect_port = ${await closedPort()}`];
  if (accountId) lines.push(`account_id = ${JSON.stringify(accountId)}`);
  if (server.ca) lines.push(`ca_file = ${JSON.stringify(server.ca)}`);
  if (extra) lines.push(extra.trim());
  return `${lines.join('\n')}\n`;
}

// Write the Databricks profiles `names` ({name: {accountId}}) into `env`'s config and log each in
// with `tokenctl login -p NAME --host ORIGIN [--account-id ID]` through the BROWSER stand-in.
// Resolves to the token sets, by name.
export async function loginDatabricks(server, env, profiles = { dbx: {} }, { otherToml = '' } = {}) {
  const toml = [];
  for (const [name, options] of Object.entries(profiles)) toml.push(await databricksProfileToml(server, { name, ...options }));
  writeConfig(env, `${otherToml}${toml.join('\n')}`);
  const sets = {};
  for (const [name, { accountId }] of Object.entries(profiles)) {
    const args = ['login', '-p', name, '--host', server.origin];
    if (accountId) args.push('--account-id', accountId);
    const r = await runTokenctl(args, { env });
    assert.equal(r.code, 0, `login -p ${name} failed:\n${r.stderr}`);
    assert.equal(r.stdout, '');
    sets[name] = readCache(env).tokens[name];
    assert.ok(sets[name]?.access_token, `no token set for ${name} after login`);
  }
  return sets;
}

// Write `text` as the .databrickscfg of `env` (~/.databrickscfg, or `file`), mode 0600 as the
// Databricks CLI writes it; returns the path.
export function writeDatabrickscfg(env, text, file = path.join(env.HOME, '.databrickscfg')) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

// The JSON answer of `databricks auth token`, checked for its shape: {access_token, token_type,
// expiry}, nothing else on stdout.
export function authTokenAnswer(r) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr:\n${r.stderr}`);
  let answer;
  assert.doesNotThrow(() => { answer = JSON.parse(r.stdout); }, 'stdout is one JSON document');
  assert.deepEqual(Object.keys(answer), ['access_token', 'token_type', 'expiry']);
  assert.equal(answer.token_type, 'Bearer');
  assert.ok(answer.access_token.length > 16);
  return answer;
}

// The UTC offset of `zone` at an instant, in seconds east of UTC.
export function offsetSeconds(zone, epochMs) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(epochMs)).find((p) => p.type === 'timeZoneName').value; // "GMT-08:00"
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0; // "GMT" alone is UTC
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
}

// "+05:30" for 19800.
export function offsetText(seconds) {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  return `${sign}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String((abs % 3600) / 60).padStart(2, '0')}`;
}

// Assert that `expiry` (from `databricks auth token` under TZ=`zone`) is the instant `wantMs`
// written as the Databricks CLI writes it: local wall time of that zone, a fraction, the zone's
// numeric offset ("+00:00" in UTC, never "Z").
export function assertDatabricksExpiry(expiry, wantMs, zone) {
  const m = EXPIRY_FORMAT.exec(expiry);
  assert.ok(m, `${zone}: expiry ${JSON.stringify(expiry)} is not local time with a fraction and a numeric offset`);
  assert.equal(Date.parse(expiry), wantMs, `${zone}: ${expiry} is not the cache's expiry ${new Date(wantMs).toISOString()}`);
  const offset = offsetSeconds(zone, wantMs);
  assert.equal(`${m[8]}${m[9]}:${m[10]}`, offsetText(offset), `${zone}: the offset of ${expiry}`);
  const wall = new Date(wantMs + offset * 1000).toISOString().slice(0, 19);
  assert.equal(expiry.slice(0, 19), wall, `${zone}: the local wall time of ${expiry}`);
}

// Run an SDK mimic client of clients/ (`which`: 'py' or 'go') with `args` in `env` (a freshEnv,
// with TZ and PATH as the test wants). Resolves to its one JSON line, parsed; asserts that the
// exit status matches `ok` and that the client printed nothing else.
export async function runSdkClient(which, args, env) {
  const fullEnv = { ...env };
  const [cmd, cmdArgs] = which === 'py' ? [PYTHON, [PY_CLIENT, ...args]] : [process.execPath, [GO_CLIENT, ...args]];
  const r = await new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `${which} client: one JSON line expected, got ${JSON.stringify(r.stdout)} (stderr ${r.stderr})`);
  const out = JSON.parse(lines[0]);
  assert.equal(r.status, out.ok ? 0 : 1, `${which} client exit status`);
  return out;
}
