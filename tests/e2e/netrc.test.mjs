// End-to-end tests of `tokenctl netrc` (the man page `netrc`):
// the printed line, --write into new and existing files (every byte we do not own kept), --all,
// a symlinked ~/.netrc, the login name, and real consumers of the file: curl and Python's netrc.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  fileMode, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { assertFailed, expireNow, login, patchCache } from './lib/tokens.mjs';

const NO_CURL = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0 ? false
  : 'the curl command is not installed';
const TIGHTENED = (file) => `Tightened the permissions of ${file} from 0644 to 0600.`;

let server;
let other;                                       // a second server, on host "localhost"
before(async () => {
  [server, other] = await Promise.all([startServer(), startServer({ hostname: 'localhost' })]);
});
after(async () => { await Promise.all([server?.stop(), other?.stop()]); });

// A fresh environment with the profiles `names` (all on `server`) logged in.
async function loggedIn(names = ['dev'], extra = '') {
  const env = freshEnv(server);
  writeConfig(env, names.map((name) => profileToml(server, { name, extra })).join('\n'));
  for (const name of names) await login(env, name);
  return env;
}

function entry(machine, token, login = 'token', eol = '\n') {
  return `machine ${machine}${eol}  login ${login}${eol}  password ${token}${eol}`;
}

// Write `text` as a user's file of mode `mode` in the HOME of `env`; returns its path.
function userFile(env, name, text, mode = 0o644) {
  const file = path.join(env.HOME, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

function pythonWithNetrc() {
  const r = spawnSync('python3', ['-c', 'import netrc, sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

test('netrc prints one exact line on stdout, nothing else', async () => {
  const env = await loggedIn();
  const { access_token: token } = readCache(env).tokens.dev;
  const r = await runTokenctl(['netrc', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `machine 127.0.0.1 login token password ${token}\n`);
  assert.equal(r.stderr, '');
  assert.equal(fs.existsSync(path.join(env.HOME, '.netrc')), false, 'printing writes no file');
});

test('netrc refreshes an expired token first and prints the new one', async () => {
  const env = await loggedIn();
  const old = expireNow(env);
  await server.reset();
  const r = await runTokenctl(['netrc', '-p', 'dev'], { env });
  assert.equal(r.code, 0, r.stderr);
  const fresh = readCache(env).tokens.dev.access_token;
  assert.notEqual(fresh, old.access_token);
  assert.equal(r.stdout, `machine 127.0.0.1 login token password ${fresh}\n`);
  const grants = (await server.requests('token')).map((q) => q.params.grant_type);
  assert.deepEqual(grants, ['refresh_token']);
  assert.equal((await server.whoami(fresh, { basicUser: 'token' })).status, 200);
});

test('--write creates the file 0600 with exactly our entry', async () => {
  const env = await loggedIn();
  const { access_token: token } = readCache(env).tokens.dev;
  const file = path.join(env.HOME, 'tokens.netrc');
  const r = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `Wrote 1 entry to ${file}: 1 added.\n`);
  assert.equal(fs.readFileSync(file, 'utf8'), entry('127.0.0.1', token));
  assert.equal(fileMode(file).toString(8), '600');
  const left = fs.readdirSync(env.HOME).filter((n) => n.includes('tokens.netrc') && n !== 'tokens.netrc');
  assert.deepEqual(left.filter((n) => n !== 'tokens.netrc.lock'), [], 'no temporary file left');
});

test('--write replaces our machine in place in a 0644 file and keeps every other byte', async () => {
  const env = await loggedIn();
  const { access_token: token } = readCache(env).tokens.dev;
  const head = '# personal netrc\nmachine example.com\n  login bob\n  password hunter2\n\n';
  const ours = 'machine 127.0.0.1 login someone password stale-token\n';
  const tail = '\nmacdef init\ncd /pub\nbinary\n\n# the fallback\ndefault login anonymous password me@example.com\n';
  const file = userFile(env, '.netrc', head + ours + tail);
  const r = await runTokenctl(['netrc', '--write'], { env: { ...env, TOKENCTL_PROFILE: 'dev' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `${TIGHTENED(file)}\nWrote 1 entry to ${file}: 1 replaced.\n`);
  assert.equal(fs.readFileSync(file, 'utf8'), head + entry('127.0.0.1', token) + tail);
  assert.equal(fileMode(file).toString(8), '600');
  // Again with the same token: nothing changes, and nothing is said about permissions.
  const again = await runTokenctl(['netrc', '--write', '-p', 'dev'], { env });
  assert.equal(again.stderr, `Wrote 1 entry to ${file}: 1 replaced.\n`);
  assert.equal(fs.readFileSync(file, 'utf8'), head + entry('127.0.0.1', token) + tail);
});

test('--write into a CRLF file without a final newline adds our entry before `default`', async () => {
  const env = await loggedIn();
  const { access_token: token } = readCache(env).tokens.dev;
  const head = 'machine example.com\r\n  login bob\r\n  password hunter2\r\n\r\n'
    + 'macdef upload\r\nput file\r\n\r\n';
  const tail = '# anonymous ftp\r\ndefault login anonymous password guest';
  const file = userFile(env, 'crlf.netrc', head + tail);
  const r = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(file, 'utf8'), head + entry('127.0.0.1', token, 'token', '\r\n') + tail);
  assert.match(r.stderr, /1 added\.\n$/);
});

test('--all writes one entry per profile and host; NETRC names the file', async () => {
  // The BROWSER stand-in signs in at both servers: it must trust both test CAs.
  const env = freshEnv(server);
  env.NODE_EXTRA_CA_CERTS = userFile(env, 'two-cas.pem',
    fs.readFileSync(server.ca, 'utf8') + fs.readFileSync(other.ca, 'utf8'));
  writeConfig(env, `${profileToml(server, { name: 'one' })}\n${profileToml(other, { name: 'two' })}\n`
    + `${profileToml(server, { name: 'never' })}`);
  await login(env, 'one');
  await login(env, 'two');
  const tokens = readCache(env).tokens;
  const file = userFile(env, 'all.netrc', 'machine example.com login bob password hunter2\n', 0o600);
  const r = await runTokenctl(['netrc', '--all', '--write'], { env: { ...env, NETRC: file } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `Wrote 2 entries to ${file}: 2 added.\n`, 'no permission message for a 0600 file');
  assert.equal(fs.readFileSync(file, 'utf8'), 'machine example.com login bob password hunter2\n\n'
    + `${entry('127.0.0.1', tokens.one.access_token)}\n${entry('localhost', tokens.two.access_token)}`);
  const printed = await runTokenctl(['netrc', '--all'], { env });
  assert.equal(printed.stdout, `machine 127.0.0.1 login token password ${tokens.one.access_token}\n`
    + `machine localhost login token password ${tokens.two.access_token}\n`);
});

test('a symlinked ~/.netrc is updated at its target and stays a link', async () => {
  const env = await loggedIn();
  const { access_token: token } = readCache(env).tokens.dev;
  fs.mkdirSync(path.join(env.HOME, 'dotfiles'));
  const target = userFile(env, 'dotfiles/netrc', 'machine example.com login bob password hunter2\n');
  const link = path.join(env.HOME, '.netrc');
  fs.symlinkSync('dotfiles/netrc', link);
  const r = await runTokenctl(['netrc', '-p', 'dev', '--write'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `${TIGHTENED(target)}\nWrote 1 entry to ${target} (the target of ${link}): 1 added.\n`);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is kept');
  assert.equal(fs.readlinkSync(link), 'dotfiles/netrc');
  assert.equal(fs.readFileSync(target, 'utf8'),
    `machine example.com login bob password hunter2\n\n${entry('127.0.0.1', token)}`);
  assert.equal(fileMode(target).toString(8), '600');
});

test('the login is netrc_login from the profile, and --login overrides it', async () => {
  const env = await loggedIn(['dev'], 'netrc_login = "x-access-token"');
  const { access_token: token } = readCache(env).tokens.dev;
  const r = await runTokenctl(['netrc', '-p', 'dev'], { env });
  assert.equal(r.stdout, `machine 127.0.0.1 login x-access-token password ${token}\n`);
  const o = await runTokenctl(['netrc', '-p', 'dev', '--login', 'oauth2'], { env });
  assert.equal(o.stdout, `machine 127.0.0.1 login oauth2 password ${token}\n`);
  const file = path.join(env.HOME, 'login.netrc');
  await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
  assert.equal(fs.readFileSync(file, 'utf8'), entry('127.0.0.1', token, 'x-access-token'));
});

describe('real consumers of the written file', () => {
  test('curl --netrc-file authenticates at /api/whoami as alice, as Basic user `token`', { skip: NO_CURL }, async () => {
    const env = await loggedIn();
    const file = path.join(env.HOME, 'curl.netrc');
    const w = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
    assert.equal(w.code, 0, w.stderr);
    const curl = spawnSync('curl', ['-sS', '--fail', '--netrc-file', file, '--cacert', server.ca,
      `${server.origin}/api/whoami`], { encoding: 'utf8', env, timeout: 20000 });
    assert.equal(curl.status, 0, curl.stderr);
    const who = JSON.parse(curl.stdout);
    assert.equal(who.sub, 'alice');
    assert.equal(who.auth, 'basic');
    assert.equal(who.basic_user, 'token');
  });

  test("Python's netrc module reads ~/.netrc (with its permission check) and finds the token", async (t) => {
    const python = pythonWithNetrc();
    if (!python) {
      t.skip('python3 with its netrc module is not installed');
      return;
    }
    const env = await loggedIn();
    const { access_token: token } = readCache(env).tokens.dev;
    userFile(env, '.netrc',
      'machine example.com\n  login bob\n  password hunter2\n\ndefault login anonymous password x\n');
    const w = await runTokenctl(['netrc', '-p', 'dev', '--write'], { env });
    assert.equal(w.code, 0, w.stderr);
    const script = 'import netrc; n = netrc.netrc(); print(n.authenticators("127.0.0.1")[0]); '
      + 'print(n.authenticators("127.0.0.1")[2]); print(n.authenticators("example.com")[2])';
    const py = spawnSync(python, ['-c', script], { encoding: 'utf8', env, timeout: 20000 });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout, `token\n${token}\nhunter2\n`);
  });

  test('after a merge into awkward layouts, curl and Python both read our entry and the others', async () => {
    const env = await loggedIn();
    const python = pythonWithNetrc();
    const layouts = {
      'ours after default': 'machine a.example login x password y\ndefault login anon password z\n'
        + 'machine 127.0.0.1 login t password old\n',
      'unterminated macdef': 'machine a.example login x password y\nmacdef init\ncd /\nls',
      'one line': 'machine a.example login x password y machine 127.0.0.1 login t password old '
        + 'machine b.example login q password r\n',
      duplicates: 'machine 127.0.0.1 login t password old\n\nmachine a.example login x password y\n\n'
        + 'machine 127.0.0.1 login t2 password old2\n',
      'comment above default': 'machine a.example login q password r\n# fallback\ndefault login anon password z\n',
    };
    for (const [name, text] of Object.entries(layouts)) {
      const file = userFile(env, `${name.replace(/ /g, '-')}.netrc`, text, 0o600);
      const w = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
      assert.equal(w.code, 0, `${name}: ${w.stderr}`);
      if (!NO_CURL) {
        const curl = spawnSync('curl', ['-sS', '--fail', '--netrc-file', file, '--cacert', server.ca,
          `${server.origin}/api/whoami`], { encoding: 'utf8', timeout: 20000 });
        assert.equal(curl.status, 0, `${name}: curl: ${curl.stderr}`);
        assert.equal(JSON.parse(curl.stdout).basic_user, 'token', name);
      }
      if (!python) continue;
      const script = 'import netrc, sys; n = netrc.netrc(sys.argv[1]); '
        + 'print(n.authenticators("127.0.0.1")[2] == sys.argv[2], n.authenticators("a.example")[2])';
      const py = spawnSync(python, ['-c', script, file, readCache(env).tokens.dev.access_token], { encoding: 'utf8' });
      const other = name === 'comment above default' ? 'r' : 'y';
      assert.equal(py.stdout, `True ${other}\n`, `${name}: python: ${py.stderr}`);
    }
    assert.match(fs.readFileSync(path.join(env.HOME, 'ours-after-default.netrc'), 'utf8'),
      new RegExp('^machine a\\.example login x password y\n\nmachine 127\\.0\\.0\\.1\n  login token\n'
        + '  password \\S+\n\ndefault login anon password z\n$'));
  });
});

describe('token size limits', () => {
  test('a token over 4,096 bytes is refused: exit 1, no file, no token printed', async () => {
    const env = await loggedIn();
    const huge = 'A'.repeat(4097);
    patchCache(env, (c) => { c.tokens.dev.access_token = huge; });
    const file = path.join(env.HOME, 'huge.netrc');
    for (const args of [['netrc', '-p', 'dev'], ['netrc', '-p', 'dev', '--write', '--file', file]]) {
      const r = await runTokenctl(args, { env });
      assertFailed(r, 1);
      assert.match(r.stderr, /is 4097 bytes: curl 8\.11\.1 and later refuse netrc tokens over 4096 bytes/);
      assert.equal(r.stderr.includes(huge), false);
    }
    assert.equal(fs.existsSync(file), false);
  });

  test('a token of exactly 4,096 bytes is written, with a warning about the line length', async () => {
    const env = await loggedIn();
    const big = 'B'.repeat(4096);
    patchCache(env, (c) => { c.tokens.dev.access_token = big; });
    const file = path.join(env.HOME, 'big.netrc');
    const r = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr,
      /the netrc password line for 127\.0\.0\.1 is 4107 bytes: curl 7\.84 to 8\.10 silently ignores/);
    assert.equal(fs.readFileSync(file, 'utf8'), entry('127.0.0.1', big));
    const printed = await runTokenctl(['netrc', '-p', 'dev'], { env });
    assert.equal(printed.stdout, `machine 127.0.0.1 login token password ${big}\n`);
    assert.match(printed.stderr, /password line for 127\.0\.0\.1 is \d+ bytes/);
  });

  test('a token with characters a netrc cannot carry unquoted is refused', async () => {
    const env = await loggedIn();
    patchCache(env, (c) => { c.tokens.dev.access_token = 'abc#def'; });
    const r = await runTokenctl(['netrc', '-p', 'dev'], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, /cannot carry unquoted/);
  });
});

describe('files tokenctl refuses to rewrite: exit 1, the file unchanged', () => {
  const refused = async (env, file, pattern) => {
    const before = fs.existsSync(file) ? fs.readFileSync(file) : null;
    const r = await runTokenctl(['netrc', '-p', 'dev', '--write', '--file', file], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, pattern);
    if (before) assert.deepEqual(fs.readFileSync(file), before);
    return r;
  };

  test('a hard-linked file, a dangling symlink, a file curl and Python would read differently', async () => {
    const env = await loggedIn();
    const linked = userFile(env, 'linked.netrc', 'machine a.example login x password y\n', 0o600);
    fs.linkSync(linked, path.join(env.HOME, 'second-name'));
    await refused(env, linked, /has 2 hard links; replacing it would break them/);
    const dangling = path.join(env.HOME, 'dangling.netrc');
    fs.symlinkSync('does-not-exist', dangling);
    await refused(env, dangling, /is a symbolic link to a file that does not exist; refusing to write through it/);
    assert.equal(fs.existsSync(path.join(env.HOME, 'does-not-exist')), false);
    const odd = userFile(env, 'odd.netrc', 'machine a.example login x password "unterminated\n', 0o600);
    await refused(env, odd, /cannot update the netrc file: line 1: unterminated quoted string/);
  });

  test("a file owned by another user (run as root only)", async (t) => {
    if (process.getuid() !== 0) {
      t.skip('needs root to give a file to another user');
      return;
    }
    const env = await loggedIn();
    const file = userFile(env, 'theirs.netrc', 'machine a.example login x password y\n', 0o600);
    fs.chownSync(file, 65534, 65534);
    await refused(env, file, /is owned by uid 65534, not by you; refusing to write it/);
  });
});
