// Client assertions (RFC 7523; the man page "CI without secrets") against the test server's
// private_key_jwt clients, never a mock:
//  - private_key_jwt with RSA (2048) and EC (P-256) keys made here by `openssl genpkey`, their public
//    JWKs registered at the server (server.addClient): client credentials with each, PS256 with the
//    RSA key, and the code flow (a browser login, then refresh, and revoke) with the EC one. Every
//    request that authenticates carries client_assertion_type jwt-bearer and an assertion whose
//    header alg/kid and claims (iss = sub = client id, aud = the token endpoint, exp - iat <= 300)
//    the server decoded into its log, each with a jti no other request of the file had;
//  - the method chosen automatically: client_assertion_key_file without token_endpoint_auth_method;
//  - keys refused with exit 5 and no token request: mode 0644, encrypted, public, EC with RS256,
//    Ed25519, missing;
//  - `client_assertion = SOURCE` (Entra-style workload identity): a CI identity token sent as the
//    assertion, from env:NAME and from github-actions;
//  - with -v, no assertion (and no key) on stderr, and none in the cache or the config.
// Runtime: ~10-15 s.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jose from 'jose';

import {
  cachePath, configPath, freshEnv, readBrowserLog, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { assertFailed, assertNoneIn, login, makeDue, MIN_TTL, printedLine } from './lib/tokens.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_LIFETIME = 300;
const CI_VARS = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'SYSTEM_OIDCREQUESTURI',
  'SYSTEM_ACCESSTOKEN', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID'];
const only = (extra = {}) => ({ ...Object.fromEntries(CI_VARS.map((k) => [k, undefined])), ...extra });
const first = (v) => (Array.isArray(v) ? v[0] : v);

function profile(name, keys) {
  const lines = [`[profiles.${name}]`];
  for (const [k, v] of Object.entries(keys)) if (v !== undefined) lines.push(`${k} = ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('client assertions (RFC 7523)', () => {
  let server;
  let keys;       // the folder of the keys made here (0700)
  let rsaJwk;
  let ecJwk;
  const jtis = [];  // every assertion's jti the server received in this file
  const assertions = [];  // every assertion the server received, for the secrets checks

  before(async () => {
    keys = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR || '/tmp'), 'tokenctl-e2e-keys-'));
    process.on('exit', () => fs.rmSync(keys, { recursive: true, force: true }));
    const k = (name) => path.join(keys, name);
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', k('rsa.pem'));
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', k('ec.pem'));
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes-256-cbc', '-pass', 'pass:e2e-passphrase', '-out', k('encrypted.pem'));
    openssl('genpkey', '-algorithm', 'ED25519', '-out', k('ed25519.pem'));
    openssl('pkey', '-in', k('ec.pem'), '-pubout', '-out', k('public.pem'));
    for (const f of fs.readdirSync(keys)) fs.chmodSync(k(f), 0o600);
    fs.copyFileSync(k('ec.pem'), k('ec-0644.pem'));
    fs.chmodSync(k('ec-0644.pem'), 0o644);
    rsaJwk = { ...crypto.createPublicKey(fs.readFileSync(k('rsa.pem'))).export({ format: 'jwk' }), kid: 'rsa-key-1', use: 'sig' };
    ecJwk = { ...crypto.createPublicKey(fs.readFileSync(k('ec.pem'))).export({ format: 'jwk' }), kid: 'ec-key-1', use: 'sig' };

    server = await startServer({ assertionMaxLifetime: MAX_LIFETIME, ci: true });
    const cc = { token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api' };
    await server.addClient({ client_id: 'pk-rsa', jwks: { keys: [rsaJwk] }, ...cc });
    await server.addClient({ client_id: 'pk-ec', jwks: { keys: [ecJwk] }, ...cc });
    await server.addClient({
      client_id: 'pk-app', application_type: 'native', token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ecJwk] }, grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'],
    });
    // Entra-style workload identity: the client's keys are the identity provider's, so that a CI
    // identity token whose iss = sub = the client id is an assertion the server accepts.
    await server.addClient({ client_id: 'wi-app', jwks: server.idp.jwks, ...cc });
  });
  after(() => server?.stop());

  const key = (name) => path.join(keys, name);
  const ccProfile = (name, clientId, keyKeys) => profile(name, {
    host: server.issuer, ca_file: server.ca, grant: 'client_credentials', client_id: clientId, scopes: ['api'], ...keyKeys,
  });

  // Check one logged request that authenticated with an assertion; returns the decoded assertion.
  function checkAssertion(q, { clientId, alg, kid }) {
    assert.equal(q.params.client_assertion_type, ASSERTION_TYPE, `${q.endpoint}: client_assertion_type`);
    assert.equal(typeof q.params.client_assertion, 'string');
    assert.equal(q.params.client_id, clientId);
    assert.equal(q.params.client_secret, undefined);
    assert.equal(q.authorization ?? null, null, 'no Authorization header');
    const a = q.clientAssertion;
    assert.ok(a && !a.error, JSON.stringify(a));
    assert.deepEqual([a.alg, a.kid, a.header.typ], [alg, kid, 'JWT']);
    assert.deepEqual([a.iss, a.sub, a.aud], [clientId, clientId, server.endpoints.token_endpoint], 'iss = sub = client id, aud = the token endpoint');
    assert.ok(Number.isInteger(a.iat) && Number.isInteger(a.exp));
    assert.ok(a.lifetime > 0 && a.lifetime <= MAX_LIFETIME, `exp - iat = ${a.lifetime}`);
    assert.ok(Math.abs(a.iat - Date.now() / 1000) < 30, 'iat is now');
    assert.ok(typeof a.jti === 'string' && a.jti.length >= 16, `jti ${a.jti}`);
    jtis.push(a.jti);
    assertions.push(q.params.client_assertion);
    return a;
  }

  test('client credentials with an RSA key (kid set, token_endpoint_auth_method not set): private_key_jwt, RS256; a new assertion when due', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('rsa', 'pk-rsa', { client_assertion_key_file: key('rsa.pem'), client_assertion_kid: 'rsa-key-1' }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'rsa'], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const [q] = await server.requests('token');
    assert.equal(q.status, 200, q.response);
    assert.equal(first(q.params.grant_type), 'client_credentials');
    assert.equal(q.params.scope, 'api');
    checkAssertion(q, { clientId: 'pk-rsa', alg: 'RS256', kid: 'rsa-key-1' });
    assert.equal((await server.whoami(token)).json().client_id, 'pk-rsa');

    makeDue(env, 'rsa');
    await server.reset();
    const again = printedLine(await runTokenctl(['token', '-p', 'rsa', '--min-ttl', MIN_TTL], { env }));
    const log = await server.requests();
    assert.deepEqual(log.map((q2) => [q2.endpoint, q2.status]), [['token', 200]]);
    checkAssertion(log[0], { clientId: 'pk-rsa', alg: 'RS256', kid: 'rsa-key-1' });
    assert.notEqual(again, token);
  });

  test('client credentials with an EC P-256 key (token_endpoint_auth_method = "private_key_jwt"): ES256; without a kid, none in the header', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, [
      ccProfile('ec', 'pk-ec', { token_endpoint_auth_method: 'private_key_jwt', client_assertion_key_file: key('ec.pem'), client_assertion_kid: 'ec-key-1' }),
      ccProfile('ec-nokid', 'pk-ec', { client_assertion_key_file: key('ec.pem') }),
    ].join('\n'));
    await server.reset();
    const token = printedLine(await runTokenctl(['token', '-p', 'ec'], { env }));
    checkAssertion((await server.requests('token'))[0], { clientId: 'pk-ec', alg: 'ES256', kid: 'ec-key-1' });
    assert.equal((await server.whoami(token)).json().client_id, 'pk-ec');
    await server.reset();
    printedLine(await runTokenctl(['token', '-p', 'ec-nokid'], { env }));
    const a = checkAssertion((await server.requests('token'))[0], { clientId: 'pk-ec', alg: 'ES256', kid: undefined });
    assert.equal('kid' in a.header, false);
  });

  test('PS256 with the RSA key (client_assertion_alg = "PS256")', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('ps', 'pk-rsa', { client_assertion_key_file: key('rsa.pem'), client_assertion_kid: 'rsa-key-1', client_assertion_alg: 'PS256' }));
    await server.reset();
    const token = printedLine(await runTokenctl(['token', '-p', 'ps'], { env }));
    const [q] = await server.requests('token');
    assert.equal(q.status, 200, q.response);
    checkAssertion(q, { clientId: 'pk-rsa', alg: 'PS256', kid: 'rsa-key-1' });
    assert.equal((await server.whoami(token)).json().client_id, 'pk-rsa');
  });

  const appProfile = () => profile('app', {
    host: server.issuer, ca_file: server.ca, client_id: 'pk-app', scopes: ['openid', 'offline_access', 'profile'],
    client_assertion_key_file: key('ec.pem'), client_assertion_kid: 'ec-key-1',
  });

  test('the code flow with the EC key: the code exchange and the refresh each carry a fresh assertion', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, appProfile());
    await server.reset();
    const set = await login(env, 'app');
    assert.ok(set.refresh_token);
    assert.equal((await server.userinfo(set.access_token)).json().sub, 'alice');
    const refreshed = await runTokenctl(['refresh', '-p', 'app'], { env });
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(refreshed.stdout, '');

    const log = await server.requests('token');
    assert.deepEqual(log.map((q) => [first(q.params.grant_type), q.status]), [['authorization_code', 200], ['refresh_token', 200]]);
    for (const q of log) checkAssertion(q, { clientId: 'pk-app', alg: 'ES256', kid: 'ec-key-1' });
    // The authorization request itself carries no assertion (it goes through the browser).
    const [authz] = await server.requests('authorization');
    assert.equal(authz.query.client_assertion, undefined);
    assert.equal(JSON.stringify(await readBrowserLog(env)).includes('client_assertion'), false);
    const after = readCache(env).tokens.app;
    assert.notEqual(after.access_token, set.access_token);
    assert.equal((await server.userinfo(after.access_token)).status, 200);
  });

  test('revoke with private_key_jwt: each revocation request carries its own assertion, and both tokens are revoked', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, appProfile());
    const set = await login(env, 'app');
    await server.reset();
    const revoked = await runTokenctl(['revoke', '-p', 'app'], { env });
    const log = await server.requests('revocation');
    assert.deepEqual(log.map((q) => [first(q.params.token_type_hint), q.status]), [['refresh_token', 200], ['access_token', 200]]);
    const ids = log.map((q) => checkAssertion(q, { clientId: 'pk-app', alg: 'ES256', kid: 'ec-key-1' }).jti);
    assert.notEqual(ids[0], ids[1], 'one assertion per request');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await server.userinfo(set.access_token)).status, 401, 'the access token is revoked');
    assert.equal(readCache(env).tokens.app, undefined);
  });

  test('a key file readable by others (0644): exit 5 naming the file and the fix, no token request', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('loose', 'pk-ec', { client_assertion_key_file: key('ec-0644.pem') }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'loose'], { env });
    assertFailed(r, 5);
    assert.ok(r.stderr.includes(`${key('ec-0644.pem')} is readable by group or others (mode 0644)`), r.stderr);
    assert.match(r.stderr, /chmod 600/);
    assert.equal((await server.requests('token')).length, 0);
    assert.equal(fs.existsSync(cachePath(env)), false);
  });

  test('a key file readable by others: refused before any request at all (server log empty), and before login opens the browser', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, [
      ccProfile('loose', 'pk-ec', { client_assertion_key_file: key('ec-0644.pem') }),
      profile('app', { host: server.issuer, ca_file: server.ca, client_id: 'pk-app', scopes: ['openid', 'offline_access'], client_assertion_key_file: key('ec-0644.pem') }),
    ].join('\n'));
    await server.reset();
    assertFailed(await runTokenctl(['token', '-p', 'loose'], { env }), 5);
    assert.deepEqual((await server.requests()).map((q) => q.endpoint), [], 'token: no request');
    await server.reset();
    const r = await runTokenctl(['login', '-p', 'app', '--timeout', '20s'], { env });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(fs.existsSync(env.TEST_BROWSER_LOG), false, 'the browser was not opened');
    assert.deepEqual((await server.requests()).map((q) => q.endpoint), [], 'login: no request');
  });

  test('keys tokenctl cannot sign with: exit 5 with a clear message, no token request', async () => {
    const env = freshEnv(server, only());
    const cases = {
      encrypted: [{ client_assertion_key_file: key('encrypted.pem') }, /encrypted with a passphrase.*openssl pkey/],
      public: [{ client_assertion_key_file: key('public.pem') }, /is a public key: tokenctl signs with the private key/],
      ecrs256: [{ client_assertion_key_file: key('ec.pem'), client_assertion_alg: 'RS256' }, /client_assertion_alg = "RS256" needs an RSA key, and client_assertion_key_file holds an EC key/],
      ed25519: [{ client_assertion_key_file: key('ed25519.pem') }, /ED25519 key tokenctl does not sign with: use an RSA .* or EC P-256/i],
      missing: [{ client_assertion_key_file: key('no-such-key.pem') }, /no-such-key\.pem does not exist/],
    };
    writeConfig(env, Object.entries(cases).map(([name, [k]]) => ccProfile(name, 'pk-ec', k)).join('\n'));
    for (const [name, [k, message]] of Object.entries(cases)) {
      await server.reset();
      const r = await runTokenctl(['token', '-p', name], { env });
      assertFailed(r, 5);
      assert.match(r.stderr, message, `${name}:\n${r.stderr}`);
      if (name !== 'missing') assert.ok(r.stderr.includes(k.client_assertion_key_file), `${name}: names the file`);
      assert.equal(r.stderr.includes('BEGIN'), name === 'public', `${name}: no key material printed`);
      assert.equal((await server.requests('token')).length, 0, `${name}: no token request`);
    }
    // The config rules: an alg that tokenctl does not know, and assertion keys without a client id.
    writeConfig(env, ccProfile('bad', 'pk-ec', { client_assertion_key_file: key('ec.pem'), client_assertion_alg: 'HS256' }));
    const bad = await runTokenctl(['token', '-p', 'bad'], { env });
    assertFailed(bad, 5);
    assert.match(bad.stderr, /config\.toml:\d+: "client_assertion_alg" in profile "bad" must be "RS256", "PS256" or "ES256"/);
  });

  test('an assertion the server refuses (a key it does not know): exit 1 with the server\'s invalid_client', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('wrong', 'pk-rsa', { client_assertion_key_file: key('ec.pem') }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'wrong'], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, /invalid_client/);
    const [q] = await server.requests('token');
    assert.equal(q.status, 401);
    checkAssertion(q, { clientId: 'pk-rsa', alg: 'ES256', kid: undefined });
  });

  test('the hint for a refused assertion speaks of the key, not of a client secret', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('wrong', 'pk-rsa', { client_assertion_key_file: key('ec.pem') }));
    const r = await runTokenctl(['token', '-p', 'wrong'], { env });
    assertFailed(r, 1);
    assert.doesNotMatch(r.stderr, /client_secret_env|client_secret_post/);
    assert.match(r.stderr, /client_assertion_key_file|public key|kid/);
  });

  test('client_assertion = "env:NAME": a CI identity token as the assertion (Entra-style workload identity)', async () => {
    const env = freshEnv(server, only());
    const idToken = await server.idp.mint({ iss: 'wi-app', sub: 'wi-app', aud: server.endpoints.token_endpoint, exp: Math.floor(Date.now() / 1000) + 300 });
    const ciEnv = { ...env, WI_TOKEN: idToken };
    writeConfig(env, ccProfile('wi', 'wi-app', { client_assertion: 'env:WI_TOKEN' }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'wi'], { env: ciEnv });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const [q] = await server.requests('token');
    assert.equal(q.status, 200, q.response);
    assert.equal(q.params.client_assertion, idToken, 'the variable\'s token, as it is');
    assert.equal(q.params.client_assertion_type, ASSERTION_TYPE);
    assert.equal(q.params.client_id, 'wi-app');
    assert.equal(q.clientAssertion.kid, server.idp.jwks.keys[0].kid);
    assertions.push(idToken);
    assert.equal((await server.whoami(token)).json().client_id, 'wi-app');
    // The variable missing (in a job of its own, with nothing cached): exit 5, no token request.
    const bare = freshEnv(server, only());
    writeConfig(bare, ccProfile('wi', 'wi-app', { client_assertion: 'env:WI_TOKEN' }));
    await server.reset();
    const m = await runTokenctl(['token', '-p', 'wi'], { env: bare });
    assertFailed(m, 5);
    assert.match(m.stderr, /the variable WI_TOKEN that should hold the identity token is not set/);
    assert.equal((await server.requests('token')).length, 0);
  });

  test('client_assertion = "github-actions": fetched for subject_audience, sent as the assertion', async () => {
    const gh = server.ci.github;
    try {
      // The stand-in issues tokens whose iss and sub are the client id: what this server accepts.
      await server.ci.configure({ github: { issuer: 'wi-app', subject: 'wi-app' } });
      const env = freshEnv(server, only(gh.env));
      writeConfig(env, ccProfile('gha', 'wi-app', { client_assertion: 'github-actions', subject_audience: server.endpoints.token_endpoint }));
      await server.reset();
      const token = printedLine(await runTokenctl(['token', '-p', 'gha'], { env }));
      const log = await server.requests();
      const fetched = log.filter((q) => q.endpoint === 'ci_github');
      assert.equal(fetched.length, 1);
      assert.equal(fetched[0].query.audience, server.endpoints.token_endpoint);
      const [q] = log.filter((x) => x.endpoint === 'token');
      assert.equal(q.status, 200, q.response);
      assert.equal(q.params.client_id, 'wi-app');
      assert.deepEqual([q.clientAssertion.iss, q.clientAssertion.sub, q.clientAssertion.aud], ['wi-app', 'wi-app', server.endpoints.token_endpoint]);
      assertions.push(q.params.client_assertion);
      assert.equal((await server.whoami(token)).json().client_id, 'wi-app');
    } finally {
      await server.ci.configure({ github: { issuer: 'https://token.actions.githubusercontent.com', subject: gh.subject } });
    }
  });

  test('Entra\'s shape (GitHub\'s iss and sub, aud api://AzureADTokenExchange): what tokenctl sends; this server cannot accept it', async () => {
    // Microsoft Entra matches the assertion's iss/sub/aud against the app's federated credentials;
    // oidc-provider (this server) requires iss = sub = client_id, so it refuses the request.
    const gh = server.ci.github;
    const env = freshEnv(server, only(gh.env));
    writeConfig(env, ccProfile('entra', 'wi-app', { client_assertion: 'github-actions', subject_audience: 'api://AzureADTokenExchange' }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'entra'], { env });
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    const log = await server.requests();
    assert.equal(log.filter((q) => q.endpoint === 'ci_github')[0].query.audience, 'api://AzureADTokenExchange');
    const [q] = log.filter((x) => x.endpoint === 'token');
    assert.equal(first(q.params.grant_type), 'client_credentials');
    assert.deepEqual([q.params.client_id, q.params.client_assertion_type], ['wi-app', ASSERTION_TYPE]);
    const claims = jose.decodeJwt(q.params.client_assertion);
    assert.deepEqual([claims.iss, claims.sub, claims.aud], ['https://token.actions.githubusercontent.com', gh.subject, 'api://AzureADTokenExchange']);
    assert.match(r.stderr, /subject of client_assertion must be the same as client_id|invalid_client|invalid_request/);
    assertNoneIn([q.params.client_assertion, q.params.client_assertion.split('.')[2]], [r.stderr], 'the identity token');
    assertions.push(q.params.client_assertion);
  });

  test('-v: the requests on stderr without the assertion or the key; nothing in the cache or the config', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, ccProfile('rsa', 'pk-rsa', { client_assertion_key_file: key('rsa.pem'), client_assertion_kid: 'rsa-key-1' }));
    await server.reset();
    const r = await runTokenctl(['-v', 'token', '-p', 'rsa'], { env });
    const token = printedLine(r);
    const [q] = await server.requests('token');
    const a = checkAssertion(q, { clientId: 'pk-rsa', alg: 'RS256', kid: 'rsa-key-1' });
    assert.match(r.stderr, /POST \S+\/token/, 'the request is shown');
    assert.match(r.stderr, /client_assertion_type/, 'the parameters are shown');
    const assertion = q.params.client_assertion;
    assertNoneIn([assertion, ...assertion.split('.').slice(1), token], [r.stderr], 'a secret on -v stderr');
    const pem = fs.readFileSync(key('rsa.pem'), 'utf8').split('\n').filter((l) => l.length > 40);
    assertNoneIn(pem, [r.stderr, r.stdout], 'a line of the private key');
    assert.ok(a);
    const files = [fs.readFileSync(cachePath(env), 'utf8'), fs.readFileSync(configPath(env), 'utf8')];
    assertNoneIn(assertions.flatMap((x) => [x, x.split('.')[2]]), files, 'a client assertion');
    assert.equal(readCache(env).tokens.rsa.access_token, token);
  });

  test('every assertion of this file had its own jti', () => {
    assert.ok(jtis.length >= 9, `${jtis.length} assertions checked`);
    assert.equal(new Set(jtis).size, jtis.length, 'a jti was sent twice');
  });
});
