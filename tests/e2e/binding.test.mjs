// What a profile binds, and what is checked before the first request, against hostile servers
// (lib/hostile-server.mjs):
// - a relative ca_file is relative to the config file's folder, never to the working
//   folder (the man page "Files"); a ca_file that is a FIFO fails at once instead of hanging;
// - bad --scopes or --client-id (exit 2), an unset client_secret_env (exit 5) and a
//   config file that cannot take the new profile (exit 5) fail before any request and before the
//   browser, so that no login ends with tokens nobody can use;
// - a token set belongs to the issuer and client it was obtained from (the man page "Files"):
//   once the profile names another host or client id, token, netrc and git-credential treat it as
//   logged out (exit 3) and send it nowhere, list shows logged-out, revoke forgets it silently;
// - a bad `login --host` is a usage error before any network use; a discovery document
//   with a plain-http endpoint on a non-loopback host is the server's fault (exit 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  cachePath, configPath, freshEnv, profileToml, readCache, runTokenctl, writeConfig,
} from './lib/harness.mjs';
import { startHostileServer } from './lib/hostile-server.mjs';
import { createTestPki } from './lib/tls.mjs';
import { assertFailed, expireNow, login, printedLine } from './lib/tokens.mjs';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/;

// A config, its cache, the browser: what a refused login must leave as it found them.
function assertNothingStarted(env, server) {
  assert.deepEqual(server.requests().map((e) => `${e.method} ${e.path}`), [], 'a request reached the server');
  assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false, 'the browser was started');
  assert.equal(fs.existsSync(cachePath(env)) && readCache(env).tokens?.dev !== undefined, false, 'a token set was cached');
}

describe('a relative ca_file is found beside the config, never in the working folder', () => {
  let hs;
  let attackerDir;
  before(async () => {
    hs = await startHostileServer({ tls: true });
    attackerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-attacker-ca-'));
    createTestPki(attackerDir);
  });
  after(async () => {
    await hs?.stop();
    if (attackerDir) fs.rmSync(attackerDir, { recursive: true, force: true });
  });

  // A fresh env whose profile dev says ca_file = "NAME", and a working folder in its home.
  function relativeCaEnv(name = 'ca.pem') {
    const env = freshEnv(hs);
    writeConfig(env, profileToml(hs, { caFile: false, extra: `ca_file = ${JSON.stringify(name)}` }));
    const work = path.join(env.HOME, 'work');
    fs.mkdirSync(work);
    return { env, work, configDir: path.dirname(configPath(env)) };
  }
  const attackerCa = () => path.join(attackerDir, 'ca.pem');

  test('the config\'s ca.pem is used although the working folder holds another CA\'s ca.pem', async () => {
    hs.reset();
    const { env, work, configDir } = relativeCaEnv();
    fs.copyFileSync(hs.ca, path.join(configDir, 'ca.pem'));
    fs.copyFileSync(attackerCa(), path.join(work, 'ca.pem'));
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env, cwd: work });
    assert.equal(r.code, 0, r.stderr);
    const f = await runTokenctl(['refresh', '-p', 'dev'], { env, cwd: work });
    assert.equal(f.code, 0, f.stderr);
    assert.equal(printedLine(await runTokenctl(['token', '-p', 'dev'], { env, cwd: work })),
      readCache(env).tokens.dev.access_token);
    assert.deepEqual(hs.requests('token').map((e) => `${e.params.grant_type} ${e.status}`),
      ['authorization_code 200', 'refresh_token 200'], 'both over TLS verified with the config\'s CA');
  });

  test('no ca.pem beside the config, the right CA\'s ca.pem in the working folder: refused, naming '
    + 'the file beside the config (exit 5), no request', async () => {
    hs.reset();
    const { env, work, configDir } = relativeCaEnv();
    fs.copyFileSync(hs.ca, path.join(work, 'ca.pem'));
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env, cwd: work });
    assertFailed(r, 5);
    assert.match(r.stderr, new RegExp(`cannot read the CA file ${escape(path.join(configDir, 'ca.pem'))}: No such file`));
    assert.equal(r.stderr.includes(work), false, 'the working folder\'s file was looked at');
    assertNothingStarted(env, hs);
  });

  test('another CA\'s ca.pem beside the config, the right CA\'s in the working folder: TLS failure, exit 4', async () => {
    hs.reset();
    const { env, work, configDir } = relativeCaEnv();
    fs.copyFileSync(attackerCa(), path.join(configDir, 'ca.pem'));
    fs.copyFileSync(hs.ca, path.join(work, 'ca.pem'));
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env, cwd: work });
    assertFailed(r, 4);
    assertNothingStarted(env, hs);
  });

  test('a ca_file that is a FIFO fails at once (exit 5, naming it), no hang', async () => {
    hs.reset();
    const { env, work, configDir } = relativeCaEnv('ca-fifo.pem');
    const fifo = path.join(configDir, 'ca-fifo.pem');
    const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
    const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'], { env, cwd: work, timeoutMs: 15000 });
    assert.equal(r.timedOut, false, 'tokenctl hung on the FIFO');
    assertFailed(r, 5);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(r.stderr.includes(fifo), `the FIFO is named:\n${r.stderr}`);
    assertNothingStarted(env, hs);
  });
});

describe('with two servers on plain http (loopback)', () => {
  let hsA;
  let hsB;
  before(async () => {
    [hsA, hsB] = await Promise.all([startHostileServer({ tls: false }), startHostileServer({ tls: false })]);
  });
  after(async () => { await Promise.all([hsA?.stop(), hsB?.stop()]); });

  describe('checks before the first request and before the browser', () => {
    function devEnv(extra) {
      hsA.reset();
      const env = freshEnv(hsA);
      writeConfig(env, profileToml(hsA, { extra }));
      return env;
    }

    test('login --scopes with a quote: exit 2, no request, no browser', async () => {
      const env = devEnv();
      const r = await runTokenctl(['login', '-p', 'dev', '--scopes', 'openid bad"scope', '--timeout', '5s'], { env });
      assertFailed(r, 2);
      assert.match(r.stderr, /^tokenctl: error: --scopes: "bad"scope" is not a scope$/m);
      assertNothingStarted(env, hsA);
    });

    for (const [what, id] of [['SOH (U+0001)', 'tok\x01enctl'], ['ESC [ 2 J', 'tokenctl\x1b[2J']]) {
      test(`login --client-id with ${what}: exit 2, no request, no browser, no control character echoed`, async () => {
        const env = devEnv();
        const r = await runTokenctl(['login', '-p', 'dev', '--client-id', id, '--timeout', '5s'], { env });
        assertFailed(r, 2);
        assert.equal(r.stderr, 'tokenctl: error: --client-id: not a client id\n');
        assert.doesNotMatch(r.stderr, CONTROL);
        assertNothingStarted(env, hsA);
      });
    }

    test('a confidential profile whose client_secret_env is unset: exit 5, no request, no browser', async () => {
      const extra = 'client_secret_env = "DEV_CLIENT_SECRET"';
      const env = freshEnv(hsA);
      writeConfig(env, profileToml(hsA, { clientId: 'ci-runner', extra }));
      hsA.reset();
      const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '5s'], { env });
      assertFailed(r, 5);
      assert.match(r.stderr, /^tokenctl: error: profile "dev" takes its client secret from the environment variable DEV_CLIENT_SECRET, which is not set$/m);
      assertNothingStarted(env, hsA);
      const control = await runTokenctl(['login', '-p', 'dev', '--timeout', '15s'],
        { env: { ...env, DEV_CLIENT_SECRET: hsA.ciSecret } });
      assert.equal(control.code, 0, `control: with the secret set the login works:\n${control.stderr}`);
      assert.equal(hsA.requests('token')[0].authorization?.password, hsA.ciSecret);
    });

    test('login -p new --host into a config that cannot take the profile: exit 5, no request, nothing cached', async () => {
      hsA.reset();
      const env = freshEnv(hsA);
      const file = writeConfig(env, 'profiles = { x = { host = "https://a.example.test" } }\n');
      const before = fs.readFileSync(file);
      const r = await runTokenctl(['login', '-p', 'new', '--host', hsA.issuer, '--timeout', '5s'], { env });
      assertFailed(r, 5);
      assert.ok(r.stderr.startsWith(`tokenctl: error: ${file}:1: cannot save profile "new"`), r.stderr);
      assertNothingStarted(env, hsA);
      assert.equal(fs.existsSync(cachePath(env)), false, 'a token cache was written');
      assert.deepEqual(fs.readFileSync(file), before, 'the config changed');
    });
  });

  describe('a token set is bound to its issuer and its client', () => {
    // Every place a request to `server` could carry one of `tokens`.
    function requestsCarrying(server, tokens) {
      return server.requests().filter((e) => tokens.some((t) => [e.path, JSON.stringify(e.query),
        JSON.stringify(e.headers), e.body].some((text) => text.includes(t))));
    }

    // Run token, netrc and git-credential get on the unbound set of dev; each must exit 3 with
    // the login to run, print nothing on stdout and send the tokens nowhere.
    async function assertLoggedOut(env, gitHost, mismatch) {
      for (const [args, input] of [[['token', '-p', 'dev']], [['netrc', '-p', 'dev']],
        [['git-credential', 'get'], `protocol=http\nhost=${gitHost}\n\n`]]) {
        const r = await runTokenctl(args, { env, input });
        assertFailed(r, 3);
        assert.match(r.stderr, new RegExp(`the tokens cached for profile "dev" are not for what it names now: ${mismatch}`),
          `${args.join(' ')}:\n${r.stderr}`);
        assert.match(r.stderr, /^tokenctl: hint: run: tokenctl login -p dev$/m);
      }
      const list = await runTokenctl(['list', '-o', 'json'], { env });
      assert.equal(list.code, 0, list.stderr);
      const [dev] = JSON.parse(list.stdout);
      assert.deepEqual([dev.name, dev.status, dev.expiry], ['dev', 'logged-out', null]);
    }

    async function assertForgottenSilently(env, servers) {
      const before = servers.map((s) => s.requests().length);
      const r = await runTokenctl(['revoke', '-p', 'dev'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, 'Forgot the tokens of profile "dev": they were obtained for another server or client '
        + 'than the profile names now, so nothing was sent anywhere.\n');
      assert.deepEqual(servers.map((s) => s.requests().length), before, 'revoke contacted a server');
      assert.equal(readCache(env).tokens.dev, undefined);
    }

    test('dev logged in at A, its host changed to B: token, netrc, git-credential exit 3, B never sees A\'s '
      + 'tokens, list says logged-out, revoke forgets without a request', async () => {
      const env = freshEnv(hsA);
      writeConfig(env, profileToml(hsA));
      const set = await login(env, 'dev');
      const tokens = [set.access_token, set.refresh_token, set.id_token];
      writeConfig(env, profileToml(hsB));
      hsA.reset();
      hsB.reset();
      const mismatch = `they were issued by ${escape(hsA.issuer)}, and the profile now names ${escape(hsB.issuer)}`;
      await assertLoggedOut(env, `127.0.0.1:${hsB.port}`, mismatch);
      expireNow(env); // due: a refresh would now send A's refresh token somewhere
      await assertLoggedOut(env, `127.0.0.1:${hsB.port}`, mismatch);
      assert.deepEqual(requestsCarrying(hsB, tokens).map((e) => `${e.method} ${e.path}`), [], 'B got A\'s tokens');
      assert.deepEqual(hsA.requests().map((e) => `${e.method} ${e.path}`), [], 'A was asked for a refresh');
      await assertForgottenSilently(env, [hsA, hsB]);
      assert.deepEqual([hsA.requests('revocation'), hsB.requests('revocation')], [[], []]);
    });

    test('dev logged in as client tokenctl, its client_id changed: the same, and A is never asked', async () => {
      const env = freshEnv(hsA);
      writeConfig(env, profileToml(hsA));
      await login(env, 'dev');
      writeConfig(env, profileToml(hsA, { clientId: 'other-client' }));
      hsA.reset();
      const mismatch = 'they were issued to the client tokenctl, and the profile now names other-client';
      await assertLoggedOut(env, `127.0.0.1:${hsA.port}`, mismatch);
      expireNow(env);
      await assertLoggedOut(env, `127.0.0.1:${hsA.port}`, mismatch);
      assert.deepEqual(hsA.requests().map((e) => `${e.method} ${e.path}`), [], 'A was asked');
      await assertForgottenSilently(env, [hsA]);
    });
  });

  describe('option and metadata errors', () => {
    test('a bad login --host (http on a non-loopback host, a query, a fragment) is exit 2 before any network use', async () => {
      let connections = 0;
      const trap = net.createServer((socket) => { connections += 1; socket.destroy(); });
      await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
      const proxy = `http://127.0.0.1:${trap.address().port}`;
      try {
        hsA.reset();
        const env = freshEnv(hsA, {
          http_proxy: proxy, https_proxy: proxy, HTTPS_PROXY: proxy, ALL_PROXY: proxy, all_proxy: proxy,
        });
        for (const [host, why] of [
          ['http://login.example.test/realms/corp', /plain http is allowed only for loopback hosts/],
          ['https://login.example.test/realms/corp?kc_idp_hint=corp', /no query or fragment is allowed/],
          ['https://login.example.test/realms/corp#top', /no query or fragment is allowed/],
          [`${hsA.issuer}/?x=1`, /no query or fragment is allowed/],
        ]) {
          const r = await runTokenctl(['login', '-p', 'new', '--host', host, '--timeout', '5s'], { env, timeoutMs: 20000 });
          assertFailed(r, 2);
          assert.ok(r.stderr.startsWith(`tokenctl: error: --host ${host}: `), r.stderr);
          assert.match(r.stderr, why);
          assert.equal(connections, 0, `${host}: tokenctl connected (through the proxy trap)`);
          assertNothingStarted(env, hsA);
          assert.equal(fs.existsSync(configPath(env)), false, 'the refused profile was written');
        }
      } finally {
        await new Promise((resolve) => trap.close(resolve));
      }
    });

    for (const field of ['token_endpoint', 'authorization_endpoint']) {
      test(`metadata whose ${field} is http on a non-loopback host: exit 1 (the server's fault, not the config's), `
        + 'naming the metadata URL', async () => {
        hsA.reset();
        const env = freshEnv(hsA);
        writeConfig(env, profileToml(hsA));
        const endpoint = `http://login.example.test/${field}`;
        hsA.metadata({ [field]: endpoint });
        const r = await runTokenctl(['login', '-p', 'dev', '--timeout', '5s'], { env });
        assert.deepEqual(hsA.requests().map((e) => e.endpoint), ['discovery'], 'only the metadata was fetched');
        assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false, 'the browser was started');
        assertFailed(r, 1);
        const [line] = r.stderr.match(/^tokenctl: error: .*$/m);
        for (const named of [`${hsA.origin}/.well-known/oauth-authorization-server`, field, endpoint]) {
          assert.ok(line.includes(named), `the error names ${named}: ${line}`);
        }
        assert.match(r.stderr, /plain http is allowed only for loopback hosts/);
      });
    }
  });
});
