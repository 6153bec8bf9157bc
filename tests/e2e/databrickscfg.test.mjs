// Profiles of .databrickscfg are tokenctl profiles too (the man page "Databricks tools"): read only, and
// only when tokenctl's config has no profile of that name. Against the test server's Databricks
// workspace (databricks: true) over plain http on loopback: a .databrickscfg profile has no
// ca_file, and tokenctl trusts only the system's CAs and a profile's ca_file, not SSL_CERT_FILE
// (so the test CA cannot be used for these profiles; loopback http is allowed).
//   - U2M (auth_type = databricks-cli, oauth_callback_port): `tokenctl login -p NAME`, then
//     `databricks auth token --profile NAME`, with the Databricks defaults on the wire;
//   - M2M (auth_type = oauth-m2m, client_id, client_secret; DATABRICKS_CONFIG_FILE): `tokenctl
//     token -p NAME` is client credentials with Basic and scope all-apis at {host}/oidc/v1/token;
//     the secret goes nowhere but that header;
//   - [DEFAULT] as a profile (its keys not inherited); a tokenctl profile of the same name wins;
//     `list` says where each profile comes from;
//   - hostile files (a NUL byte, 2 MB, a 100 KB line, a repeated section): exit 5 naming the file
//     and line, never a value; tokenctl's own profiles keep working, `list` warns.
// Every .databrickscfg is written 0600, as the Databricks CLI writes it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  cachePath, configPath, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { RECORD_DIR } from './lib/recorder.mjs';
import {
  authTokenAnswer, installShim, NOT_CONFIGURED, runProgram, writeDatabrickscfg,
} from './lib/databricks.mjs';
import { assertNoneIn, closedPort, login, printedLine } from './lib/tokens.mjs';

const MARKER = 'n0t-t0-be-echoed-VALUE-7f3a9c';

// Every file under `dir` (recursively, links not followed) but `except`, as text.
function filesBut(dir, except) {
  const out = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && !except.includes(file)) out.push(fs.readFileSync(file, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

describe('.databrickscfg profiles', () => {
  let server;
  let db;
  before(async () => {
    server = await startServer({ databricks: true, tls: false });
    db = server.databricks;
  });
  after(() => server?.stop());

  test('U2M (auth_type = databricks-cli): tokenctl login -p ws, then databricks auth token --profile ws', async () => {
    const env = freshEnv(server);
    const port = await closedPort();
    const file = writeDatabrickscfg(env, `; written by the Databricks CLI\n[ws]\nhost = ${server.origin}\n`
      + `auth_type = databricks-cli\noauth_callback_port = ${port}\n`);
    const bytes = fs.readFileSync(file, 'utf8');
    await server.reset();
    const r = await runTokenctl(['login', '-p', 'ws'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Logged in to profile "ws"/);
    const authorize = (await server.requests('authorization'))[0];
    assert.equal(authorize.path, '/oidc/v1/authorize');
    assert.equal(authorize.query.client_id, 'databricks-cli');
    assert.equal(authorize.query.redirect_uri, `http://localhost:${port}`);
    assert.equal(authorize.query.scope, 'all-apis offline_access');
    assert.equal(authorize.query.code_challenge_method, 'S256');
    const code = (await server.requests('token')).map((q) => [q.path, q.params.grant_type, q.params.client_id]);
    assert.deepEqual(code, [['/oidc/v1/token', 'authorization_code', 'databricks-cli']]);
    assert.equal(fs.readFileSync(file, 'utf8'), bytes, 'tokenctl never writes .databrickscfg');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.existsSync(configPath(env)), false, 'nor copies the profile into its own config');
    const set = readCache(env).tokens.ws;

    const shim = installShim(env);
    for (const args of [['--profile', 'ws'], ['--host', `${server.origin}/`]]) {
      const answer = authTokenAnswer(await runProgram(shim, ['auth', 'token', ...args], { env }));
      assert.equal(answer.access_token, set.access_token, args.join(' '));
    }
    const me = await server.scimMe(set.access_token);
    assert.equal(me.json().userName, 'alice@example.test');
  });

  test('M2M (auth_type = oauth-m2m, DATABRICKS_CONFIG_FILE): Basic, scope all-apis at {host}/oidc/v1/token; the secret nowhere else', async () => {
    const { clientId, secret } = db.servicePrincipal;
    // A .databrickscfg user without any tokenctl config.
    const env = freshEnv(server);
    const file = path.join(env.HOME, '.databricks', 'profiles.cfg');
    env.DATABRICKS_CONFIG_FILE = file;
    writeDatabrickscfg(env, `[sp]\nhost = ${server.origin}\nauth_type = oauth-m2m\nclient_id = ${clientId}\n`
      + `client_secret = ${secret}\n`, file);
    await server.reset();
    const runs = [];
    const run = async (args, program) => {
      const r = program ? await runProgram(program, args, { env }) : await runTokenctl(args, { env });
      runs.push({ args, ...r });
      return r;
    };
    const token = printedLine(await run(['token', '-p', 'sp']));
    const sent = (await server.requests()).filter((q) => q.endpoint !== 'metadata');
    assert.equal(sent.length, 1, sent.map((q) => q.path).join(', '));
    const [q] = sent;
    assert.deepEqual([q.method, q.path, q.mount], ['POST', '/oidc/v1/token', 'databricks-workspace']);
    assert.deepEqual(q.params, { grant_type: 'client_credentials', scope: 'all-apis' });
    assert.deepEqual(q.query, {});
    assert.equal(q.authorization?.scheme, 'Basic');
    assert.equal(decodeURIComponent(q.authorization.user), clientId);
    assert.equal(decodeURIComponent(q.authorization.password), secret);
    assert.match(q.userAgent, /^tokenctl\//);
    assert.equal(token, JSON.parse(q.response).access_token);
    assert.equal((await server.scimMe(token)).json().userName, clientId);

    // -v shows the exchange with the credentials redacted; the shim serves the same token.
    const verbose = await run(['refresh', '-p', 'sp', '-v']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /^> POST .*\/oidc\/v1\/token$/m);
    assert.match(verbose.stderr, /^> Authorization: /m);
    const shim = installShim(env);
    const answer = authTokenAnswer(await run(['auth', 'token', '--profile', 'sp'], shim));
    assert.equal(answer.access_token, readCache(env).tokens.sp.access_token);
    const listed = await run(['list', '-o', 'json']);
    assert.deepEqual(JSON.parse(listed.stdout).map((p) => [p.name, p.source, p.status]), [['sp', 'databricks', 'valid']]);

    const basic = (user, password) => Buffer.from(`${user}:${password}`).toString('base64');
    const forms = [secret, encodeURIComponent(secret), basic(clientId, secret),
      basic(encodeURIComponent(clientId), encodeURIComponent(secret))];
    const texts = runs.flatMap((r) => [r.args.join(' '), r.stdout, r.stderr]);
    texts.push(fs.readFileSync(cachePath(env), 'utf8'));
    if (fs.existsSync(configPath(env))) texts.push(fs.readFileSync(configPath(env), 'utf8'));
    texts.push(...filesBut(env.HOME, [file]));
    assertNoneIn(forms, texts, 'the client secret');
    for (const later of (await server.requests()).filter((x) => x.endpoint === 'token')) {
      assertNoneIn(forms.slice(0, 2), [later.path, JSON.stringify(later.query), JSON.stringify(later.params)],
        'the client secret (in a URL or body)');
    }
    // The whole-run secrets scan looks for it too: the server records it as a client_secret.
    if (RECORD_DIR) {
      const recorded = fs.readdirSync(RECORD_DIR).filter((n) => n.startsWith('issued-'))
        .flatMap((n) => fs.readFileSync(path.join(RECORD_DIR, n), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      assert.ok(recorded.some((e) => e.secrets.some((s) => s.kind === 'client_secret' && s.value === secret)),
        'the service principal secret is in the secrets record');
    }
  });

  test('[DEFAULT] is a profile of its own (its keys are not inherited)', async () => {
    const env = freshEnv(server);
    const port = await closedPort();
    writeDatabrickscfg(env, `[DEFAULT]\nhost = ${server.origin}\noauth_callback_port = ${port}\n\n`
      + '[bare]\nauth_type = databricks-cli\n');
    const r = await runTokenctl(['login', '-p', 'DEFAULT'], { env });
    assert.equal(r.code, 0, r.stderr);
    const set = readCache(env).tokens.DEFAULT;
    assert.equal(set.client_id, 'databricks-cli');
    const shim = installShim(env);
    const answer = authTokenAnswer(await runProgram(shim, ['auth', 'token', '--profile', 'DEFAULT'], { env }));
    assert.equal(answer.access_token, set.access_token);
    // [bare] does not get DEFAULT's host (as in both SDKs): refused, naming the line.
    const bare = await runTokenctl(['token', '-p', 'bare'], { env });
    assert.equal(bare.code, 5, bare.stderr);
    assert.match(bare.stderr, new RegExp(`${path.join(env.HOME, '.databrickscfg')}:5: profile "bare": it has no host`));
  });

  test('a tokenctl profile of the same name wins; list shows the source', async () => {
    const env = freshEnv(server);
    const { clientId, secret } = db.servicePrincipal;
    writeConfig(env, `${profileToml(server, { name: 'own', scopes: ['openid', 'offline_access'] })}\n`
      + '[profiles.shadow]\nhost = "https://shadow.cloud.databricks.com"\n');
    await login(env, 'own');
    // .databrickscfg's shadow would work (M2M); tokenctl's, never logged in, is the one used.
    writeDatabrickscfg(env, `[shadow]\nhost = ${server.origin}\nclient_id = ${clientId}\nclient_secret = ${secret}\n\n`
      + `[ws]\nhost = ${server.origin}\nauth_type = databricks-cli\n`);
    await server.reset();
    const token = await runTokenctl(['token', '-p', 'shadow'], { env });
    assert.equal(token.code, 3, token.stderr);
    assert.match(token.stderr, /profile "shadow" is not logged in/);
    const shim = installShim(env);
    const auth = await runProgram(shim, ['auth', 'token', '--profile', 'shadow'], { env });
    assert.equal(auth.code, 3, auth.stderr);
    assert.ok(auth.stderr.includes(NOT_CONFIGURED), auth.stderr);
    assert.deepEqual(await server.requests(), [], 'nothing was sent: the .databrickscfg profile was not used');

    const list = await runTokenctl(['list'], { env });
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    assert.match(header, /^PROFILE +HOST +STATUS .* SOURCE$/);
    const row = (name) => rows.find((l) => l.startsWith(`${name} `))?.trim().split(/ {2,}/);
    assert.deepEqual([row('own')[0], row('own').at(-1)], ['own', 'config']);
    assert.deepEqual([row('shadow')[1], row('shadow').at(-1)], ['https://shadow.cloud.databricks.com', 'config']);
    assert.deepEqual([row('ws')[1], row('ws')[2], row('ws').at(-1)], [server.origin, 'logged-out', 'databricks']);
    assert.equal(rows.filter((l) => l.startsWith('shadow ')).length, 1);
    const json = JSON.parse((await runTokenctl(['list', '-o', 'json'], { env })).stdout);
    assert.deepEqual(json.map((p) => [p.name, p.source, p.host]), [
      ['own', 'config', server.issuer], ['shadow', 'config', 'https://shadow.cloud.databricks.com'],
      ['ws', 'databricks', server.origin]]);

    // Without tokenctl's shadow, .databrickscfg's is used: client credentials.
    writeConfig(env, profileToml(server, { name: 'own', scopes: ['openid', 'offline_access'] }));
    const now = await runTokenctl(['token', '-p', 'shadow', '-v'], { env });
    assert.equal(now.code, 0, now.stderr);
    assert.deepEqual((await server.requests('token')).map((q) => [q.path, q.params.grant_type]),
      [['/oidc/v1/token', 'client_credentials']]);
    // With a tokenctl config beside it, the secret still goes into neither file, nor any output.
    const basic = Buffer.from(`${clientId}:${secret}`).toString('base64');
    assertNoneIn([secret, basic], [now.stdout, now.stderr, fs.readFileSync(configPath(env), 'utf8'),
      fs.readFileSync(cachePath(env), 'utf8')], 'the client secret');
  });

  const hostile = [
    ['a NUL byte', () => `[x]\nhost = ${server.origin}\nclient_id = a\0${MARKER}\n`, ':3: a control character (byte 0x00)'],
    ['a 100 KB line', () => `[x]\nhost = ${server.origin}\nclient_secret = ${MARKER}${'A'.repeat(100 * 1024)}\n`,
      ':3: the line is longer than 65536 bytes'],
    ['a repeated section', () => `[x]\nhost = ${server.origin}\n\n[x]\nclient_secret = ${MARKER}\n`,
      ':4: section "x" appears again (first at line 1)'],
    // Refused before any line is read: no line to name.
    ['2 MB', () => `[x]\nhost = ${server.origin}\nclient_secret = ${MARKER}\n${'# padding\n'.repeat(200 * 1024)}`,
      ' is too large'],
  ];
  for (const [what, text, message] of hostile) {
    test(`a hostile .databrickscfg (${what}): exit 5 naming the file (and line), no value; tokenctl's profiles unharmed`, async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server, { name: 'own', scopes: ['openid', 'offline_access'] }));
      const own = (await login(env, 'own')).access_token;
      const file = writeDatabrickscfg(env, text());
      const shim = installShim(env);
      for (const r of [await runTokenctl(['token', '-p', 'x'], { env }),
        await runProgram(shim, ['auth', 'token', '--profile', 'x'], { env })]) {
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.stdout, '');
        assert.ok(r.stderr.startsWith(`tokenctl: error: ${file}${message}`), r.stderr);
        assertNoneIn([MARKER], [r.stderr], 'a value of the file');
      }
      // tokenctl's own profile: the file is not even read.
      assert.equal(printedLine(await runTokenctl(['token', '-p', 'own'], { env })), own);
      assert.equal(authTokenAnswer(await runProgram(shim, ['auth', 'token', '--profile', 'own'], { env })).access_token, own);
      const list = await runTokenctl(['list'], { env });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^own +http:\/\/127\.0\.0\.1:\d+ +valid /m);
      assert.ok(list.stderr.startsWith(`tokenctl: warning: the Databricks profiles are left out: ${file}${message}`), list.stderr);
      assertNoneIn([MARKER], [list.stdout, list.stderr], 'a value of the file');
    });
  }

  test('a file over 1 MiB: the message names the limit, 1048576 bytes', async () => {
    const env = freshEnv(server);
    const file = writeDatabrickscfg(env, `[x]\nhost = ${server.origin}\n${'# padding\n'.repeat(200 * 1024)}`);
    const r = await runTokenctl(['token', '-p', 'x'], { env });
    assert.equal(r.code, 5);
    assert.equal(r.stderr, `tokenctl: error: ${file} is too large (more than 1048576 bytes)\n`);
  });
});
