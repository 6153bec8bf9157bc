// tokenctl as the Databricks CLI, through the program installed as `databricks` (a symbolic link to
// tokenctl; the man page "Databricks tools"), against the test server's Databricks issuers:
//   - the Go and Python SDK mimics of clients/ (databricks-clients.test.mjs tests them against a
//     fake) pointed at the link, under TZ=UTC, America/Los_Angeles and Asia/Kolkata: the version
//     probes enable --profile and --force-refresh, the token and the cache's expiry are read right
//     and Python's local-time test says valid; the 1 MiB size check (the link resolves to tokenctl;
//     what each SDK says of a copy cut below 1 MiB); the Python SDK's PATH look-up resolving links;
//   - 20 concurrent `auth token --force-refresh`: one refresh; a second burst: none;
//   - which profile `auth token --host URL [--account-id ID]` finds, the "not configured" failure,
//     an unknown flag, and the expiry format under three time zones.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { freshEnv, readCache, runTokenctl, startServer } from './lib/harness.mjs';
import {
  assertDatabricksExpiry, authTokenAnswer, CLI_VERSION, installShim, linkAsDatabricks, loginDatabricks,
  NOT_CONFIGURED, ONE_MIB, PY_SKIP, runProgram, runSdkClient, tokenctlTarget, ZONES,
} from './lib/databricks.mjs';
import { isoSeconds, patchCache } from './lib/tokens.mjs';

const CLIENTS = [{ name: 'py', skip: PY_SKIP }, { name: 'go', skip: false }];
const BURST = 20;

// The first `bytes` bytes of tokenctl, executable, as `dir`/databricks.
function truncatedCopy(dir, bytes) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'databricks');
  const fd = fs.openSync(tokenctlTarget(), 'r');
  const buf = Buffer.alloc(bytes);
  fs.readSync(fd, buf, 0, bytes, 0);
  fs.closeSync(fd);
  fs.writeFileSync(file, buf, { mode: 0o755 });
  return file;
}

describe('the Go and Python SDKs (mimics) through the `databricks` link', { concurrency: 3 }, () => {
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

  for (const zone of ZONES) {
    for (const { name, skip } of CLIENTS) {
      test(`${name}, TZ=${zone}: --profile and --host: the token, the cache's expiry to the second, valid`, { skip }, async () => {
        for (const args of [['--profile', 'dbx'], []]) {
          const out = await runSdkClient(name, ['--cli-path', shim, '--host', `${server.origin}/`, ...args], { ...env, TZ: zone });
          assert.equal(out.ok, true, `${args.join(' ')}: ${out.error}`);
          // The version probe as this SDK parses it: 0.296.0, so --profile (>= 0.207.1) and
          // --force-refresh (>= 0.296.0) are both sent.
          assert.deepEqual(out.version_argv, name === 'py' ? [shim, 'version', '--output', 'json'] : [shim, 'version']);
          assert.deepEqual(out.cli_version, name === 'py' ? [0, 296, 0] : `v${CLI_VERSION}`);
          const asked = args.length ? ['--profile', 'dbx'] : ['--host', server.origin];
          assert.deepEqual(out.argv, [shim, 'auth', 'token', ...asked, '--force-refresh']);
          const set = readCache(env).tokens.dbx; // after the run: a --force-refresh may have refreshed it
          const expiryMs = Date.parse(set.expiry);
          assert.equal(out.token_type, 'Bearer');
          assert.equal(out.access_token_len, set.access_token.length);
          assertDatabricksExpiry(out.expiry_raw, expiryMs, zone);
          assert.equal(out.expiry_epoch_s, expiryMs / 1000, `${name} reads ${out.expiry_utc}, the cache says ${set.expiry}`);
          assert.equal(out.expiry_utc, set.expiry);
          assert.equal(out.valid, true);
          if (name === 'py') {
            // Python compares a naive local time with local now: the wall time of the zone.
            assert.equal(out.expiry_local_naive, out.expiry_raw.slice(0, 19));
          }
        }
      });
    }
  }

  test('`version` and `version --output json` answer as Databricks CLI v0.296.0', async () => {
    const text = await runProgram(shim, ['version'], { env });
    assert.deepEqual([text.code, text.stdout, text.stderr], [0, `Databricks CLI v${CLI_VERSION}\n`, '']);
    const direct = await runTokenctl(['databricks', 'version'], { env });
    assert.equal(direct.stdout, text.stdout, '`tokenctl databricks version` is the same');
    let first;
    for (const args of [['version', '--output', 'json'], ['version', '-o', 'json'], ['version', '--output=json']]) {
      const r = await runProgram(shim, args, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
      const info = JSON.parse(r.stdout);
      assert.deepEqual([info.Major, info.Minor, info.Patch, info.Version, info.Prerelease, info.IsSnapshot],
        [0, 296, 0, CLI_VERSION, '', false]);
      first ??= r.stdout;
      assert.equal(r.stdout, first, args.join(' '));
    }
  });

  test('the size check: the link resolves to tokenctl, >= 1 MiB; Go accepts it named and on PATH', async (t) => {
    assert.ok(fs.lstatSync(shim).isSymbolicLink());
    const size = fs.statSync(tokenctlTarget()).size;
    assert.ok(size >= ONE_MIB, `tokenctl is ${size} bytes: the SDKs refuse a databricks under 1 MiB`);
    assert.equal(fs.statSync(shim).size, size, 'the SDKs measure the target of the link');
    // The .deb ships the program stripped: that must pass too.
    const stripped = path.join(env.HOME, '.local', 'stripped');
    const strip = spawnSync('strip', ['--strip-all', '-o', stripped, tokenctlTarget()], { encoding: 'utf8' });
    if (strip.status === 0) {
      const strippedSize = fs.statSync(stripped).size;
      fs.rmSync(stripped);
      assert.ok(strippedSize >= ONE_MIB, `tokenctl stripped is ${strippedSize} bytes, under the SDKs' 1 MiB`);
      t.diagnostic(`tokenctl: ${size} bytes, stripped ${strippedSize}`);
    } else {
      t.diagnostic(`tokenctl: ${size} bytes (no strip command: the stripped size is not checked)`);
    }
    // Go on PATH (no databricks_cli_path): the link is found, measured through, and run as is.
    const onPath = await runSdkClient('go', ['--host', server.origin, '--profile', 'dbx'],
      { ...env, PATH: `${path.dirname(shim)}:${env.PATH}` });
    assert.equal(onPath.ok, true, onPath.error);
    assert.equal(onPath.cli_path, shim);
  });

  test('a copy cut below 1 MiB: Go refuses it as the legacy CLI; Python on PATH too; Python given the path runs it', async () => {
    const small = truncatedCopy(path.join(env.HOME, '.local', 'small'), ONE_MIB - 1);
    const go = await runSdkClient('go', ['--cli-path', small, '--host', server.origin, '--profile', 'dbx'], env);
    assert.equal(go.ok, false);
    assert.equal(go.error, 'legacy databricks CLI detected; upgrade to >= 0.100.0');
    assert.equal(go.not_applicable, true, 'the older Go provider passes over it to the next auth type');
    assert.equal(go.argv, null, 'never run');
    const goPath = await runSdkClient('go', ['--host', server.origin], { ...env, PATH: `${path.dirname(small)}:/usr/bin:/bin` });
    assert.equal(goPath.ok, false);
    assert.equal(goPath.argv, null, 'never run');
    if (!PY_SKIP) {
      const pyPath = await runSdkClient('py', ['--host', server.origin], { ...env, PATH: `${path.dirname(small)}:/usr/bin:/bin` });
      assert.equal(pyPath.ok, false);
      assert.equal(pyPath.not_applicable, true);
      assert.match(pyPath.error, /Databricks CLI version <0\.100\.0 detected/);
      // A path with a '/' gets no size check in Python: the cut program is run, and fails.
      const pyNamed = await runSdkClient('py', ['--cli-path', small, '--host', server.origin], env);
      assert.equal(pyNamed.ok, false);
      assert.equal(pyNamed.argv[0], small);
    }
  });

  test('Python\'s PATH look-up runs the link\'s target by its own name, `tokenctl`: a hard link works', { skip: PY_SKIP }, async (t) => {
    // databricks-sdk-py _find_executable: pathlib.Path(dir, name).resolve(), and runs the resolved
    // path. Run as `tokenctl`, the program does not answer as the Databricks CLI, so the docs say:
    // name the link in databricks_cli_path (a path with '/' is run as is), or use a hard link.
    const linked = await runSdkClient('py', ['--host', server.origin], { ...env, PATH: `${path.dirname(shim)}:/usr/bin:/bin` });
    assert.equal(linked.ok, false);
    assert.equal(linked.cli_path, tokenctlTarget());
    assert.deepEqual(linked.cli_version, [-1, -1, -1], 'tokenctl by its own name has no `version` command');
    const hardDir = path.join(env.HOME, '.local', 'hard');
    fs.mkdirSync(hardDir, { recursive: true });
    try {
      fs.linkSync(tokenctlTarget(), path.join(hardDir, 'databricks'));
    } catch (err) {
      if (err.code !== 'EXDEV' && err.code !== 'EPERM') throw err;
      t.diagnostic(`no hard link to ${tokenctlTarget()} from the test home (${err.code}): that part is not shown`);
      return;
    }
    const hard = await runSdkClient('py', ['--host', server.origin, '--profile', 'dbx'],
      { ...env, PATH: `${hardDir}:/usr/bin:/bin` });
    assert.equal(hard.ok, true, hard.error);
    assert.equal(hard.cli_path, path.join(hardDir, 'databricks'));
    assert.equal(hard.access_token_len, readCache(env).tokens.dbx.access_token.length);
  });
});

describe(`${BURST} concurrent \`databricks auth token --force-refresh\` on one profile`, () => {
  let server;
  before(async () => { server = await startServer({ databricks: true }); });
  after(() => server?.stop());

  test('one refresh at the server, one token for all; a second burst within 60 s: no refresh', async () => {
    const env = freshEnv(server);
    await loginDatabricks(server, env, { dbx: {} });
    const shim = installShim(env);
    // The login was a moment ago, and --force-refresh coalesces within 60 s of the last refresh:
    // make the set 2 minutes old (its expiry kept), so that the burst must refresh.
    const before = patchCache(env, (c) => { c.tokens.dbx.issued_at = isoSeconds(Date.now() - 120000); }).tokens.dbx;
    await server.reset();
    const burst = () => Promise.all(Array.from({ length: BURST },
      () => runProgram(shim, ['auth', 'token', '--profile', 'dbx', '--force-refresh'], { env, timeoutMs: 90000 })));

    const first = await burst();
    const answers = first.map((r, i) => {
      assert.equal(r.stderr, '', `process ${i}`);
      return authTokenAnswer(r);
    });
    const log = await server.requests();
    assert.deepEqual(log.map((q) => [q.endpoint, q.params?.grant_type, q.status]), [['token', 'refresh_token', 200]],
      'exactly one refresh request');
    const [refresh] = log;
    assert.match(refresh.userAgent, /^tokenctl\/\d/);
    assert.equal(refresh.params.refresh_token, before.refresh_token);
    const issued = JSON.parse(refresh.response);
    assert.notEqual(issued.access_token, before.access_token);
    assert.deepEqual(new Set(answers.map((a) => a.access_token)), new Set([issued.access_token]), 'all print the new token');
    assert.equal(new Set(answers.map((a) => a.expiry)).size, 1);
    const set = readCache(env).tokens.dbx;
    assert.equal(set.access_token, issued.access_token);
    assert.equal(set.refresh_token, issued.refresh_token);
    const refreshedAt = refresh.time;

    await server.reset();
    const second = await burst();
    const elapsed = Date.now() - refreshedAt;
    assert.ok(elapsed < 60000, `the second burst ended ${elapsed} ms after the refresh: not within 60 s, proves nothing`);
    for (const [i, r] of second.entries()) {
      assert.equal(r.stderr, '', `process ${i}`);
      assert.equal(authTokenAnswer(r).access_token, issued.access_token, `process ${i}`);
    }
    assert.deepEqual(await server.requests(), [], 'no request at all');
    assert.equal((await server.scimMe(issued.access_token)).status, 200);
  });
});

describe('`databricks auth token`: which profile, failures, the expiry format', () => {
  let server;
  let env;
  let shim;
  let db;
  const far = 'https://dbc-a1b2345c-d6e7.cloud.databricks.com';
  before(async () => {
    server = await startServer({ databricks: true });
    db = server.databricks;
    env = freshEnv(server);
    await loginDatabricks(server, env, { dbx: {}, acct: { accountId: db.accountId } },
      { otherToml: `[profiles.far]\nhost = "${far}"\n\n` });
    shim = installShim(env);
  });
  after(() => server?.stop());

  const auth = (args, extra = {}) => runProgram(shim, ['auth', 'token', ...args], { env: { ...env, ...extra } });

  test('--host finds the profile as the SDKs write its host: trailing slash, a path, no scheme, default port', async () => {
    const { dbx, acct } = readCache(env).tokens;
    assert.notEqual(dbx.access_token, acct.access_token);
    const hostOnly = server.origin.replace(/^https:\/\//, '');
    // Python keeps a path the user wrote in the host; Go and JavaScript drop it.
    for (const host of [server.origin, `${server.origin}/`, `${server.origin}/some/path`, hostOnly]) {
      const answer = authTokenAnswer(await auth(['--host', host]));
      assert.equal(answer.access_token, dbx.access_token, `--host ${host}: the workspace profile, not the account one`);
    }
    // A profile's host without a port and the SDKs' ":443" (Go keeps it), or a trailing slash:
    // the same host. It is not logged in, and the error names it.
    for (const host of [`${far}:443`, `${far}:443/`, `${far}/`]) {
      const r = await auth(['--host', host]);
      assert.equal(r.code, 3, `--host ${host}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /profile "far" is not logged in/, `--host ${host}`);
      assert.ok(r.stderr.includes(NOT_CONFIGURED), r.stderr);
      assert.ok(r.stderr.includes('tokenctl login -p far'), r.stderr);
    }
  });

  test('--host URL --account-id ID finds the account profile; its token is the account issuer\'s', async () => {
    const { acct } = readCache(env).tokens;
    for (const host of [server.origin, `${server.origin}/`]) {
      const answer = authTokenAnswer(await auth(['--host', host, '--account-id', db.accountId]));
      assert.equal(answer.access_token, acct.access_token);
    }
    const who = (await server.whoami(acct.access_token)).json();
    assert.deepEqual([who.sub, who.iss], ['alice', db.account.issuer]);
    const other = await auth(['--host', server.origin, '--account-id', 'another-account']);
    assert.equal(other.code, 3, other.stderr);
    assert.equal(other.stdout, '');
    assert.ok(other.stderr.includes(NOT_CONFIGURED), other.stderr);
    assert.ok(other.stderr.includes(`tokenctl login -p NAME --host ${server.origin} --account-id another-account`), other.stderr);
  });

  test('no profile for the host or name: non-zero, "databricks OAuth is not configured for this host" and the login to run', async () => {
    await server.reset();
    for (const [args, login] of [
      [['--host', 'https://127.0.0.1:1'], 'tokenctl login -p NAME --host https://127.0.0.1:1'],
      [['--host', 'https://adb-1234567890123456.7.azuredatabricks.net/'], 'tokenctl login -p NAME --host https://adb-'],
      [['--profile', 'nosuch'], 'tokenctl login -p nosuch'],
      [['--profile', 'nosuch', '--force-refresh'], 'tokenctl login -p nosuch'],
    ]) {
      const r = await auth(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.ok(r.stderr.includes(NOT_CONFIGURED), `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(login), `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(await server.requests(), [], 'nothing sent anywhere');
  });

  test('an unknown flag: exit 2, `unknown flag: --NAME` (what the SDKs look for), through the link and as tokenctl databricks', async () => {
    for (const flag of ['--bogus', '--experimental-new-thing']) {
      for (const r of [await auth(['--profile', 'dbx', flag]),
        await runTokenctl(['databricks', 'auth', 'token', '--profile', 'dbx', flag], { env })]) {
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, '');
        assert.ok(r.stderr.includes(`unknown flag: ${flag}`), r.stderr);
      }
    }
  });

  test('other Databricks CLI commands (auth login from an IDE, clusters): exit 2, said as the CLI says it, with what to run', async () => {
    const login = await runTokenctl(['databricks', 'auth', 'login', '--host', 'https://dbc-x.cloud.databricks.com'], { env });
    assert.equal(login.code, 2, login.stderr);
    assert.equal(login.stdout, '');
    assert.match(login.stderr, /unknown command "login" for "databricks auth"/);
    assert.match(login.stderr, /hint: to log in, run: tokenctl login --host HOST/);
    const other = await runTokenctl(['databricks', 'clusters', 'list'], { env });
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /unknown command "clusters" for "databricks"/);
    assert.deepEqual(await server.requests(), [], 'nothing sent anywhere');
  });

  test('the expiry: local time, a fraction, a numeric offset, the cache\'s instant, under three TZ values', async () => {
    for (const zone of ZONES) {
      for (const profile of ['dbx', 'acct']) {
        const answer = authTokenAnswer(await auth(['--profile', profile], { TZ: zone }));
        const set = readCache(env).tokens[profile];
        assert.equal(answer.access_token, set.access_token);
        assertDatabricksExpiry(answer.expiry, Date.parse(set.expiry), zone);
      }
    }
  });
});
