// A real Databricks client shares tokenctl's login (the man page "Databricks tools"): the Databricks SDK
// for JavaScript (@databricks/sdk-experimental 0.17.0, its own package folder databricks-sdk/,
// `npm ci --prefix tests/e2e/databricks-sdk`) with auth_type = databricks-cli and
// databricks_cli_path pointing at tokenctl installed as `databricks` (a symbolic link), against
// the test server's Databricks workspace (databricks: true), TLS verified with the test CA.
// databricks-sdk/me.mjs calls currentUser.me() (GET /api/2.0/preview/scim/v2/Me). What is checked:
// the SDK gets alice's token from tokenctl; when the cached token has expired, tokenctl (and only
// tokenctl, by its User-Agent) refreshes it, once; the SDK never talks to a token endpoint; it
// asks with `auth token --profile NAME` when given a profile; and tokenctl's "not configured"
// message makes the SDK pass over databricks-cli for a host nobody logged in to.
// Skipped, with the reason, when the SDK package is not installed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E2E_DIR, freshEnv, readCache, startServer } from './lib/harness.mjs';
import { installShim, loginDatabricks, writeDatabrickscfg } from './lib/databricks.mjs';
import { closedPort, expireNow } from './lib/tokens.mjs';

const SDK_DIR = path.join(E2E_DIR, 'databricks-sdk');
const ME = path.join(SDK_DIR, 'me.mjs');
const SDK_PACKAGE = path.join(SDK_DIR, 'node_modules', '@databricks', 'sdk-experimental', 'package.json');
const SDK_VERSION = JSON.parse(fs.readFileSync(path.join(SDK_DIR, 'package.json'), 'utf8')).dependencies['@databricks/sdk-experimental'];

function sdkSkip() {
  if (!fs.existsSync(SDK_PACKAGE)) {
    return 'the Databricks SDK for JavaScript is not installed: run `npm ci --prefix tests/e2e/databricks-sdk` '
      + '(scripts/install-deps.sh does)';
  }
  const installed = JSON.parse(fs.readFileSync(SDK_PACKAGE, 'utf8')).version;
  if (installed !== SDK_VERSION) {
    return `tests/e2e/databricks-sdk has @databricks/sdk-experimental ${installed}, the test pins ${SDK_VERSION}: `
      + 'run `npm ci --prefix tests/e2e/databricks-sdk`';
  }
  return false;
}

const USER = 'alice@example.test';
const SDK_AGENT = /databricks-sdk-js\/\d/;

// Run databricks-sdk/me.mjs in `env` (NODE_EXTRA_CA_CERTS is the test CA: freshEnv sets it).
function runSdk(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ME, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 45000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// Every request of the log: the token endpoints were only ever called by tokenctl, and the SDK
// called nothing but SCIM /Me.
function assertSdkOnlyCalledMe(log) {
  for (const q of log) {
    if (q.endpoint === 'token') assert.match(q.userAgent ?? '', /^tokenctl\/\d/, `a token request by ${q.userAgent}`);
    if (SDK_AGENT.test(q.userAgent ?? '')) assert.equal(q.endpoint, 'scim_me', `the SDK called ${q.method} ${q.path}`);
  }
}

describe(`the Databricks SDK for JavaScript ${SDK_VERSION} with auth_type = databricks-cli`, { skip: sdkSkip() }, () => {
  let server;
  let env;
  let shim;
  before(async () => {
    server = await startServer({ databricks: true });
    env = freshEnv(server);
    await loginDatabricks(server, env, { dbx: {} });
    shim = installShim(env);
  });
  after(() => server?.stop());

  test('--host: me() is alice with tokenctl\'s token; an expired token is refreshed once, by tokenctl', async () => {
    const cached = readCache(env).tokens.dbx;
    await server.reset();
    const first = await runSdk(['--host', server.origin, '--cli-path', shim], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${USER}\n`);
    let log = await server.requests();
    assert.deepEqual(log.map((q) => q.endpoint), ['scim_me'], 'a valid cached token: no token request at all');
    assert.match(log[0].userAgent, SDK_AGENT);
    assert.deepEqual(log[0].authorization, { scheme: 'Bearer', value: cached.access_token });

    // A token left in the cache overnight: the SDK's `auth token` makes tokenctl refresh it.
    expireNow(env, 'dbx');
    await server.reset();
    const second = await runSdk(['--host', server.origin, '--cli-path', shim, '--calls', '2'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, `${USER}\n${USER}\n`);
    log = await server.requests();
    assertSdkOnlyCalledMe(log);
    const tokenRequests = log.filter((q) => q.endpoint === 'token');
    assert.equal(tokenRequests.length, 1, `token requests: ${JSON.stringify(tokenRequests.map((q) => q.params?.grant_type))}`);
    const [refresh] = tokenRequests;
    assert.equal(refresh.params.grant_type, 'refresh_token');
    assert.equal(refresh.params.refresh_token, cached.refresh_token);
    assert.equal(refresh.params.client_id, 'databricks-cli');
    assert.equal(refresh.path, '/oidc/v1/token');
    assert.equal(refresh.status, 200);
    assert.match(refresh.userAgent, /^tokenctl\/\d/);
    const issued = JSON.parse(refresh.response);
    const me = log.filter((q) => q.endpoint === 'scim_me');
    assert.equal(me.length, 2);
    for (const q of me) {
      assert.ok(refresh.seq < q.seq, 'the refresh came before the API calls');
      assert.deepEqual(q.authorization, { scheme: 'Bearer', value: issued.access_token });
      assert.equal(q.status, 200);
    }
    const now = readCache(env).tokens.dbx;
    assert.equal(now.access_token, issued.access_token);
    assert.equal(now.refresh_token, issued.refresh_token, 'the rotated refresh token is in the cache');
  });

  test('--profile, as the README says: .databrickscfg names the program; the SDK asks `auth token --profile dbx`', async () => {
    // A wrapper that notes the SDK's argv and runs the link (the JavaScript SDK has no size check).
    const wrapDir = path.join(env.HOME, '.local', 'wrap');
    fs.mkdirSync(wrapDir, { recursive: true });
    const argvLog = path.join(wrapDir, 'argv.log');
    const wrapper = path.join(wrapDir, 'databricks');
    fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >>'${argvLog}'\nexec '${shim}' "$@"\n`, { mode: 0o755 });
    // The SDK takes host, auth type and program from the profile; tokenctl has a dbx of its own,
    // which wins over this one (so tokenctl does not even read the file).
    writeDatabrickscfg(env, `[dbx]\nhost = ${server.origin}\nauth_type = databricks-cli\ndatabricks_cli_path = ${wrapper}\n`);
    await server.reset();
    const r = await runSdk(['--profile', 'dbx'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${USER}\n`);
    const calls = fs.readFileSync(argvLog, 'utf8').trim().split('\n');
    assert.ok(calls.includes('version'), calls.join(' | '));
    const tokenCalls = calls.filter((c) => c.startsWith('auth '));
    assert.ok(tokenCalls.length >= 1);
    // 0.17 never sends --force-refresh, and needs no --host fallback.
    for (const c of tokenCalls) assert.equal(c, 'auth token --profile dbx');
    const log = await server.requests();
    assertSdkOnlyCalledMe(log);
    assert.deepEqual(log.map((q) => q.endpoint), ['scim_me']);
    assert.deepEqual(log[0].authorization, { scheme: 'Bearer', value: readCache(env).tokens.dbx.access_token });
  });

  test('a host nobody logged in to: tokenctl\'s message makes the SDK pass over databricks-cli', async () => {
    const elsewhere = `https://127.0.0.1:${await closedPort()}`;
    await server.reset();
    const r = await runSdk(['--host', elsewhere, '--cli-path', shim], env);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, '');
    // "Not applicable" (then no auth type is left, as authType is forced), not "cannot get access
    // token" with tokenctl's error: the SDK read `databricks OAuth is not configured for this host`.
    assert.match(r.stderr, /cannot configure default credentials/);
    assert.doesNotMatch(r.stderr, /cannot get access token/);
    assert.deepEqual(await server.requests(), []);
  });
});
