// End-to-end tests of `tokenctl git-credential` (the man page "Headless logins and other consumers"):
// the helper run by a real git (`git credential fill|approve|reject`) and on its own: `get` answers
// for the profile whose scheme, host and port match, nothing (exit 0) for any other host, and
// `store` / `erase` change nothing. The server speaks plain http on loopback, as the request
// `protocol=http host=127.0.0.1:PORT` of the brief asks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import {
  cachePath, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { expireNow, login } from './lib/tokens.mjs';

const gitVersion = spawnSync('git', ['--version'], { encoding: 'utf8' });
const GIT = gitVersion.status === 0 ? gitVersion.stdout.match(/(\d+)\.(\d+)/).slice(1).map(Number) : null;
const SKIP = GIT ? false : 'git is not installed';
// git passes password_expiry_utc on from 2.41; older ones drop the line.
const GIT_KNOWS_EXPIRY = GIT && (GIT[0] > 2 || (GIT[0] === 2 && GIT[1] >= 41));

let server;
let env;
let host;                                        // 127.0.0.1:PORT
before(async () => {
  if (SKIP) return;
  server = await startServer({ tls: false });
  host = new URL(server.origin).host;
  env = freshEnv(server, {
    GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_ASKPASS: undefined, SSH_ASKPASS: undefined,
  });
  writeConfig(env, `${profileToml(server, { name: 'dev' })}\n`
    + `${profileToml(server, { name: 'elsewhere', host: 'https://git.example.test' })}`);
  await login(env, 'dev');
});
after(async () => { await server?.stop(); });

const quote = (word) => `'${String(word).replace(/'/g, "'\\''")}'`;

// Run `git credential ACTION` with tokenctl as the only helper (extra args go to tokenctl).
function gitCredential(action, input, tokenctlArgs = []) {
  const helper = `!${[process.env.TOKENCTL_BIN, ...tokenctlArgs, 'git-credential'].map(quote).join(' ')}`;
  return spawnSync('git', ['-c', 'credential.helper=', '-c', `credential.helper=${helper}`, 'credential', action],
    { input, env, encoding: 'utf8', timeout: 30000 });
}

const expiryEpoch = () => String(Date.parse(readCache(env).tokens.dev.expiry) / 1000);

test('git credential fill gets the token of the profile whose host matches', { skip: SKIP }, async () => {
  const { access_token: token } = readCache(env).tokens.dev;
  const r = gitCredential('fill', `protocol=http\nhost=${host}\n\n`);
  assert.equal(r.status, 0, r.stderr);
  const expiry = GIT_KNOWS_EXPIRY ? `password_expiry_utc=${expiryEpoch()}\n` : '';
  assert.equal(r.stdout, `protocol=http\nhost=${host}\nusername=token\npassword=${token}\n${expiry}`);
  assert.equal(r.stderr, '');
});

test('the helper alone answers username, password and password_expiry_utc', { skip: SKIP }, async () => {
  const { access_token: token } = readCache(env).tokens.dev;
  const input = `protocol=http\nhost=${host}\npath=org/repo.git\n\n`;
  const r = await runTokenctl(['git-credential', 'get'], { env, input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `username=token\npassword=${token}\npassword_expiry_utc=${expiryEpoch()}\n`);
  const p = await runTokenctl(['git-credential', 'get', '-p', 'dev'], { env, input: `protocol=http\nhost=${host}\n` });
  assert.equal(p.stdout, r.stdout, '-p with a matching host answers the same');
});

test('a host, port or scheme no profile matches gets nothing; git fails without prompting', { skip: SKIP }, async () => {
  const [hostname, port] = host.split(':');
  const others = [
    'protocol=http\nhost=example.com\n', `protocol=https\nhost=${host}\n`,
    `protocol=http\nhost=${hostname}:${Number(port) === 65535 ? 1 : Number(port) + 1}\n`,
    `protocol=http\nhost=${hostname}\n`,
  ];
  for (const input of others) {
    const r = await runTokenctl(['git-credential', 'get'], { env, input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', `no answer for ${JSON.stringify(input)}`);
    assert.equal(r.stderr, '');
  }
  const git = gitCredential('fill', 'protocol=http\nhost=example.com\n\n');
  assert.notEqual(git.status, 0);
  assert.doesNotMatch(git.stdout, /password=/);
  assert.match(git.stderr, /could not read Username for 'http:\/\/example\.com': terminal prompts disabled/);
  const named = await runTokenctl(['git-credential', 'get', '-p', 'elsewhere'],
    { env, input: `protocol=http\nhost=${host}\n` });
  assert.equal(named.code, 0, named.stderr);
  assert.equal(named.stdout, '');
  assert.match(named.stderr,
    /profile "elsewhere" is for https:\/\/git\.example\.test, not for the host git asks about/);
});

test('git credential approve and reject (store, erase) exit 0 and change nothing', { skip: SKIP }, async () => {
  const before = fs.readFileSync(cachePath(env));
  const mtime = fs.statSync(cachePath(env)).mtimeMs;
  const input = `protocol=http\nhost=${host}\nusername=token\npassword=something-else\n\n`;
  for (const action of ['approve', 'reject']) {
    const r = gitCredential(action, input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
  }
  for (const operation of ['store', 'erase']) {
    const r = await runTokenctl(['git-credential', operation], { env, input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  }
  assert.deepEqual(fs.readFileSync(cachePath(env)), before);
  assert.equal(fs.statSync(cachePath(env)).mtimeMs, mtime);
  const again = gitCredential('fill', `protocol=http\nhost=${host}\n\n`);
  assert.match(again.stdout, new RegExp(`password=${readCache(env).tokens.dev.access_token}\n`));
});

test('get refreshes an expired token first, as `token` does', { skip: SKIP }, async () => {
  const old = expireNow(env).access_token;
  await server.reset();
  const r = gitCredential('fill', `protocol=http\nhost=${host}\n\n`);
  assert.equal(r.status, 0, r.stderr);
  const fresh = readCache(env).tokens.dev.access_token;
  assert.notEqual(fresh, old);
  assert.match(r.stdout, new RegExp(`^password=${fresh}$`, 'm'));
  assert.deepEqual((await server.requests('token')).map((q) => q.params.grant_type), ['refresh_token']);
  const who = await server.whoami(fresh, { basicUser: 'token' });
  assert.equal(who.json().sub, 'alice');
});

test('an unknown operation is a usage error', { skip: SKIP }, async () => {
  const r = await runTokenctl(['git-credential', 'fetch'], { env, input: '' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
});
