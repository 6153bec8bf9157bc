// A client_credentials profile (the man page config example `ci`, `token`, `refresh`;
// RFC 6749 section 4.4): the confidential client ci-runner gets a token with HTTP Basic, the
// secret from the variable the profile names; the token is reused from the cache until due, then
// a new one is fetched; the secret never reaches a URL, the cache, stdout or stderr (-v included).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import {
  cachePath, fileMode, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import {
  assertFailed, assertNoneIn, cacheSnapshot, makeDue, MIN_TTL, printedLine, refreshedMessage,
} from './lib/tokens.mjs';

const TTL = 20;

function ciEnv(server, secret = server.ciSecret) {
  const env = freshEnv(server, { CI_SECRET: secret });
  writeConfig(env, profileToml(server, {
    name: 'ci', clientId: 'ci-runner', scopes: ['api'],
    extra: 'grant = "client_credentials"\nclient_secret_env = "CI_SECRET"',
  }));
  return env;
}

// The secret in every form it could leak in: as is, URL-encoded, and inside the Basic credentials.
const formEncode = (s) => new URLSearchParams({ s }).toString().slice(2);

function secretForms(secret) {
  const basic = (password) => Buffer.from(`ci-runner:${password}`).toString('base64');
  return [secret, formEncode(secret), encodeURIComponent(secret), basic(formEncode(secret)), basic(secret)];
}

// Assert the one client-credentials request: Basic auth only, scope api, no secret in URL or body.
function assertClientCredentialsRequest(q, secret) {
  assert.equal(q.method, 'POST');
  assert.equal(q.endpoint, 'token');
  assert.deepEqual(q.query, {}, 'nothing in the query string');
  assert.deepEqual(q.params, { grant_type: 'client_credentials', scope: 'api' });
  assert.equal(q.authorization?.scheme, 'Basic');
  assert.equal(q.authorization.user, 'ci-runner');
  assert.equal(decodeURIComponent(q.authorization.password.replace(/\+/g, ' ')), secret);
}

function assertSecretNowhere(server, secret, requests, texts) {
  for (const q of requests) {
    assertNoneIn(secretForms(secret).slice(0, 3), [q.path, JSON.stringify(q.query), q.body],
      'the secret (in a URL or body)');
  }
  assertNoneIn(secretForms(secret), texts, 'the secret');
}

describe(`client credentials with ${TTL} s tokens`, () => {
  let server;
  before(async () => { server = await startServer({ clientCredentialsTTL: TTL }); });
  after(() => server?.stop());

  test('token gets a token as ci-runner with HTTP Basic; a second call reuses the cache', async () => {
    const env = ciEnv(server);
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci'], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const sent = await server.requests();
    assert.deepEqual(sent.filter((q) => !q.path.startsWith('/.well-known/')).map((q) => q.endpoint), ['token']);
    const tokenRequest = sent.find((q) => q.endpoint === 'token');
    assertClientCredentialsRequest(tokenRequest, server.ciSecret);
    assert.equal(token, JSON.parse(tokenRequest.response).access_token);
    assertSecretNowhere(server, server.ciSecret, sent, [r.stdout, r.stderr, fs.readFileSync(cachePath(env), 'utf8')]);

    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().client_id, 'ci-runner');
    assert.equal(who.json().kind, 'ClientCredentials');
    assert.equal(who.json().scope, 'api');
    assert.equal(who.json().sub, null);

    const set = readCache(env).tokens.ci;
    assert.equal(set.access_token, token);
    assert.equal(set.refresh_token, undefined, 'no refresh token for client credentials');
    assert.equal(fileMode(cachePath(env)).toString(8), '600');

    await server.reset();
    const again = await runTokenctl(['token', '-p', 'ci'], { env });
    assert.equal(printedLine(again), token);
    assert.deepEqual(await server.requests(), [], 'the cached token is reused without a request');
  });

  test('--min-ttl larger than what is left fetches a new token (endpoints remembered: no discovery)', async () => {
    const env = ciEnv(server);
    const first = printedLine(await runTokenctl(['token', '-p', 'ci'], { env }));
    makeDue(env, 'ci');
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci', '--min-ttl', MIN_TTL], { env });
    const token = printedLine(r);
    assert.notEqual(token, first);
    const sent = await server.requests();
    assert.equal(sent.length, 1, sent.map((q) => q.path).join(', '));
    assertClientCredentialsRequest(sent[0], server.ciSecret);
    assert.equal(token, JSON.parse(sent[0].response).access_token);
    assert.equal(readCache(env).tokens.ci.access_token, token);
    assert.equal((await server.whoami(token)).json().client_id, 'ci-runner');

    await server.reset();
    const refreshed = await runTokenctl(['refresh', '-p', 'ci'], { env });
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(refreshed.stdout, '');
    const set = readCache(env).tokens.ci;
    assert.match(refreshed.stderr, refreshedMessage('ci', set.expiry, TTL));
    const [q] = await server.requests();
    assertClientCredentialsRequest(q, server.ciSecret);
    assert.equal(set.access_token, JSON.parse(q.response).access_token);
  });

  test('the secret variable unset: exit 5 naming it, no request, the cache untouched', async () => {
    const env = ciEnv(server);
    printedLine(await runTokenctl(['token', '-p', 'ci'], { env }));
    makeDue(env, 'ci');
    delete env.CI_SECRET;
    await server.reset();
    const snapshot = cacheSnapshot(env);
    const r = await runTokenctl(['token', '-p', 'ci', '--min-ttl', MIN_TTL], { env });
    assertFailed(r, 5);
    assert.match(r.stderr, /\bCI_SECRET\b/);
    assert.deepEqual(await server.requests(), []);
    assert.deepEqual(cacheSnapshot(env), snapshot);
  });

  test('the secret variable unset and nothing cached: exit 5 before any request',
    async () => {
      const env = ciEnv(server);
      delete env.CI_SECRET;
      await server.reset();
      const r = await runTokenctl(['token', '-p', 'ci'], { env });
      assertFailed(r, 5);
      assert.match(r.stderr, /\bCI_SECRET\b/);
      assert.deepEqual((await server.requests()).map((q) => q.path), [], 'no request without a secret');
    });

  test('-v shows the exchange with the secret and the tokens redacted', async () => {
    const env = ciEnv(server);
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci', '-v'], { env });
    const token = printedLine(r);
    assert.match(r.stderr, /^> POST https:\/\/127\.0\.0\.1:\d+\/token$/m);
    assert.match(r.stderr, /^> Authorization: Basic \[redacted\]$/m);
    assert.match(r.stderr, /^> grant_type=client_credentials&scope=api$/m);
    assert.match(r.stderr, /^< 200$/m);
    assertSecretNowhere(server, server.ciSecret, await server.requests(), [r.stdout, r.stderr]);
    assertNoneIn([token], [r.stderr], 'the access token');
  });

  test('a wrong secret: invalid_client, exit 1, nothing cached, the secret not shown even with -v', async () => {
    const wrong = `${server.ciSecret}-wrong`;
    const env = ciEnv(server, wrong);
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci', '-v'], { env });
    // Exit 1 ("any other failure"): the contract's 5 is for the config file itself, 4 for trouble.
    assertFailed(r, 1);
    assert.match(r.stderr, /^tokenctl: error: the token endpoint \S+ answered invalid_client/m);
    assertSecretNowhere(server, wrong, await server.requests(), [r.stderr]);
    assert.equal(fs.existsSync(cachePath(env)) && 'ci' in readCache(env).tokens, false);
  });
});

test('a secret with reserved characters is form-encoded inside HTTP Basic and accepted', async () => {
  const secret = 'p@ss w+rd%/=:*'; // RFC 6749 secrets are VSCHAR (printable ASCII)
  const server = await startServer({ ciSecret: secret });
  try {
    const env = ciEnv(server);
    const r = await runTokenctl(['token', '-p', 'ci', '-v'], { env });
    const token = printedLine(r);
    const q = (await server.requests('token'))[0];
    assert.equal(q.authorization.password, 'p%40ss+w%2Brd%25%2F%3D%3A%2A');
    assertClientCredentialsRequest(q, secret);
    assertSecretNowhere(server, secret, await server.requests(), [r.stdout, r.stderr]);
    assert.equal((await server.whoami(token)).json().client_id, 'ci-runner');
  } finally {
    await server.stop();
  }
});
