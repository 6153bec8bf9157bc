// "CI without secrets", the token exchange (the man page; RFC 8693): a `grant = "token_exchange"` profile
// against the test server's exchange, identity provider and CI stand-ins (startServer({tokenExchange,
// ci, databricks})), never a mock. What the server received (the request log: the identity-token
// fetches with their audience, the exchange's form parameters, the subject token itself), the exit
// codes and the stdout/stderr split, and the cache:
//  - a GitHub-Actions-shaped job (only ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN): one fetch and one
//    exchange, then the cache, then one fetch and one exchange again once due; the variables
//    missing (exit 5), the token service refusing (exit 4);
//  - azure-devops (SYSTEM_OIDCREQUESTURI, SYSTEM_ACCESSTOKEN), env:NAME (GitLab's id_tokens),
//    file:PATH (re-read at every exchange), profile:NAME (another profile's access token); a file
//    writable by others (exit 1) or missing (exit 4), a missing variable (exit 5);
//  - a federation policy that refuses the token: exit 1 with the server's error beside the token's
//    iss, sub, aud and exp, never the token;
//  - 30 concurrent callers on a due profile: one fetch, one exchange;
//  - Databricks workload identity federation at the workspace and account token endpoints, the
//    SDKs' audience defaults, and `.databrickscfg` auth_type github-oidc and env-oidc;
//  - with -v, neither the identity token nor the exchanged one is printed where it must not be.
// Runtime: ~15-25 s (two servers; 30 concurrent processes once).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jose from 'jose';

import {
  cachePath, configPath, freshEnv, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import {
  assertFailed, assertNoneIn, isoSeconds, login, makeDue, MIN_TTL, printedLine,
} from './lib/tokens.mjs';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB_VARS = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
// CI variables of every kind, unset in each test's environment unless the test sets them (the
// tests themselves may run inside a CI job that has them).
const CI_VARS = [...GITHUB_VARS, 'SYSTEM_OIDCREQUESTURI', 'SYSTEM_ACCESSTOKEN', 'SYSTEM_COLLECTIONURI',
  'SYSTEM_TEAMPROJECTID', 'SYSTEM_PLANID', 'SYSTEM_JOBID', 'DATABRICKS_OIDC_TOKEN', 'DATABRICKS_CONFIG_FILE',
  'DATABRICKS_HOST', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_TOKEN'];
const PROCESSES = 30;

const only = (extra = {}) => ({ ...Object.fromEntries(CI_VARS.map((k) => [k, undefined])), ...extra });
const first = (v) => (Array.isArray(v) ? v[0] : v);

// One `[profiles.NAME]` table: every value JSON-quoted (valid TOML for strings and string arrays).
function profile(name, keys) {
  const lines = [`[profiles.${name}]`];
  for (const [k, v] of Object.entries(keys)) if (v !== undefined) lines.push(`${k} = ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

// The exchange requests (token endpoint, token-exchange grant) in `log`.
const exchanges = (log) => log.filter((q) => q.endpoint === 'token' && first(q.params.grant_type) === GRANT);
const fetches = (log) => log.filter((q) => q.endpoint === 'ci_github');

// The one token request of `log` that is an exchange, and its successful answer.
function oneExchange(log, what = 'exchange') {
  const sent = exchanges(log);
  assert.equal(sent.length, 1, `${sent.length} exchanges for ${what}: ${log.map((q) => `${q.endpoint} ${q.status}`).join(', ')}`);
  return sent[0];
}

describe('token exchange (RFC 8693) with CI identity tokens', () => {
  let server;
  let gh;
  let te;
  before(async () => {
    server = await startServer({ tokenExchange: true, ci: true });
    gh = server.ci.github;
    te = server.tokenExchange;
  });
  after(() => server?.stop());

  // A token_exchange profile at the usual issuer.
  const exchangeProfile = (name, keys) => profile(name, {
    host: server.issuer, ca_file: server.ca, grant: 'token_exchange', ...keys,
  });
  const githubEnv = (extra = {}) => freshEnv(server, only({ ...gh.env, ...extra }));

  test('GitHub Actions: one identity-token fetch with the audience, one exchange; then the cache; when due, one of each again', async () => {
    const env = githubEnv();
    writeConfig(env, exchangeProfile('ci', {
      subject_token: 'github-actions', subject_audience: te.defaultAudience, client_id: 'tokenctl', scopes: ['api'],
    }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci'], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '', 'nothing on stderr on success');

    const log = await server.requests();
    const [fetch, ...moreFetches] = fetches(log);
    assert.equal(moreFetches.length, 0, 'exactly one identity-token fetch');
    assert.equal(fetch.method, 'GET');
    assert.equal(fetch.status, 200);
    assert.deepEqual(fetch.query, { kind: 'github', 'api-version': '2.0', audience: te.defaultAudience },
      'the URL as given, with &audience= appended');
    const sent = oneExchange(log);
    assert.equal(sent.status, 200, sent.response);
    assert.ok(log.indexOf(fetch) < log.indexOf(sent), 'fetched before the exchange');
    const { subject_token: subject, ...params } = sent.params;
    assert.deepEqual(params, { grant_type: GRANT, subject_token_type: JWT_TYPE, scope: 'api', client_id: 'tokenctl' });
    assert.equal(sent.authorization ?? null, null, 'no client authentication: the identity token is the credential');
    const claims = jose.decodeJwt(subject);
    assert.deepEqual([claims.iss, claims.sub, claims.aud], [GITHUB_ISSUER, gh.subject, te.defaultAudience]);

    const answer = JSON.parse(sent.response);
    assert.equal(token, answer.access_token);
    const who = (await server.whoami(token)).json();
    assert.deepEqual([who.sub, who.client_id, who.scope], [gh.subject, 'tokenctl', 'api']);
    assert.equal(who.token_exchange.subject_iss, GITHUB_ISSUER);

    // The cache holds the exchanged token, with no refresh token and never the identity token.
    const set = readCache(env).tokens.ci;
    assert.equal(set.access_token, token);
    assert.ok(!set.refresh_token, 'no refresh token kept');
    assert.ok(set.expiry && set.issued_at);
    const lifetime = (Date.parse(set.expiry) - Date.parse(set.issued_at)) / 1000;
    assert.ok(lifetime <= gh.ttl && lifetime >= gh.ttl - 5, `the token lives as long as the identity token (${lifetime} s)`);
    assertNoneIn([subject], [fs.readFileSync(cachePath(env), 'utf8'), fs.readFileSync(configPath(env), 'utf8')], 'the identity token');

    // A second call: the cache, no request at all.
    await server.reset();
    const again = await runTokenctl(['token', '-p', 'ci'], { env });
    assert.equal(printedLine(again), token);
    assert.equal(again.stderr, '');
    assert.deepEqual(await server.requests(), [], 'served from the cache');

    // Due: exactly one new fetch and one new exchange, a new token.
    makeDue(env, 'ci');
    await server.reset();
    const renewed = await runTokenctl(['token', '-p', 'ci', '--min-ttl', MIN_TTL], { env });
    const next = printedLine(renewed);
    assert.equal(renewed.stderr, '');
    const log2 = await server.requests();
    assert.equal(fetches(log2).length, 1, 'one new identity-token fetch');
    assert.equal(fetches(log2)[0].query.audience, te.defaultAudience);
    const sent2 = oneExchange(log2, 'the renewal');
    assert.notEqual(sent2.params.subject_token, subject, 'a new identity token for the new exchange');
    assert.deepEqual(log2.map((q) => q.endpoint), ['ci_github', 'token'], 'no discovery again: the endpoints are kept with the set');
    assert.notEqual(next, token);
    assert.equal(next, JSON.parse(sent2.response).access_token);
    assert.equal(readCache(env).tokens.ci.access_token, next);
    assert.equal((await server.whoami(next)).status, 200);
  });

  test('GitHub Actions variables missing: exit 5 naming them and `permissions: id-token: write`, no request', async () => {
    const keys = { subject_token: 'github-actions', subject_audience: te.defaultAudience, client_id: 'tokenctl', scopes: ['api'] };
    for (const [what, extra] of [['both', {}], ['the request token', { ACTIONS_ID_TOKEN_REQUEST_URL: gh.url }],
      ['the URL', { ACTIONS_ID_TOKEN_REQUEST_TOKEN: gh.requestToken }]]) {
      const env = freshEnv(server, only(extra));
      writeConfig(env, exchangeProfile('ci', keys));
      await server.reset();
      const r = await runTokenctl(['token', '-p', 'ci'], { env });
      assertFailed(r, 5);
      for (const name of GITHUB_VARS) {
        if (!(name in extra)) assert.match(r.stderr, new RegExp(`${name} is not set|${name}(?: and \\w+)? (?:is|are) not set`), `${what}: names ${name}\n${r.stderr}`);
      }
      assert.match(r.stderr, /permissions: id-token: write/);
      assert.equal(fs.existsSync(cachePath(env)), false, 'no cache written');
      assert.deepEqual((await server.requests()).map((q) => `${q.endpoint} ${q.path}`), [], `${what}: no request at all`);
    }
  });

  test('the token service refusing (a wrong request token): exit 4, no exchange, no cache', async () => {
    const env = githubEnv({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-request-token' });
    writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci'], { env });
    assertFailed(r, 4);
    assert.match(r.stderr, /GitHub Actions' token service at \S+\/_ci\/github\/idtoken refused to issue an identity token \(HTTP 401\)/);
    assert.equal(r.stderr.includes('not-the-request-token'), false, 'the request token is not printed');
    assert.equal(r.stderr.includes('?kind='), false, 'the URL is shown without its query');
    const log = await server.requests();
    assert.deepEqual(fetches(log).map((q) => q.status), [401]);
    assert.equal(exchanges(log).length, 0);
    assert.equal(fs.existsSync(cachePath(env)), false);
    // A 5xx from the token service is exit 4 as well.
    const env5 = githubEnv();
    writeConfig(env5, exchangeProfile('ci', { subject_token: 'github-actions', client_id: 'tokenctl', scopes: ['api'] }));
    await server.fault({ path: '/_ci/github/idtoken', mode: '503', count: 5 });
    const r5 = await runTokenctl(['token', '-p', 'ci'], { env: env5 });
    assertFailed(r5, 4);
    assert.equal(exchanges(await server.requests()).length, 0);
    await server.reset();
  });

  test('azure-devops: POST SYSTEM_OIDCREQUESTURI?api-version=7.1 with SYSTEM_ACCESSTOKEN, then the exchange; SYSTEM_ACCESSTOKEN not mapped: exit 5', async () => {
    const az = server.ci.azure;
    const env = freshEnv(server, only(az.env));
    writeConfig(env, exchangeProfile('ado', { subject_token: 'azure-devops', client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const token = printedLine(await runTokenctl(['token', '-p', 'ado'], { env }));
    const log = await server.requests();
    const asked = log.filter((q) => q.endpoint === 'ci_azure');
    assert.deepEqual(asked.map((q) => [q.method, q.query['api-version'], q.status]), [['POST', '7.1', 200]]);
    const sent = oneExchange(log);
    const claims = jose.decodeJwt(sent.params.subject_token);
    assert.deepEqual([claims.iss, claims.sub, claims.aud], [az.issuer, az.subject, 'api://AzureADTokenExchange']);
    assert.equal((await server.whoami(token)).json().sub, az.subject);

    const unmapped = freshEnv(server, only({ SYSTEM_OIDCREQUESTURI: az.env.SYSTEM_OIDCREQUESTURI }));
    writeConfig(unmapped, exchangeProfile('ado', { subject_token: 'azure-devops', client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ado'], { env: unmapped });
    assertFailed(r, 5);
    assert.match(r.stderr, /SYSTEM_ACCESSTOKEN is not set/);
    assert.match(r.stderr, /SYSTEM_ACCESSTOKEN: \$\(System\.AccessToken\)/);
    assert.equal((await server.requests()).filter((q) => q.endpoint === 'ci_azure' || q.endpoint === 'token').length, 0);
  });

  test('env:NAME (GitLab id_tokens): the variable\'s token is exchanged; a missing variable is exit 5', async () => {
    const idToken = await server.idp.mint({ sub: 'project_path:octo-group/octo-project:ref_type:branch:ref:main', aud: te.defaultAudience });
    const env = freshEnv(server, only({ GITLAB_OIDC_TOKEN: idToken }));
    writeConfig(env, exchangeProfile('gl', {
      subject_token: 'env:GITLAB_OIDC_TOKEN', client_id: 'tokenctl', scopes: ['api'], audience: 'https://api.example.test/',
    }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'gl'], { env });
    const token = printedLine(r);
    const log = await server.requests();
    assert.equal(fetches(log).length, 0, 'no CI service asked');
    const sent = oneExchange(log);
    assert.equal(sent.params.subject_token, idToken, 'the variable\'s token, as it is');
    assert.equal(sent.params.subject_token_type, JWT_TYPE);
    assert.equal(sent.params.audience, 'https://api.example.test/');
    const who = (await server.whoami(token)).json();
    assert.deepEqual([who.sub, who.aud], ['project_path:octo-group/octo-project:ref_type:branch:ref:main', 'https://api.example.test/']);

    const missing = freshEnv(server, only());
    writeConfig(missing, exchangeProfile('gl', { subject_token: 'env:GITLAB_OIDC_TOKEN', client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const m = await runTokenctl(['token', '-p', 'gl'], { env: missing });
    assertFailed(m, 5);
    assert.match(m.stderr, /the variable GITLAB_OIDC_TOKEN that should hold the identity token is not set/);
    assert.match(m.stderr, /id_tokens/);
    assert.equal(exchanges(await server.requests()).length, 0);
  });

  test('file:PATH: re-read at every exchange (the second exchange carries the rewritten token); a file writable by others is refused, exit 1', async () => {
    const env = freshEnv(server, only());
    const dir = path.join(env.HOME, 'ci');  // the test's own folder: the secrets scan only names it
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'token');
    const first1 = await server.idp.mint({ sub: 'system:serviceaccount:ci:builder', aud: te.defaultAudience });
    fs.writeFileSync(file, `${first1}\n`, { mode: 0o600 });
    writeConfig(env, exchangeProfile('k8s', { subject_token: `file:${file}`, client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const one = printedLine(await runTokenctl(['token', '-p', 'k8s'], { env }));
    assert.equal(oneExchange(await server.requests()).params.subject_token, first1, 'the file\'s token, trailing newline cut');

    // The kubelet rotates the file (a new file renamed over the old one).
    const second = await server.idp.mint({ sub: 'system:serviceaccount:ci:builder', aud: te.defaultAudience });
    fs.writeFileSync(`${file}.new`, second, { mode: 0o600 });
    fs.renameSync(`${file}.new`, file);
    makeDue(env, 'k8s');
    await server.reset();
    const two = printedLine(await runTokenctl(['token', '-p', 'k8s', '--min-ttl', MIN_TTL], { env }));
    assert.equal(oneExchange(await server.requests(), 'the renewal').params.subject_token, second, 'the new token, read from the file again');
    assert.notEqual(two, one);
    assert.equal((await server.whoami(two)).json().sub, 'system:serviceaccount:ci:builder');

    // Not there (yet; the kubelet writes it soon): exit 4, the cache kept.
    fs.renameSync(file, `${file}.away`);
    makeDue(env, 'k8s');
    await server.reset();
    const gone = await runTokenctl(['token', '-p', 'k8s', '--min-ttl', MIN_TTL], { env });
    assertFailed(gone, 4);
    assert.ok(gone.stderr.includes(`the identity token file ${file} does not exist`), gone.stderr);
    assert.deepEqual(await server.requests(), []);
    fs.renameSync(`${file}.away`, file);

    // Writable by others: refused before it is sent anywhere.
    fs.chmodSync(file, 0o646);
    makeDue(env, 'k8s');
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'k8s', '--min-ttl', MIN_TTL], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, /writable by others \(mode 0?646\)/);
    assert.match(r.stderr, /chmod o-w/);
    assert.deepEqual(await server.requests(), [], 'no request (the endpoints are kept with the set)');
    assert.equal(readCache(env).tokens.k8s.access_token, two, 'the cache kept');
  });

  test('file:PATH writable by others on a first run: refused (exit 1) before any request', async () => {
    const env = freshEnv(server, only());
    const dir = path.join(env.HOME, 'ci');
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, await server.idp.mint({}), { mode: 0o600 });
    fs.chmodSync(file, 0o646);
    writeConfig(env, exchangeProfile('k8s', { subject_token: `file:${file}`, client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'k8s'], { env });
    assertFailed(r, 1);
    assert.match(r.stderr, /writable by others/);
    assert.deepEqual((await server.requests()).map((q) => q.endpoint), []);
  });

  test('profile:NAME: another profile\'s access token, subject_token_type access_token, for another audience', async () => {
    const env = freshEnv(server, only());
    writeConfig(env, [
      profile('user', { host: server.issuer, ca_file: server.ca, client_id: 'tokenctl', scopes: ['openid', 'offline_access', 'profile', 'api'] }),
      exchangeProfile('svc', { subject_token: 'profile:user', client_id: 'tokenctl', scopes: ['api'], audience: 'other-service' }),
    ].join('\n'));
    const user = await login(env, 'user');
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'svc'], { env });
    const token = printedLine(r);
    assert.equal(r.stderr, '');
    const sent = oneExchange(await server.requests());
    assert.equal(sent.params.subject_token, user.access_token);
    assert.equal(sent.params.subject_token_type, AT_TYPE);
    assert.deepEqual([sent.params.audience, sent.params.scope, sent.params.client_id], ['other-service', 'api', 'tokenctl']);
    const who = (await server.whoami(token)).json();
    assert.deepEqual([who.sub, who.aud, who.scope], ['alice', 'other-service', 'api']);
    assert.equal(who.token_exchange.subject_token_type, AT_TYPE);
    const cache = readCache(env).tokens;
    assert.equal(cache.svc.access_token, token);
    assert.equal(cache.user.access_token, user.access_token, 'the other profile\'s set is untouched');
    assert.notEqual(token, user.access_token);
  });

  test('a policy mismatch: exit 1, the server\'s error beside the identity token\'s iss, sub, aud and exp (not verified), never the token', async () => {
    const base = te.policies.find((p) => p.name === 'default');
    const env = githubEnv();
    writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', subject_audience: te.defaultAudience, client_id: 'tokenctl', scopes: ['api'] }));
    try {
      await server.tokenExchange.configure({ policies: [{ ...base, subjects: ['repo:octo-org/octo-repo:environment:prod'] }] });
      await server.reset();
      const r = await runTokenctl(['token', '-p', 'ci'], { env });
      assertFailed(r, 1);
      const sent = oneExchange(await server.requests());
      assert.equal(sent.status, 400);
      const subject = sent.params.subject_token;
      const claims = jose.decodeJwt(subject);
      assert.match(r.stderr, /invalid_grant/);
      assert.ok(r.stderr.includes(JSON.parse(sent.response).error_description), `the server's error_description:\n${r.stderr}`);
      assert.match(r.stderr, /decoded, not verified/);
      for (const part of [`iss=${GITHUB_ISSUER}`, `sub=${gh.subject}`, `aud=${te.defaultAudience}`, `exp=${isoSeconds(claims.exp * 1000)}`]) {
        assert.ok(r.stderr.includes(part), `${part} on stderr:\n${r.stderr}`);
      }
      assert.match(r.stderr, /federation policy/);
      assertNoneIn([subject, subject.split('.')[2], subject.split('.')[1]], [r.stderr, r.stdout], 'the identity token');
      assert.equal(fs.existsSync(cachePath(env)), false);

      // The audience the policy does not accept: the same shape, aud shown.
      await server.tokenExchange.configure({ policies: te.policies });
      writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', subject_audience: 'https://wrong.example.test/aud', client_id: 'tokenctl', scopes: ['api'] }));
      await server.reset();
      const a = await runTokenctl(['token', '-p', 'ci', '-o', 'json'], { env });
      assert.equal(a.code, 1, a.stderr);
      assert.match(a.stderr, /subject_token audience "https:\/\/wrong\.example\.test\/aud" is not accepted/);
      assert.match(a.stderr, /aud=https:\/\/wrong\.example\.test\/aud/);
      const json = JSON.parse(a.stdout);
      assert.equal(json.error.exit_code, 1);
      assert.match(json.error.message, /aud=https:\/\/wrong\.example\.test\/aud/);
      const subject2 = oneExchange(await server.requests()).params.subject_token;
      assertNoneIn([subject2, subject2.split('.')[2]], [a.stderr, a.stdout], 'the identity token');
    } finally {
      await server.tokenExchange.configure({ policies: te.policies });
    }
  });

  test(`${PROCESSES} concurrent token calls on a due exchange profile: one fetch, one exchange, one token for all`, async () => {
    const env = githubEnv();
    writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', subject_audience: te.defaultAudience, client_id: 'tokenctl', scopes: ['api'] }));
    printedLine(await runTokenctl(['token', '-p', 'ci'], { env }));
    makeDue(env, 'ci');
    await server.reset();
    const runs = await Promise.all(Array.from({ length: PROCESSES },
      () => runTokenctl(['token', '-p', 'ci', '--min-ttl', MIN_TTL], { env, timeoutMs: 90000 })));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0, `process ${i}: exit ${r.code}\n${r.stderr}`);
      assert.equal(r.stderr, '', `process ${i}`);
    }
    const printed = new Set(runs.map((r) => r.stdout));
    assert.equal(printed.size, 1, `${printed.size} different tokens printed`);
    const log = await server.requests();
    assert.deepEqual(log.map((q) => [q.endpoint, q.status]), [['ci_github', 200], ['token', 200]], 'one fetch, one exchange');
    assert.equal([...printed][0], `${JSON.parse(log[1].response).access_token}\n`);
    assert.equal(readCache(env).tokens.ci.access_token, JSON.parse(log[1].response).access_token);
  });

  test('a token_exchange profile without scopes sends no scope; without client_id, no client_id', async () => {
    const env = githubEnv();
    writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', subject_audience: te.defaultAudience }));
    await server.reset();
    const r = await runTokenctl(['token', '-p', 'ci'], { env });
    const sent = oneExchange(await server.requests());
    assert.equal(sent.params.scope, undefined, 'no scope');
    assert.equal(sent.params.client_id, undefined, 'no client_id');
    assert.deepEqual(sent.injected, { client_id: 'exchange-public' });
    printedLine(r);
  });

  test('-v: the HTTP exchange on stderr with the identity token, the request token and the issued token redacted', async () => {
    const env = githubEnv();
    writeConfig(env, exchangeProfile('ci', { subject_token: 'github-actions', subject_audience: te.defaultAudience, client_id: 'tokenctl', scopes: ['api'] }));
    await server.reset();
    const r = await runTokenctl(['-v', 'token', '-p', 'ci'], { env });
    const token = printedLine(r);
    const sent = oneExchange(await server.requests());
    const subject = sent.params.subject_token;
    assert.match(r.stderr, /_ci\/github\/idtoken/, 'the fetch is shown');
    assert.match(r.stderr, /grant-type(?:%3A|:)token-exchange|token-exchange/, 'the exchange is shown');
    const secrets = [subject, ...subject.split('.').slice(1), gh.requestToken, token];
    assertNoneIn(secrets, [r.stderr], 'a secret on -v stderr');
    assertNoneIn([subject, subject.split('.')[2]], [r.stdout, fs.readFileSync(cachePath(env), 'utf8'),
      fs.readFileSync(configPath(env), 'utf8')], 'the identity token');
  });
});

describe('Databricks workload identity federation', () => {
  let server;
  let db;
  let gh;
  // Plain http on loopback: a .databrickscfg profile has no ca_file, and tokenctl trusts only the
  // system CAs there.
  before(async () => {
    server = await startServer({ tls: false, databricks: true, tokenExchange: true, ci: true });
    db = server.databricks;
    gh = server.ci.github;
  });
  after(() => server?.stop());

  const workspacePath = () => new URL(db.workspace.token_endpoint).pathname;
  const accountPath = () => new URL(db.account.token_endpoint).pathname;

  test('workspace: {host}/oidc/v1/token, scope all-apis, the service principal\'s client_id; the identity token\'s audience is the workspace token endpoint', async () => {
    const env = freshEnv(server, only(gh.env));
    writeConfig(env, profile('ws', {
      host: db.host, provider: 'databricks', grant: 'token_exchange', subject_token: 'github-actions',
      client_id: db.federationClientId, scopes: ['all-apis'],
    }));
    await server.reset();
    const token = printedLine(await runTokenctl(['token', '-p', 'ws'], { env }));
    const log = await server.requests();
    assert.equal(fetches(log).length, 1);
    assert.equal(fetches(log)[0].query.audience, db.workspace.token_endpoint, 'the SDKs\' default: the workspace token endpoint');
    const sent = oneExchange(log);
    assert.equal(sent.path, workspacePath());
    assert.equal(sent.path, '/oidc/v1/token');
    const { subject_token: subject, ...params } = sent.params;
    assert.deepEqual(params, { grant_type: GRANT, subject_token_type: JWT_TYPE, scope: 'all-apis', client_id: db.federationClientId });
    assert.equal(jose.decodeJwt(subject).aud, db.workspace.token_endpoint);
    const me = await server.scimMe(token);
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json().userName, db.federationClientId, 'the service principal of the policy');
    assert.equal((await server.whoami(token)).json().token_exchange.policy, 'databricks-service-principal');
  });

  test('account: {host}/oidc/accounts/ID/v1/token; the identity token\'s audience is the account id; subject_audience overrides it', async () => {
    const env = freshEnv(server, only(gh.env));
    writeConfig(env, [
      profile('acct', {
        host: db.host, account_id: db.accountId, grant: 'token_exchange', subject_token: 'github-actions',
        client_id: db.federationClientId, scopes: ['all-apis'],
      }),
      profile('acct-aud', {
        host: db.host, account_id: db.accountId, grant: 'token_exchange', subject_token: 'github-actions',
        client_id: db.federationClientId, scopes: ['all-apis'], subject_audience: server.tokenExchange.defaultAudience,
      }),
    ].join('\n'));
    await server.reset();
    const token = printedLine(await runTokenctl(['token', '-p', 'acct'], { env }));
    const log = await server.requests();
    assert.equal(fetches(log)[0].query.audience, db.accountId, 'the SDKs\' default on account hosts: the account id');
    const sent = oneExchange(log);
    assert.equal(sent.path, accountPath());
    assert.equal(sent.path, `/oidc/accounts/${db.accountId}/v1/token`);
    assert.deepEqual([sent.params.scope, sent.params.client_id, sent.params.subject_token_type], ['all-apis', db.federationClientId, JWT_TYPE]);
    assert.equal((await server.whoami(token)).json().iss, db.account.issuer);

    await server.reset();
    printedLine(await runTokenctl(['token', '-p', 'acct-aud'], { env }));
    assert.equal(fetches(await server.requests())[0].query.audience, server.tokenExchange.defaultAudience, 'subject_audience wins');
  });

  test('.databrickscfg: auth_type = github-oidc and env-oidc (oidc_token_env) map onto the same grant', async () => {
    const env = freshEnv(server, only(gh.env));
    const cfg = path.join(env.HOME, '.databrickscfg');
    const wsToken = await server.idp.mint({ sub: 'project_path:octo/proj:ref_type:branch:ref:main', aud: db.workspace.token_endpoint });
    const cfgText = [
      '[gh]', `host = ${db.host}`, 'auth_type = github-oidc', `client_id = ${db.federationClientId}`, 'scopes = all-apis', '',
      '[gl]', `host = ${db.host}`, 'auth_type = env-oidc', 'oidc_token_env = GITLAB_DATABRICKS_TOKEN',
      `client_id = ${db.federationClientId}`, 'scopes = all-apis', '',
      '[acct]', `host = ${db.host}`, `account_id = ${db.accountId}`, 'auth_type = github-oidc', 'scopes = all-apis', '',
    ].join('\n');
    fs.writeFileSync(cfg, cfgText, { mode: 0o600 });
    const dbEnv = { ...env, DATABRICKS_CONFIG_FILE: cfg, GITLAB_DATABRICKS_TOKEN: wsToken };

    await server.reset();
    const a = printedLine(await runTokenctl(['token', '-p', 'gh'], { env: dbEnv }));
    let log = await server.requests();
    assert.equal(fetches(log)[0].query.audience, db.workspace.token_endpoint);
    let sent = oneExchange(log);
    assert.equal(sent.path, workspacePath());
    assert.deepEqual([sent.params.scope, sent.params.client_id], ['all-apis', db.federationClientId]);
    assert.equal((await server.scimMe(a)).json().userName, db.federationClientId);

    await server.reset();
    const b = printedLine(await runTokenctl(['token', '-p', 'gl'], { env: dbEnv }));
    log = await server.requests();
    assert.equal(fetches(log).length, 0);
    sent = oneExchange(log);
    assert.equal(sent.params.subject_token, wsToken);
    assert.equal(sent.path, workspacePath());
    assert.equal((await server.scimMe(b)).status, 200);

    // The Databricks CLI's own command answers from the same cache.
    await server.reset();
    const viaCli = await runTokenctl(['databricks', 'auth', 'token', '--profile', 'gh'], { env: dbEnv });
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.equal(JSON.parse(viaCli.stdout).access_token, a);
    assert.deepEqual(await server.requests(), []);

    await server.reset();
    const c = printedLine(await runTokenctl(['token', '-p', 'acct'], { env: dbEnv }));
    log = await server.requests();
    assert.equal(fetches(log)[0].query.audience, db.accountId);
    assert.equal(oneExchange(log).path, accountPath());
    assert.equal((await server.whoami(c)).json().iss, db.account.issuer);
    assert.equal(fs.readFileSync(cfg, 'utf8'), cfgText, 'tokenctl never writes .databrickscfg');
    assert.deepEqual(fs.readdirSync(env.HOME).filter((n) => n.startsWith('.databrickscfg')), ['.databrickscfg'], 'no .bak either');
  });

  test('Databricks defaults: without scopes only scope=all-apis; account-wide federation (no client_id) sends none', async () => {
    const env = freshEnv(server, only(gh.env));
    const cfg = path.join(env.HOME, '.databrickscfg');
    fs.writeFileSync(cfg, ['[ws]', `host = ${db.host}`, 'auth_type = github-oidc', `client_id = ${db.federationClientId}`, '',
      '[acct]', `host = ${db.host}`, `account_id = ${db.accountId}`, 'auth_type = github-oidc', ''].join('\n'), { mode: 0o600 });
    const dbEnv = { ...env, DATABRICKS_CONFIG_FILE: cfg };
    await server.reset();
    const ws = await runTokenctl(['token', '-p', 'ws'], { env: dbEnv });
    const wsSent = oneExchange(await server.requests());
    assert.equal(wsSent.params.scope, 'all-apis');
    printedLine(ws);
    await server.reset();
    const acct = await runTokenctl(['token', '-p', 'acct'], { env: dbEnv });
    const acctSent = oneExchange(await server.requests());
    assert.equal(acctSent.params.scope, 'all-apis');
    assert.equal(acctSent.params.client_id, undefined, 'account-wide federation names no client');
    printedLine(acct);
  });
});
