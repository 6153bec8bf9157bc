// The command line without a server: usage errors, config errors, list and show from a cache
// written here, damaged and unsafe caches. Asserts exit status, stdout/stderr split and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  freshEnv, writeConfig, configPath, cachePath, runTokenctl,
} from './lib/harness.mjs';

const b64url = (s) => Buffer.from(s).toString('base64url');
const jwt = (claims) => `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
const now = () => Math.floor(Date.now() / 1000);
const iso = (t) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const ACCESS = 'AT-valid-0123456789abcdefghij';
const REFRESH = 'RT-secret-0123456789abcdefghij';
const ID = jwt({ iss: 'https://as.example', sub: 'alice', aud: 'tokenctl', name: 'Alice Example' });

function tokenSet({ access = ACCESS, expiresIn = 3600, refresh = REFRESH, id = ID, refreshExpiresIn = null } = {}) {
  const set = {
    access_token: access, token_type: 'Bearer', issued_at: iso(now() - 60), scopes: ['openid', 'api'],
    client_id: 'tokenctl',
    endpoints: { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/auth',
      token_endpoint: 'https://as.example/token' },
  };
  if (expiresIn !== null) set.expiry = iso(now() + expiresIn);
  if (refresh) set.refresh_token = refresh;
  if (refreshExpiresIn !== null) set.refresh_expiry = iso(now() + refreshExpiresIn);
  if (id) set.id_token = id;
  return set;
}

function writeCache(env, tokens, mode = 0o600) {
  const file = cachePath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify({ version: 1, tokens }), { mode });
  fs.chmodSync(file, mode);
  return file;
}

const CONFIG = `default_profile = "dev"

[profiles.dev]
host = "https://as.example"

[profiles.old]
host = "https://as.example"

[profiles.gone]
host = "https://as.example"

[profiles.new]
host = "https://other.example/realms/x"
`;

function setup() {
  const env = freshEnv(null);
  writeConfig(env, CONFIG);
  writeCache(env, {
    dev: tokenSet(),
    old: tokenSet({ access: 'AT-expired-0123456789abcdef', expiresIn: -600 }),
    gone: tokenSet({ access: 'AT-gone-0123456789abcdef', expiresIn: -600, refresh: '' }),
  });
  return env;
}

test('usage errors exit 2 with a message on stderr and nothing on stdout', async () => {
  const env = setup();
  for (const args of [['list', '--nope'], ['-o', 'xml', 'list'], ['bogus'], [],
    ['token', '--min-ttl', 'soon'], ['login', '--port', '70000'], ['login', '--timeout', 'x']]) {
    const r = await runTokenctl(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.match(r.stderr, /^tokenctl: error: /, args.join(' '));
  }
});

test('--version and --help for every command go to stdout and exit 0', async () => {
  const env = setup();
  const v = await runTokenctl(['--version'], { env });
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^tokenctl \d+\.\d+\.\d+\n$/);
  for (const cmd of ['login', 'token', 'refresh', 'list', 'show']) {
    const r = await runTokenctl([cmd, '--help'], { env });
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: tokenctl ${cmd}`), cmd);
    assert.equal(r.stderr, '', cmd);
  }
});

test('list: one row per profile with its status; never a token', async () => {
  const env = setup();
  const r = await runTokenctl(['list'], { env });
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.split(/\s+/));
  assert.deepEqual(rows[0], ['PROFILE', 'HOST', 'STATUS', 'TIME', 'LEFT', 'LOGIN', 'NEEDED']);
  assert.deepEqual(rows.slice(1).map((c) => [c[0], c[2]]),
    [['dev', 'valid'], ['old', 'refreshable'], ['gone', 'expired'], ['new', 'logged-out']]);
  for (const secret of [ACCESS, REFRESH, 'AT-expired', 'AT-gone']) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), secret);
  }
});

test('list -o json: name, host, status, expiry, expires_in, storage', async () => {
  const env = setup();
  const r = await runTokenctl(['list', '-o', 'json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.deepEqual(rows.map((x) => x.name), ['dev', 'old', 'gone', 'new']);
  assert.deepEqual(Object.keys(rows[0]).sort(),
    ['expires_in', 'expiry', 'host', 'name', 'refresh_expiry', 'source', 'status', 'storage', 'variants']);
  assert.equal(rows[0].storage, 'file');
  assert.equal(rows[0].refresh_expiry, null, 'the server did not say how long the refresh token lives');
  assert.equal(rows[0].source, 'config');
  assert.ok(rows[0].expires_in > 3500 && rows[0].expires_in <= 3600);
  assert.match(rows[0].expiry, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(rows[3].status, 'logged-out');
  assert.equal(rows[3].expiry, null);
  assert.equal(rows[3].expires_in, null);
});

test('refresh tokens that expire: list shows when a login is needed, warns within 7 days; show says it', async () => {
  const env = setup();
  writeCache(env, {
    dev: tokenSet({ refreshExpiresIn: 3 * 86400 + 3600 }),
    old: tokenSet({ refreshExpiresIn: 300 * 86400 }),
    gone: tokenSet({ expiresIn: -600, refreshExpiresIn: -60 }),
  });
  const json = JSON.parse((await runTokenctl(['list', '-o', 'json'], { env })).stdout);
  const byName = Object.fromEntries(json.map((x) => [x.name, x]));
  assert.match(byName.dev.refresh_expiry, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Math.abs(Date.parse(byName.dev.refresh_expiry) - (Date.now() + (3 * 86400 + 3600) * 1000)) < 5000);
  assert.equal(byName.gone.status, 'expired', 'a refresh token past its expiry cannot refresh');
  assert.equal(byName.new.refresh_expiry, null);

  const r = await runTokenctl(['list'], { env });
  assert.equal(r.code, 0, r.stderr);
  const line = (name) => r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
  assert.match(line('dev'), /in 3d 1h$|in 3d$/);
  assert.match(line('old'), /in (299d 23h|300d)$/);
  assert.match(line('gone'), /now \(expired\)$/);
  assert.match(line('new'), / -$/);
  assert.match(r.stderr, /^tokenctl: warning: profile "dev": the refresh token expires in 3d.* log in again before then: tokenctl login -p dev$/m);
  assert.match(r.stderr, /^tokenctl: warning: profile "gone": the refresh token expired at .*: tokenctl login -p gone$/m);
  assert.doesNotMatch(r.stderr, /profile "old"/, 'no warning months ahead');

  const show = await runTokenctl(['show', '-p', 'dev'], { env });
  assert.match(show.stdout, /^refresh token expiry:\s+\d{4}-\d\d-\d\dT\S+Z \(in 3d/m);
  assert.match(JSON.parse((await runTokenctl(['show', '-p', 'dev', '-o', 'json'], { env })).stdout).refresh_expiry, /Z$/);
});

test('global options are accepted before and after the command', async () => {
  const env = setup();
  const before = await runTokenctl(['-p', 'old', '-o', 'json', 'show'], { env });
  const after = await runTokenctl(['show', '-p', 'old', '-o', 'json'], { env });
  assert.equal(before.code, 0, before.stderr);
  const a = JSON.parse(before.stdout);
  const b = JSON.parse(after.stdout);
  delete a.expires_in; delete b.expires_in;
  assert.deepEqual(a, b);
  assert.equal(a.name, 'old');
});

test('show: details, tokens redacted, claims decoded and labelled as not verified', async () => {
  const env = setup();
  const r = await runTokenctl(['show'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^profile:\s+dev$/m);
  assert.match(r.stdout, /^token endpoint:\s+https:\/\/as\.example\/token$/m);
  assert.match(r.stdout, /^scopes granted:\s+openid api$/m);
  assert.match(r.stdout, /^refresh token held:\s+yes$/m);
  assert.match(r.stdout, /^access token:\s+AT-v\.\.\.ghij$/m);
  assert.match(r.stdout, /id token claims \(decoded, NOT verified\)/);
  assert.match(r.stdout, /name: "Alice Example"/);
  assert.match(r.stdout, /access token claims \(decoded, NOT verified\): not a JWT/);
  for (const secret of [ACCESS, REFRESH, ID]) assert.ok(!r.stdout.includes(secret));
});

test('show --reveal and -o json', async () => {
  const env = setup();
  const revealed = await runTokenctl(['show', '--reveal'], { env });
  assert.ok(revealed.stdout.includes(ACCESS) && revealed.stdout.includes(REFRESH));
  const j = JSON.parse((await runTokenctl(['show', '-o', 'json'], { env })).stdout);
  assert.equal(j.status, 'valid');
  assert.equal(j.refresh_token_held, true);
  assert.equal(j.access_token, 'AT-v...ghij');
  assert.equal(j.id_token_claims.sub, 'alice');
  assert.equal(j.access_token_claims, null);
  assert.equal(j.claims_verified, false);
  assert.deepEqual(j.scopes_granted, ['openid', 'api']);
});

test('a malformed JWT shows as "not a JWT", never an error', async () => {
  const env = setup();
  writeCache(env, { dev: tokenSet({ id: 'eyJhbGciOi.%%%.x' }) });
  const r = await runTokenctl(['show'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /id token claims \(decoded, NOT verified\): not a JWT/);
});

test('config errors exit 5 with FILE:LINE naming the key', async () => {
  const env = freshEnv(null);
  const file = writeConfig(env, '[profiles.dev]\nhost = "https://as.example"\nclinet_id = "x"\n');
  let r = await runTokenctl(['list'], { env });
  assert.equal(r.code, 5);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `tokenctl: error: ${file}:3: unknown key "clinet_id" in profile "dev"\n`);
  writeConfig(env, '[profiles.dev]\nhost = "https://as.example"\nredirect_port = "x"\n');
  r = await runTokenctl(['list'], { env });
  assert.equal(r.code, 5);
  assert.match(r.stderr, new RegExp(`${file}:3: .*redirect_port`));
  writeConfig(env, '[profiles.dev\nhost = 1\n');
  r = await runTokenctl(['list'], { env });
  assert.equal(r.code, 5);
  assert.match(r.stderr, new RegExp(`${file}:1: invalid TOML`));
});

test('unknown profile, missing explicit config, TOKENCTL_* overrides', async () => {
  const env = setup();
  let r = await runTokenctl(['show', '-p', 'nope'], { env });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /no profile "nope"/);
  r = await runTokenctl(['list', '--config', path.join(env.HOME, 'missing.toml')], { env });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /missing\.toml/);
  r = await runTokenctl(['show', '-o', 'json'], { env: { ...env, TOKENCTL_PROFILE: 'old' } });
  assert.equal(JSON.parse(r.stdout).name, 'old');
  const moved = path.join(env.HOME, 'elsewhere.toml');
  fs.copyFileSync(configPath(env), moved);
  fs.rmSync(configPath(env));
  r = await runTokenctl(['list', '-o', 'json'], { env: { ...env, TOKENCTL_CONFIG: moved,
    TOKENCTL_TOKEN_CACHE: cachePath(env) } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout)[0].status, 'valid');
});

test('token: a valid cached token is printed alone; no token set is exit 3 with the login command', async () => {
  const env = setup();
  let r = await runTokenctl(['token'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${ACCESS}\n`);
  assert.equal(r.stderr, '');
  r = await runTokenctl(['token', '--header'], { env });
  assert.equal(r.stdout, `Authorization: Bearer ${ACCESS}\n`);
  r = await runTokenctl(['token', '-o', 'json'], { env });
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['access_token', 'expires_in', 'expiry', 'token_type']);
  assert.equal(j.token_type, 'Bearer');
  r = await runTokenctl(['token', '-p', 'new'], { env });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /tokenctl login -p new/);
  r = await runTokenctl(['token', '-p', 'gone'], { env });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /tokenctl login -p gone/);
});

test('token with only a profile named (read without CLI11) answers as the same line read by CLI11', async () => {
  // `token`, `token -p P`, `-p P token`, `token --profile P`, `token --profile=P` skip CLI11 (the
  // hot path); `--config FILE` with the same file sends the same request through CLI11.
  const env = setup();
  const config = configPath(env);
  for (const profile of [null, 'dev', 'new', 'gone', 'nope']) {
    const forms = profile === null ? [['token']]
      : [['token', '-p', profile], ['-p', profile, 'token'], ['token', '--profile', profile], ['token', `--profile=${profile}`],
        ['--profile', profile, 'token']];
    for (const args of forms) {
      const fast = await runTokenctl(args, { env });
      const parsed = await runTokenctl(['--config', config, ...args], { env });
      assert.deepEqual([fast.code, fast.stdout, fast.stderr], [parsed.code, parsed.stdout, parsed.stderr], args.join(' '));
    }
  }
  const dev = await runTokenctl(['-p', 'dev', 'token'], { env });
  assert.deepEqual([dev.code, dev.stdout, dev.stderr], [0, `${ACCESS}\n`, '']);
  const unknown = await runTokenctl(['token', '--profile=nope'], { env });
  assert.equal(unknown.code, 5, unknown.stderr);
  assert.match(unknown.stderr, /"nope"/);
  // Lines that only look like it go to CLI11 and get its usage errors.
  for (const args of [['token', '-p'], ['token', 'token'], ['token', '--profile='], ['token', '-p', '-q', 'x']]) {
    const r = await runTokenctl(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^tokenctl: error: /);
  }
});

test('damaged caches: exit 1, the file named, its bytes never quoted', async () => {
  const env = setup();
  const marker = 'LEAKED-MARKER-42';
  const cases = {
    empty: '',
    truncated: `{"version":1,"tokens":{"dev":{"access_token":"${marker}`,
    garbage: `${marker} not json at all`,
    types: `{"version":1,"tokens":{"dev":{"access_token":["${marker}"]}}}`,
    version: `{"version":99,"tokens":{"${marker}":{}}}`,
    nesting: `${'['.repeat(100000)}"${marker}"${']'.repeat(100000)}`,
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const file = cachePath(env);
    fs.writeFileSync(file, bytes, { mode: 0o600 });
    for (const cmd of [['list'], ['token'], ['show']]) {
      const r = await runTokenctl(cmd, { env });
      assert.equal(r.code, 1, `${name} ${cmd}: ${r.stderr}`);
      assert.equal(r.stdout, '', `${name} ${cmd}`);
      assert.ok(r.stderr.includes(file), `${name}: ${r.stderr}`);
      assert.ok(!r.stderr.includes(marker), `${name} leaks: ${r.stderr}`);
      assert.match(r.stderr, /tokenctl login|delete/, name);
    }
  }
  fs.writeFileSync(cachePath(env), Buffer.alloc(50 * 1024 * 1024, 0x20));
  const big = await runTokenctl(['list'], { env });
  assert.equal(big.code, 1);
  assert.match(big.stderr, /too large/);
});

test('an unsafe cache is refused: group-readable, or a symbolic link', async () => {
  const env = setup();
  const file = cachePath(env);
  fs.chmodSync(file, 0o644);
  let r = await runTokenctl(['token'], { env });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /chmod 600/);
  fs.chmodSync(file, 0o600);
  const real = path.join(env.HOME, 'real-cache.json');
  fs.renameSync(file, real);
  fs.symlinkSync(real, file);
  r = await runTokenctl(['token'], { env });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /symbolic link/);
});
