// The SDK mimic clients of clients/ (what databricks-sdk-py and databricks-sdk-go do with
// auth_type = databricks-cli), tested against clients/fake-databricks.sh, not tokenctl: that the
// clients probe, call and parse as the SDKs do, under three time zones. These properties are the
// reason for tokenctl's `databricks auth token` output format:
//   (a) the Databricks CLI's expiry (local wall time, fraction, numeric offset) is read as the
//       right instant by both;
//   (b) a UTC "...Z" expiry is misread by the Python SDK by the machine's UTC offset;
//   (c) an expiry without a fraction does not parse in the Python SDK at all;
//   (d) a program under 1 MiB (after symlinks) is refused as the legacy CLI.
// Needs node 18+, sh and GNU date, and for the Python client python3 (3.8+); no tokenctl, no
// server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PY_CLIENT = path.join(here, 'clients', 'databricks_sdk_py_client.py');
const GO_CLIENT = path.join(here, 'clients', 'databricks_sdk_go_client.mjs');
const FAKE = path.join(here, 'clients', 'fake-databricks.sh');
const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'];
const ONE_MIB = 1024 * 1024;
const fake = {
  FAKE_ACCESS_TOKEN: /^FAKE_ACCESS_TOKEN=(\S+)$/m.exec(fs.readFileSync(FAKE, 'utf8'))[1],
  // The fake, executable at `dest`, padded past 1 MiB with a comment after its last `exit`.
  padCopy(dest) {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const body = fs.readFileSync(FAKE, 'utf8');
    fs.writeFileSync(dest, `${body}\n# padding past the SDKs' 1 MiB "not the legacy CLI" check\n#${' '.repeat(ONE_MIB)}\n`, { mode: 0o755 });
    fs.chmodSync(dest, 0o755);
    assert.ok(fs.statSync(dest).size > ONE_MIB);
    return dest;
  },
  smallCopy(dest) {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(FAKE, dest);
    fs.chmodSync(dest, 0o755);
    assert.ok(fs.statSync(dest).size < ONE_MIB);
    return dest;
  },
};

// The interpreter itself rather than python3 on PATH, which may be a slow wrapper (pyenv's shim).
const python = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 8), sys.executable)'], { encoding: 'utf8' });
const [pyOk, PYTHON = 'python3'] = python.status === 0 ? python.stdout.trim().split(' ') : [];
const PY_SKIP = pyOk === 'True' ? false : 'python3 (3.8 or newer) is not installed';

// The fake needs GNU date (`date -d @SECONDS`, `%:z`).
const gnuDate = spawnSync('date', ['-d', '@0', '+%:z'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
const FAKE_SKIP = gnuDate.status === 0 && gnuDate.stdout.trim() === '+00:00' ? false : 'GNU date is not installed (clients/fake-databricks.sh needs it)';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dbx-clients-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const bigCli = fake.padCopy(path.join(root, 'big', 'databricks'));
const smallCli = fake.smallCopy(path.join(root, 'small', 'databricks'));
// A symlink that is itself tiny but points at the padded program, and the reverse.
fs.mkdirSync(path.join(root, 'link-big'));
fs.symlinkSync(bigCli, path.join(root, 'link-big', 'databricks'));
fs.mkdirSync(path.join(root, 'link-small'));
fs.symlinkSync(smallCli, path.join(root, 'link-small', 'databricks'));
// The commands the fake runs, for tests that give the clients a PATH of their own (which must
// not lead to any other `databricks`).
const tools = path.join(root, 'tools');
fs.mkdirSync(tools);
for (const name of ['date', 'sed', 'cat']) {
  const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
  if (found) fs.symlinkSync(found, path.join(tools, name));
}
const HOST = 'https://127.0.0.1:8443';

// One expiry instant for a run: an hour ahead, with a fraction (microseconds since the epoch).
function futureInstantUs() {
  return (Math.floor(Date.now() / 1000) + 3600) * 1e6 + 123456;
}

// The UTC offset of `zone` at an instant, in seconds east of UTC.
function offsetSeconds(zone, epochMs) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(epochMs)).find((p) => p.type === 'timeZoneName').value; // "GMT-07:00"
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0; // "GMT" alone is UTC
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
}

function offsetText(seconds) {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  return `${sign}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String((abs % 3600) / 60).padStart(2, '0')}`;
}

async function runClient(which, args, env) {
  const log = path.join(root, `calls-${process.hrtime.bigint()}.jsonl`);
  const fullEnv = { ...process.env, FAKE_DATABRICKS_LOG: log, ...env };
  for (const k of ['DATABRICKS_CLI_PATH', 'DATABRICKS_HOST', 'DATABRICKS_ACCOUNT_ID', 'DATABRICKS_CONFIG_PROFILE']) {
    if (!(k in env)) delete fullEnv[k];
  }
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
  assert.ok(!r.stdout.includes(fake.FAKE_ACCESS_TOKEN), `${which} client printed the access token`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `${which} client: one JSON line expected, got ${JSON.stringify(r.stdout)} (stderr ${r.stderr})`);
  const out = JSON.parse(lines[0]);
  assert.equal(r.status, out.ok ? 0 : 1, `${which} client exit status`);
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  return { out, calls };
}

const bothClients = [
  { name: 'py', skip: PY_SKIP },
  { name: 'go', skip: false },
];

describe('databricks SDK mimic clients', { concurrency: 4, skip: FAKE_SKIP }, () => {
  for (const zone of ZONES) {
    for (const { name, skip } of bothClients) {
      it(`${name} client, TZ=${zone}: the CLI's format (local time, fraction, offset) is the right instant`, { skip }, async () => {
        const us = futureInstantUs();
        for (const format of ['local-frac', 'go']) {
          const { out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], {
            TZ: zone, FAKE_DATABRICKS_EXPIRY_US: String(us), FAKE_DATABRICKS_EXPIRY_FORMAT: format,
          });
          assert.equal(out.ok, true, `${format}: ${out.error}`);
          const off = offsetSeconds(zone, us / 1000);
          if (format === 'local-frac') {
            assert.match(out.expiry_raw, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.123456[+-]\d{2}:\d{2}$/);
            assert.ok(out.expiry_raw.endsWith(offsetText(off)), `${out.expiry_raw} should carry ${offsetText(off)}`);
          }
          // Go keeps the fraction; the Python SDK cuts it off (whole seconds, same instant).
          const want = name === 'go' ? us / 1e6 : Math.floor(us / 1e6);
          assert.ok(Math.abs(out.expiry_epoch_s - want) < 1e-5, `${format}: ${out.expiry_epoch_s} != ${want}`);
          assert.equal(out.valid, true);
          assert.equal(out.access_token_len, fake.FAKE_ACCESS_TOKEN.length);
          assert.equal(out.token_type, 'Bearer');
        }
      });

      it(`${name} client, TZ=${zone}: a UTC "Z" expiry`, { skip }, async () => {
        const us = futureInstantUs();
        const { out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], {
          TZ: zone, FAKE_DATABRICKS_EXPIRY_US: String(us), FAKE_DATABRICKS_EXPIRY_FORMAT: 'utc-z',
        });
        assert.equal(out.ok, true, out.error);
        const off = offsetSeconds(zone, us / 1000);
        if (name === 'go') {
          assert.ok(Math.abs(out.expiry_epoch_s - us / 1e6) < 1e-5);
          assert.equal(out.valid, true);
        } else {
          // The UTC wall time is taken for local time: off by the zone's offset.
          assert.equal(out.expiry_epoch_s, Math.floor(us / 1e6) - off);
          if (off >= 3600) assert.equal(out.valid, false, 'east of UTC the token looks expired already');
          if (off < 0) assert.equal(out.valid, true, 'west of UTC it looks good for hours after it expires');
        }
      });

      it(`${name} client, TZ=${zone}: an expiry without a fraction`, { skip }, async () => {
        const us = futureInstantUs();
        const { out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], {
          TZ: zone, FAKE_DATABRICKS_EXPIRY_US: String(us), FAKE_DATABRICKS_EXPIRY_FORMAT: 'local-nofrac',
        });
        if (name === 'go') {
          assert.equal(out.ok, true, out.error);
          assert.equal(out.expiry_epoch_s, Math.floor(us / 1e6));
        } else {
          assert.equal(out.ok, false);
          assert.equal(out.not_applicable, false);
          assert.match(out.error, /cannot unmarshal CLI result: unconverted data remains: [+-]\d{2}:\d{2}/);
        }
      });
    }
  }

  it('go client: size check on the named program, after symlinks, with the legacy message', async () => {
    let { out } = await runClient('go', ['--cli-path', smallCli, '--host', HOST], {});
    assert.equal(out.ok, false);
    assert.equal(out.error, 'legacy databricks CLI detected; upgrade to >= 0.100.0');
    assert.equal(out.not_applicable, true);
    ({ out } = await runClient('go', ['--cli-path', path.join(root, 'link-small', 'databricks'), '--host', HOST], {}));
    assert.equal(out.error, 'legacy databricks CLI detected; upgrade to >= 0.100.0');
    ({ out } = await runClient('go', ['--cli-path', path.join(root, 'link-big', 'databricks'), '--host', HOST], {}));
    assert.equal(out.ok, true, out.error);
    // Found on PATH: the small one is passed over for a big one later on PATH.
    ({ out } = await runClient('go', ['--host', HOST], {
      PATH: [path.dirname(smallCli), path.dirname(bigCli), process.env.PATH].join(path.delimiter),
    }));
    assert.equal(out.ok, true, out.error);
    assert.equal(out.cli_path, bigCli);
    ({ out } = await runClient('go', ['--host', HOST], { PATH: path.dirname(smallCli) }));
    assert.equal(out.error, 'legacy databricks CLI detected; upgrade to >= 0.100.0');
  });

  it('py client: size check on PATH look-ups, after symlinks, with the legacy message', { skip: PY_SKIP }, async () => {
    const withPath = (dir) => ({ PATH: [dir, tools].join(path.delimiter) });
    let { out } = await runClient('py', ['--host', HOST], withPath(path.dirname(smallCli)));
    assert.equal(out.ok, false);
    assert.equal(out.error, 'Databricks CLI version <0.100.0 detected');
    assert.equal(out.not_applicable, true);
    ({ out } = await runClient('py', ['--host', HOST], withPath(path.join(root, 'link-small'))));
    assert.equal(out.error, 'Databricks CLI version <0.100.0 detected');
    ({ out } = await runClient('py', ['--host', HOST], withPath(path.join(root, 'link-big'))));
    assert.equal(out.ok, true, out.error);
    assert.equal(out.cli_path, bigCli, 'the SDK runs the resolved path');
    // An unqualified databricks_cli_path is looked up the same way...
    ({ out } = await runClient('py', ['--cli-path', 'databricks', '--host', HOST], withPath(path.dirname(smallCli))));
    assert.equal(out.error, 'Databricks CLI version <0.100.0 detected');
    // ...but a path with a slash is used as given, without the size check.
    ({ out } = await runClient('py', ['--cli-path', smallCli, '--host', HOST], {}));
    assert.equal(out.ok, true, out.error);
  });

  for (const { name, skip } of bothClients) {
    it(`${name} client: version probe and token command line`, { skip }, async () => {
      const probe = name === 'py' ? ['version', '--output', 'json'] : ['version'];
      // A current CLI: --profile, and --force-refresh.
      let { out, calls } = await runClient(name, ['--cli-path', bigCli, '--host', `${HOST}/`, '--profile', 'dev'], {});
      assert.equal(out.ok, true, out.error);
      assert.deepEqual(calls.map((c) => c.argv), [probe, ['auth', 'token', '--profile', 'dev', '--force-refresh']]);
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--profile', 'dev', '--force-refresh']);
      // Between 0.207.1 and 0.296.0: --profile without --force-refresh.
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST, '--profile', 'dev'], { FAKE_DATABRICKS_VERSION: '0.295.9' }));
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--profile', 'dev']);
      // Older, or a version that cannot be read: --host (the host as the SDK normalised it).
      for (const version of ['0.207.0', '']) {
        ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', `${HOST}/`, '--profile', 'dev'], { FAKE_DATABRICKS_VERSION: version }));
        assert.equal(out.ok, true, out.error);
        assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--host', HOST]);
      }
      // Host clean-up differs: Go keeps scheme://host[:port]; Python keeps a path, drops :443.
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', '127.0.0.1:443/some/path/'], {}));
      assert.deepEqual(out.argv.slice(3, 5), ['--host', name === 'go' ? 'https://127.0.0.1:443' : 'https://127.0.0.1/some/path']);
      // Account hosts add --account-id; other hosts never do.
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', 'https://accounts.cloud.databricks.com', '--account-id', 'acc-1'], {}));
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--host', 'https://accounts.cloud.databricks.com', '--account-id', 'acc-1', '--force-refresh']);
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST, '--account-id', 'acc-1'], {}));
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--host', HOST, '--force-refresh']);
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST, '--account-id', 'acc-1', '--account-host'], {}));
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--host', HOST, '--account-id', 'acc-1', '--force-refresh']);
      // The same settings from the environment.
      ({ out } = await runClient(name, [], { DATABRICKS_CLI_PATH: bigCli, DATABRICKS_HOST: HOST, DATABRICKS_CONFIG_PROFILE: 'env-prof' }));
      assert.deepEqual(out.argv, [bigCli, 'auth', 'token', '--profile', 'env-prof', '--force-refresh']);
    });

    it(`${name} client: failures`, { skip }, async () => {
      let { out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], { FAKE_DATABRICKS_MODE: 'not-configured' });
      assert.equal(out.ok, false);
      assert.equal(out.not_applicable, true, 'databricks OAuth is not ... means: try the next auth type');
      assert.match(out.error, /databricks OAuth is not configured for this host/);
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], { FAKE_DATABRICKS_MODE: 'fail' }));
      assert.equal(out.ok, false);
      assert.equal(out.not_applicable, false);
      assert.match(out.error, /cannot get access token: .*a refresh token is invalid/);
      ({ out } = await runClient(name, ['--cli-path', path.join(root, 'missing', 'databricks'), '--host', HOST], {}));
      assert.equal(out.ok, false);
      ({ out } = await runClient(name, ['--cli-path', bigCli, '--host', HOST], { FAKE_DATABRICKS_EXPIRY_FORMAT: 'literal', FAKE_DATABRICKS_EXPIRY: 'soon' }));
      assert.equal(out.ok, false);
      assert.match(out.error, name === 'go' ? /cannot parse token expiry: cannot parse expiry "soon"/ : /cannot unmarshal CLI result/);
    });
  }
});
