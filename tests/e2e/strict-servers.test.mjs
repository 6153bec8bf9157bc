// tokenctl against strict servers (the man page "Files": client authentication and scopes; `token`
// --min-ttl; `list`: refresh tokens that expire), on the real test server's shapes (README.md,
// "The server"): marketing-cc (client credentials, client_secret_post only, any scope refused),
// merchant-app (client_secret_post only, no discovery, refresh tokens of one year announced with
// refresh_token_expires_in), short-lived tokens for --min-ttl, Keycloak's refresh_expires_in.
// What is checked is what tokenctl did: exit status, stdout against stderr, the cache, and what the
// server received (its request log). No client secret may appear in any output, argv or cache.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import {
  cachePath, configPath, freshEnv, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import {
  assertFailed, assertNoneIn, isoSeconds, login, makeDue, MIN_TTL, patchCache, printedLine,
} from './lib/tokens.mjs';

const DAY = 24 * 3600;
const YEAR = 365 * DAY;
const near = (actual, expected, slack, what) => assert.ok(Math.abs(actual - expected) <= slack,
  `${what}: ${actual} is not ${expected} ± ${slack}`);
const secondsFromNow = (iso) => (Date.parse(iso) - Date.now()) / 1000;
const formEncode = (s) => new URLSearchParams({ s }).toString().slice(2);

// One profile as TOML; `keys` maps key -> value (strings quoted, arrays as TOML arrays).
function profile(name, keys) {
  const lines = [`[profiles.${name}]`];
  for (const [k, v] of Object.entries(keys)) if (v !== undefined) lines.push(`${k} = ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

// Every tokenctl run of this file, for the secrets check at the end of each group.
function recorder() {
  const runs = [];
  const envs = [];
  return {
    envs,
    env(server, extra) {
      const env = freshEnv(server, extra);
      envs.push(env);
      return env;
    },
    async run(args, env) {
      const r = await runTokenctl(args, { env });
      runs.push({ args, ...r });
      return r;
    },
    // Every stdout, stderr and argv of the runs, every cache and config file.
    texts() {
      const out = [];
      for (const r of runs) out.push(r.stdout, r.stderr, r.args.join(' '));
      for (const env of envs) {
        for (const file of [cachePath(env), configPath(env)]) if (fs.existsSync(file)) out.push(fs.readFileSync(file, 'utf8'));
      }
      return out;
    },
    count: () => runs.length,
  };
}

// The secret as is, form-encoded, URL-encoded, and inside HTTP Basic credentials of `clientId`.
function secretForms(clientId, secret) {
  const basic = (user, pass) => Buffer.from(`${user}:${pass}`).toString('base64');
  return [secret, formEncode(secret), encodeURIComponent(secret),
    basic(clientId, secret), basic(formEncode(clientId), formEncode(secret))];
}

// A token request that authenticated with client_secret_post: client_id and client_secret in the
// form body, no Authorization header, nothing in the query string.
function assertPostAuth(q, clientId, secret) {
  assert.equal(q.endpoint, 'token');
  assert.equal(q.method, 'POST');
  assert.deepEqual(q.query, {}, 'nothing in the query string');
  assert.equal(q.authorization, null, `no Authorization header (${q.params.grant_type})`);
  assert.equal(q.params.client_id, clientId);
  assert.equal(q.params.client_secret, secret, 'the secret in the body');
}

describe('marketing and merchant: client_secret_post only, no scope, no discovery', () => {
  let server;
  const rec = recorder();
  before(async () => { server = await startServer({ shape: ['merchant', 'marketing'] }); });
  after(() => server?.stop());

  const marketingProfile = (name, extra = {}) => profile(name, {
    host: server.issuer, grant: 'client_credentials', client_id: 'marketing-cc',
    token_endpoint: server.marketing.tokenEndpoint, token_endpoint_auth_method: 'client_secret_post',
    client_secret_env: 'MARKETING_SECRET', ca_file: server.ca, ...extra,
  });
  const merchantProfile = (name, extra = {}) => profile(name, {
    host: server.issuer, client_id: 'merchant-app',
    authorization_endpoint: server.merchant.authorizationEndpoint, token_endpoint: server.merchant.tokenEndpoint,
    token_endpoint_auth_method: 'client_secret_post', client_secret_env: 'MERCHANT_SECRET', ca_file: server.ca, ...extra,
  });

  test('client credentials without `scopes` send no scope; marketing-cc accepts the body form', async () => {
    const env = rec.env(server, { MARKETING_SECRET: server.marketing.secret });
    writeConfig(env, marketingProfile('mkt') + marketingProfile('mkt-scoped', { scopes: ['openid', 'offline_access'] }));
    await server.reset();
    const r = await rec.run(['token', '-p', 'mkt', '-v'], env);
    const token = printedLine(r);
    const sent = await server.requests('token');
    assert.equal(sent.length, 1, 'one token request');
    const [q] = sent;
    assertPostAuth(q, 'marketing-cc', server.marketing.secret);
    assert.deepEqual(Object.keys(q.params).sort(), ['client_id', 'client_secret', 'grant_type'],
      `no scope parameter at all: ${Object.keys(q.params)}`);
    assert.equal(q.params.grant_type, 'client_credentials');
    assert.equal(q.status, 200, q.response);
    assert.equal(token, JSON.parse(q.response).access_token);
    // -v shows the body form with the secret redacted (and no Authorization line).
    assert.match(r.stderr, /^> grant_type=client_credentials&client_id=marketing-cc&client_secret=\[redacted\]$/m);
    assert.doesNotMatch(r.stderr, /^> Authorization:/mi);
    assert.doesNotMatch(r.stderr, /scope/);

    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.deepEqual([who.json().client_id, who.json().kind, who.json().scope], ['marketing-cc', 'ClientCredentials', '']);
    const set = readCache(env).tokens.mkt;
    assert.equal(set.access_token, token);
    assert.equal(set.refresh_token, undefined);
    near(secondsFromNow(set.expiry), 3600, 5, 'the cached expiry');

    // Control: the old default scopes are what this server refuses.
    await server.reset();
    const scoped = await rec.run(['token', '-p', 'mkt-scoped'], env);
    assertFailed(scoped, 1);
    const [refused] = await server.requests('token');
    assert.equal(refused.params.scope, 'openid offline_access');
    assert.equal(refused.status, 400);
    // The front answers this itself (the log keeps only the provider's answers): its error and
    // error_description, as lib/server.mjs words them, are on stderr.
    assert.ok(scoped.stderr.includes(
      'answered invalid_scope: requested scope is not allowed for client marketing-cc: openid offline_access'), scoped.stderr);
    assert.match(scoped.stderr, /^tokenctl: hint: .*\bscopes\b/m);
    assert.equal('mkt-scoped' in readCache(env).tokens, false, 'nothing cached for the refused profile');
  });

  test('marketing-cc with a wrong secret: invalid_client, exit 1, the hint names token_endpoint_auth_method', async () => {
    const wrong = `${server.marketing.secret}x`;
    const env = rec.env(server, { MARKETING_SECRET: wrong });
    writeConfig(env, marketingProfile('mkt'));
    await server.reset();
    const r = await rec.run(['token', '-p', 'mkt'], env);
    assertFailed(r, 1);
    const [q] = await server.requests('token');
    assertPostAuth(q, 'marketing-cc', wrong);
    assert.equal(q.status, 401);
    assert.match(r.stderr, /^tokenctl: error: the token endpoint \S+ answered invalid_client/m);
    assert.match(r.stderr, /^tokenctl: hint: .*token_endpoint_auth_method \(tokenctl used client_secret_post\)/m);
    assertNoneIn(secretForms('marketing-cc', wrong), [r.stdout, r.stderr], 'the wrong secret');
    assert.equal(fs.existsSync(cachePath(env)), false, 'no cache written');
  });

  test('merchant-app: login, refresh, token with the secret only in the body; no discovery; a year of refresh', async () => {
    const env = rec.env(server, { MERCHANT_SECRET: server.merchant.secret });
    writeConfig(env, merchantProfile('shop'));
    await server.reset();
    const loggedIn = await rec.run(['login', '-p', 'shop'], env);
    assert.equal(loggedIn.code, 0, loggedIn.stderr);
    assert.equal(loggedIn.stdout, '');
    assert.match(loggedIn.stderr, /^Logged in to profile "shop" as alice; /m);
    const first = readCache(env).tokens.shop;
    near(secondsFromNow(first.refresh_expiry), YEAR, 10, 'refresh_expiry after login');

    const refreshed = await rec.run(['refresh', '-p', 'shop'], env);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(refreshed.stdout, '');
    const second = readCache(env).tokens.shop;
    assert.notEqual(second.refresh_token, first.refresh_token, 'rotated');

    makeDue(env, 'shop');
    const t = await rec.run(['token', '-p', 'shop', '--min-ttl', MIN_TTL], env);
    const token = printedLine(t);
    assert.equal(t.stderr, '');

    const sent = await server.requests();
    assert.deepEqual(sent.filter((q) => q.path.includes('/.well-known/') || ['discovery', 'metadata'].includes(q.endpoint)), [],
      'no discovery request: the profile names the endpoints');
    const tokenRequests = sent.filter((q) => q.endpoint === 'token');
    assert.deepEqual(tokenRequests.map((q) => [q.params.grant_type, q.status]),
      [['authorization_code', 200], ['refresh_token', 200], ['refresh_token', 200]]);
    for (const q of tokenRequests) assertPostAuth(q, 'merchant-app', server.merchant.secret);
    const last = JSON.parse(tokenRequests[2].response);
    assert.equal(token, last.access_token);
    assert.equal(last.expires_in, 3600);
    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.deepEqual([who.json().client_id, who.json().sub], ['merchant-app', 'alice']);

    const set = readCache(env).tokens.shop;
    assert.equal(set.refresh_token, last.refresh_token);
    near(Date.parse(set.refresh_expiry) / 1000, tokenRequests[2].time / 1000 + last.refresh_token_expires_in, 3,
      'refresh_expiry = time of the answer + refresh_token_expires_in');

    const listed = await rec.run(['-o', 'json', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stderr, '', 'a refresh token with a year left: no warning');
    const row = JSON.parse(listed.stdout).find((p) => p.name === 'shop');
    assert.equal(row.refresh_expiry, set.refresh_expiry);
    assert.equal(row.status, 'valid');
    near(secondsFromNow(row.refresh_expiry), YEAR, 10, 'list refresh_expiry');

    const shown = await rec.run(['show', '-p', 'shop'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^refresh token expiry:\\s+${set.refresh_expiry} \\(in 36[45]d`, 'm'));
    const shownJson = await rec.run(['-o', 'json', 'show', '-p', 'shop'], env);
    assert.equal(shownJson.code, 0, shownJson.stderr);
    assert.equal(JSON.parse(shownJson.stdout).refresh_expiry, set.refresh_expiry);
    assertNoneIn([set.access_token, set.refresh_token, set.id_token], [shown.stdout, shownJson.stdout, listed.stdout], 'a token');
  });

  test('merchant-app without token_endpoint_auth_method: Basic, invalid_client, exit 1 and a hint naming the key', async () => {
    const env = rec.env(server, { MERCHANT_SECRET: server.merchant.secret });
    writeConfig(env, merchantProfile('shop', { token_endpoint_auth_method: undefined }));
    await server.reset();
    const r = await rec.run(['login', '-p', 'shop'], env);
    assertFailed(r, 1);
    const [q] = await server.requests('token');
    assert.equal(q.params.grant_type, 'authorization_code');
    assert.equal(q.authorization?.scheme, 'Basic', 'no metadata: tokenctl falls back to Basic');
    assert.equal(q.authorization.user, 'merchant-app');
    assert.equal(q.params.client_secret, undefined);
    assert.equal(q.status, 401);
    // The front's answer (see above): error and error_description on stderr.
    assert.ok(r.stderr.includes('answered invalid_client: client merchant-app must authenticate with '
      + 'client_secret_post; HTTP Basic is not accepted'), r.stderr);
    assert.match(r.stderr, /^tokenctl: hint: .*token_endpoint_auth_method \(tokenctl used client_secret_basic\)/m);
    assert.equal((await server.requests()).filter((x) => x.path.includes('/.well-known/')).length, 0);
    assert.equal(fs.existsSync(cachePath(env)) && 'shop' in readCache(env).tokens, false, 'nothing cached');
  });

  test('no client secret in any stdout, stderr, argv, cache or config of this group', () => {
    assert.ok(rec.count() >= 10, `the tests above ran (${rec.count()} runs)`);
    assertNoneIn(secretForms('marketing-cc', server.marketing.secret), rec.texts(), 'the marketing secret');
    assertNoneIn(secretForms('merchant-app', server.merchant.secret), rec.texts(), 'the merchant secret');
  });
});

// Make the access token of `name` have `left` to `left + 1` seconds left (whole seconds in the
// cache, rounded up), its lifetime (expiry - issued_at) unchanged, as makeDue does.
function leaveSeconds(env, name, left) {
  patchCache(env, (c) => {
    const set = c.tokens[name];
    const lifetime = Date.parse(set.expiry) - Date.parse(set.issued_at);
    const expiry = Math.ceil(Date.now() / 1000) * 1000 + left * 1000;
    set.expiry = isoSeconds(expiry);
    set.issued_at = isoSeconds(expiry - lifetime);
  });
}

const TTL = 60;
const shortWarning = (name) => new RegExp(`^tokenctl: warning: the server's tokens for profile "${name}" live 1m, `
  + 'less than the --min-ttl 2h asked for; this token has (1m|\\d+s) left\\n$');

describe(`--min-ttl as asked, ${TTL} s tokens; refresh tokens of 6 days (refresh_expires_in); scope and secret errors`, () => {
  let server;
  const rec = recorder();
  before(async () => {
    server = await startServer({
      accessTokenTTL: TTL, clientCredentialsTTL: TTL, refreshExpiresIn: 'refresh_expires_in', refreshTokenTTL: 6 * DAY,
    });
  });
  after(() => server?.stop());

  const userProfile = (name) => profile(name, {
    host: server.issuer, client_id: 'tokenctl', scopes: ['openid', 'offline_access'], ca_file: server.ca,
  });
  const ciProfile = (name, extra = {}) => profile(name, {
    host: server.issuer, grant: 'client_credentials', client_id: 'ci-runner', scopes: ['api'],
    client_secret_env: 'CI_SECRET', ca_file: server.ca, ...extra,
  });
  const grants = async () => (await server.requests('token')).map((q) => q.params.grant_type);

  test('client credentials without `scopes` (HTTP Basic, ci-runner): no scope parameter; the token works', async () => {
    // The same rule as for marketing-cc above, apart from client_secret_post: tokens used to ask
    // for `openid offline_access` here, which oidc-provider refuses to ci-runner (invalid_scope).
    const env = rec.env(server, { CI_SECRET: server.ciSecret });
    writeConfig(env, ciProfile('ci', { scopes: undefined }));
    await server.reset();
    const r = await rec.run(['token', '-p', 'ci'], env);
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const sent = await server.requests('token');
    assert.deepEqual(sent.map((q) => q.params), [{ grant_type: 'client_credentials' }], 'no scope parameter');
    assert.equal(sent[0].authorization?.scheme, 'Basic');
    assert.equal(token, JSON.parse(sent[0].response).access_token);
    const who = await server.whoami(token);
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json().client_id, 'ci-runner');
  });

  test('--min-ttl more than is left but less than a lifetime: one refresh, the new token, nothing on stderr', async () => {
    const env = rec.env(server);
    writeConfig(env, userProfile('dev'));
    await login(env, 'dev');
    const old = makeDue(env, 'dev');
    await server.reset();
    const r = await rec.run(['token', '-p', 'dev', '--min-ttl', '30s'], env);
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const sent = await server.requests('token');
    assert.deepEqual(sent.map((q) => [q.params.grant_type, q.params.refresh_token, q.status]),
      [['refresh_token', old.refresh_token, 200]], 'exactly one refresh');
    assert.equal(token, JSON.parse(sent[0].response).access_token);
    assert.notEqual(token, old.access_token);
    assert.equal(readCache(env).tokens.dev.access_token, token);
    assert.equal((await server.whoami(token)).status, 200);
  });

  test('--min-ttl 40s with 31 s of 60 left refreshes (no longer capped at half the lifetime); without it, no', async () => {
    const env = rec.env(server);
    writeConfig(env, userProfile('dev'));
    const old = await login(env, 'dev');
    leaveSeconds(env, 'dev', 36);
    await server.reset();
    // Control: the default margin (5m) is still capped at half the lifetime (30 s): served as is.
    const calm = await rec.run(['token', '-p', 'dev'], env);
    assert.equal(printedLine(calm), old.access_token);
    assert.deepEqual(await grants(), []);

    leaveSeconds(env, 'dev', 31);
    const r = await rec.run(['token', '-p', 'dev', '--min-ttl', '40s'], env);
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    assert.deepEqual(await grants(), ['refresh_token'], 'a token with 31 s left is not enough for --min-ttl 40s');
    assert.notEqual(token, old.access_token);
    assert.equal(token, JSON.parse((await server.requests('token'))[0].response).access_token);
  });

  test('--min-ttl 2h, longer than any token lives: the fresh token and one warning; right after, no new request', async () => {
    const env = rec.env(server);
    writeConfig(env, userProfile('dev'));
    await login(env, 'dev');
    makeDue(env, 'dev');
    await server.reset();
    const r = await rec.run(['token', '-p', 'dev', '--min-ttl', '2h'], env);
    const token = printedLine(r);
    assert.match(r.stderr, shortWarning('dev'));
    assert.deepEqual(await grants(), ['refresh_token']);
    assert.equal(token, JSON.parse((await server.requests('token'))[0].response).access_token);

    const again = await rec.run(['token', '-p', 'dev', '--min-ttl', '2h'], env);
    assert.equal(printedLine(again), token, 'the same token: a newer one would not live longer');
    assert.match(again.stderr, shortWarning('dev'));
    assert.deepEqual(await grants(), ['refresh_token'], 'no second refresh');
  });

  test('client credentials follow the same rule (--min-ttl 30s, 40s with 31 s left, 2h)', async () => {
    const env = rec.env(server, { CI_SECRET: server.ciSecret });
    writeConfig(env, ciProfile('ci'));
    const first = printedLine(await rec.run(['token', '-p', 'ci'], env));

    makeDue(env, 'ci');
    await server.reset();
    const due = await rec.run(['token', '-p', 'ci', '--min-ttl', '30s'], env);
    const second = printedLine(due);
    assert.equal(due.stderr, '');
    assert.notEqual(second, first);
    assert.deepEqual(await grants(), ['client_credentials']);

    leaveSeconds(env, 'ci', 31);
    await server.reset();
    const half = await rec.run(['token', '-p', 'ci', '--min-ttl', '40s'], env);
    const third = printedLine(half);
    assert.equal(half.stderr, '');
    assert.notEqual(third, second, 'refreshed although more than half the lifetime was left');
    assert.deepEqual(await grants(), ['client_credentials']);

    makeDue(env, 'ci');
    await server.reset();
    const long = await rec.run(['token', '-p', 'ci', '--min-ttl', '2h'], env);
    const fourth = printedLine(long);
    assert.notEqual(fourth, third);
    assert.match(long.stderr, shortWarning('ci'));
    const again = await rec.run(['token', '-p', 'ci', '--min-ttl', '2h'], env);
    assert.equal(printedLine(again), fourth);
    assert.match(again.stderr, shortWarning('ci'));
    assert.deepEqual(await grants(), ['client_credentials'], 'one request for both');
    assert.equal(JSON.parse((await server.requests('token'))[0].response).access_token, fourth);
    assert.equal((await server.whoami(fourth)).json().client_id, 'ci-runner');
  });

  test('a refresh token with 6 days left (refresh_expires_in): list warns on stderr, -o json carries refresh_expiry', async () => {
    const env = rec.env(server);
    writeConfig(env, userProfile('corp') + userProfile('other'));
    await server.reset();
    const set = await login(env, 'corp');
    const [q] = await server.requests('token');
    const answer = JSON.parse(q.response);
    near(answer.refresh_expires_in, 6 * DAY, 5, 'the server\'s refresh_expires_in');
    near(Date.parse(set.refresh_expiry) / 1000, q.time / 1000 + answer.refresh_expires_in, 3, 'cached refresh_expiry');

    // The time left reads "6d" within a second of the login and "5d 23h" after it, so each run's
    // warning is matched on its own rather than compared with the other's.
    const warning = new RegExp(`^tokenctl: warning: profile "corp": the refresh token expires in (5d 23h|6d) \\(${set.refresh_expiry}\\); `
      + 'log in again before then: tokenctl login -p corp\\n$');
    const text = await rec.run(['list'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, warning, 'exactly one warning, for corp only');
    assert.match(text.stdout, /^corp\s.*\bin [56]d\b/m);
    assert.doesNotMatch(text.stdout, /tokenctl: warning/);

    const json = await rec.run(['-o', 'json', 'list'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stderr, warning, 'the same warning, on stderr');
    const rows = JSON.parse(json.stdout);
    assert.equal(rows.find((p) => p.name === 'corp').refresh_expiry, set.refresh_expiry);
    assert.equal(rows.find((p) => p.name === 'other').refresh_expiry, null);
    assert.equal(rows.find((p) => p.name === 'other').status, 'logged-out');
  });

  test('a refresh that restates refresh_expires_in replaces the cached refresh_expiry', async () => {
    const env = rec.env(server);
    writeConfig(env, userProfile('corp'));
    await login(env, 'corp');
    const marker = isoSeconds(Date.now() + 2 * DAY * 1000);
    patchCache(env, (c) => { c.tokens.corp.refresh_expiry = marker; });
    await server.reset();
    const r = await rec.run(['refresh', '-p', 'corp'], env);
    assert.equal(r.code, 0, r.stderr);
    const [q] = await server.requests('token');
    const answer = JSON.parse(q.response);
    assert.ok(answer.refresh_token && answer.refresh_expires_in > 0, 'control: this refresh restates the lifetime');
    const set = readCache(env).tokens.corp;
    assert.notEqual(set.refresh_expiry, marker);
    near(Date.parse(set.refresh_expiry) / 1000, q.time / 1000 + answer.refresh_expires_in, 3, 'refresh_expiry from the answer');
  });

  test('client credentials asking for a scope ci-runner lacks: invalid_scope, exit 1, the hint names `scopes`', async () => {
    const env = rec.env(server, { CI_SECRET: server.ciSecret });
    writeConfig(env, ciProfile('ci', { scopes: ['api', 'profile'] }));
    await server.reset();
    const r = await rec.run(['token', '-p', 'ci'], env);
    assertFailed(r, 1);
    const [q] = await server.requests('token');
    assert.equal(q.params.scope, 'api profile');
    assert.equal(q.status, 400);
    const answer = JSON.parse(q.response);
    assert.equal(answer.error, 'invalid_scope');
    assert.ok(answer.error_description, 'oidc-provider says why');
    assert.match(r.stderr, /^tokenctl: error: the token endpoint \S+ answered invalid_scope: /m);
    assert.ok(r.stderr.includes(answer.error_description), r.stderr);
    assert.match(r.stderr, /^tokenctl: hint: check the profile's scopes\b/m);
    assert.equal(fs.existsSync(cachePath(env)), false);
  });

  test('ci-runner with a wrong secret: invalid_client, exit 1, the hint names token_endpoint_auth_method', async () => {
    const wrong = `${server.ciSecret}-wrong`;
    const env = rec.env(server, { CI_SECRET: wrong });
    writeConfig(env, ciProfile('ci'));
    await server.reset();
    const r = await rec.run(['token', '-p', 'ci'], env);
    assertFailed(r, 1);
    const [q] = await server.requests('token');
    assert.equal(q.status, 401);
    const answer = JSON.parse(q.response);
    assert.equal(answer.error, 'invalid_client');
    assert.ok(r.stderr.includes(`answered invalid_client: ${answer.error_description}`), r.stderr);
    assert.match(r.stderr, /^tokenctl: hint: .*token_endpoint_auth_method \(tokenctl used client_secret_basic\)/m);
    assertNoneIn(secretForms('ci-runner', wrong), [r.stdout, r.stderr], 'the wrong secret');
  });

  test('no client secret in any stdout, stderr, argv, cache or config of this group', () => {
    assert.ok(rec.count() >= 15, `the tests above ran (${rec.count()} runs)`);
    assertNoneIn(secretForms('ci-runner', server.ciSecret), rec.texts(), 'the ci-runner secret');
  });
});

// the man page: a refresh whose answer does not restate the refresh token's lifetime keeps the cached
// refresh_expiry. The test server cannot answer so: its refresh-expiry middleware adds the field to
// every token response that carries a refresh_token, and oidc-provider 8.8.1 always puts one in a
// refresh answer (the new one when rotating, else the one presented: refresh_token.js sets
// refreshTokenValue to the request's refresh_token). lib/server.mjs has no option to leave the
// field out of refresh answers only; until it has one, this is a skip.
test('a refresh whose answer does not restate the refresh token\'s lifetime keeps refresh_expiry', {
  skip: 'the test server cannot leave refresh_expires_in out of refresh answers only (no such option in lib/server.mjs; '
    + 'oidc-provider always returns a refresh_token on refresh, rotating or not, and the field follows it)',
}, () => {});
