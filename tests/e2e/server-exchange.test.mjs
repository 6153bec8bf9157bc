// Tests of the test server's RFC 8693 token exchange, its test identity provider and the CI
// identity-token services (startServer({tokenExchange, ci, databricks})), with a plain node
// client, without tokenctl: every check of a subject token fails with its own error_description,
// the issued token follows the subject token's expiry and is accepted by /api/whoami and SCIM /Me,
// an access token can be exchanged for one with another audience, and Databricks federation works
// at the workspace and account token endpoints.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jose from 'jose';

import { httpRequest, startServer } from './lib/harness.mjs';
import { codeFlow, redeemCode, tokenRequest } from './lib/server-test-flows.mjs';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const now = () => Math.floor(Date.now() / 1000);

// Start the server with its secrets recorder in a folder of our own when the run records nowhere,
// so that the test can read what it recorded (the child's issued-PID.jsonl).
let ownRecord = null;
async function startRecordedServer(options) {
  if (!process.env.TOKENCTL_E2E_RECORD) {
    ownRecord = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-record-'));
    process.on('exit', () => fs.rmSync(ownRecord, { recursive: true, force: true }));
    process.env.TOKENCTL_E2E_RECORD = ownRecord;
    try {
      return await startServer(options);
    } finally {
      delete process.env.TOKENCTL_E2E_RECORD;
    }
  }
  return startServer(options);
}

function recordedSecrets(server) {
  const dir = ownRecord || process.env.TOKENCTL_E2E_RECORD;
  const file = path.join(dir, `issued-${server.child.pid}.jsonl`);
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => JSON.parse(l).secrets);
}

describe('token exchange, identity provider and CI services', () => {
  let server;
  let te;
  const exchange = (params, auth = {}, endpoint = server.endpoints.token_endpoint) => tokenRequest(server, endpoint,
    { grant_type: GRANT, subject_token_type: JWT_TYPE, ...params }, auth);
  const expectError = async (res, error, pattern) => {
    assert.equal(res.status, error === 'invalid_client' ? 401 : 400, res.text);
    assert.equal(res.json().error, error, res.text);
    if (pattern) assert.match(res.json().error_description, pattern);
  };

  before(async () => {
    server = await startRecordedServer({ tokenExchange: true, ci: true, databricks: true });
    te = server.tokenExchange;
  });
  after(() => server?.stop());

  test('the identity provider: JWKS and discovery at {origin}/idp, minted tokens verify against them', async () => {
    const jwks = (await httpRequest(server.idp.jwksUri, { ca: server.ca })).json();
    assert.deepEqual(jwks, server.idp.jwks);
    const disco = (await httpRequest(`${server.idp.issuer}/.well-known/openid-configuration`, { ca: server.ca })).json();
    assert.equal(disco.issuer, server.idp.issuer);
    assert.equal(disco.jwks_uri, server.idp.jwksUri);
    const token = await server.idp.mint({ sub: 'someone', aud: 'anything', exp: now() + 30 });
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks));
    assert.equal(protectedHeader.alg, 'RS256');
    assert.deepEqual([payload.iss, payload.sub, payload.aud], [server.idp.issuer, 'someone', 'anything']);
    assert.ok(payload.jti);
    const noExp = jose.decodeJwt(await server.idp.mint({ exp: null }));
    assert.equal('exp' in noExp, false);
    const rogue = await server.idp.mint({}, { untrusted: true });
    await assert.rejects(jose.jwtVerify(rogue, jose.createLocalJWKSet(jwks)));
  });

  test('GitHub Actions: GET URL&audience= with the request token answers {value: JWT}', async () => {
    const gh = server.ci.github;
    assert.match(gh.env.ACTIONS_ID_TOKEN_REQUEST_URL, /\?kind=github&/);
    const get = (url, token) => httpRequest(url, { ca: server.ca, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const res = await get(`${gh.url}&audience=${encodeURIComponent('https://example.test/x y')}`, gh.requestToken);
    assert.equal(res.status, 200, res.text);
    const claims = jose.decodeJwt(res.json().value);
    assert.equal(claims.iss, 'https://token.actions.githubusercontent.com');
    assert.equal(claims.sub, 'repo:octo-org/octo-repo:ref:refs/heads/main');
    assert.equal(claims.aud, 'https://example.test/x y');
    assert.equal(claims.exp - claims.iat, 300);
    assert.equal(claims.repository, 'octo-org/octo-repo');
    await jose.jwtVerify(res.json().value, jose.createLocalJWKSet(server.idp.jwks), { audience: 'https://example.test/x y' });
    assert.equal(jose.decodeJwt((await get(gh.url, gh.requestToken)).json().value).aud, 'https://github.com/octo-org');
    assert.equal((await get(`${gh.url}&audience=a`, 'wrong')).status, 401);
    assert.equal((await get(`${gh.url}&audience=a`)).status, 401);
    const log = await server.requests('ci_github');
    assert.equal(log.length, 4);
    assert.equal(log[0].query.audience, 'https://example.test/x y');
    assert.equal(log[0].query.kind, 'github');
    // configure() changes what it issues.
    await server.ci.configure({ github: { subject: 'repo:octo-org/octo-repo:environment:prod', ttl: 60 } });
    const prod = jose.decodeJwt((await get(`${gh.url}&audience=a`, gh.requestToken)).json().value);
    assert.deepEqual([prod.sub, prod.exp - prod.iat], ['repo:octo-org/octo-repo:environment:prod', 60]);
    await server.ci.configure({ github: { subject: gh.subject, ttl: 300 } });
  });

  test('Azure DevOps: POST SYSTEM_OIDCREQUESTURI?api-version=7.1 with SYSTEM_ACCESSTOKEN answers {oidcToken}', async () => {
    const az = server.ci.azure;
    const post = (url, token, method = 'POST') => httpRequest(url, {
      method, ca: server.ca, body: method === 'POST' ? '' : undefined,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const res = await post(`${az.env.SYSTEM_OIDCREQUESTURI}?api-version=7.1`, az.env.SYSTEM_ACCESSTOKEN);
    assert.equal(res.status, 200, res.text);
    const claims = jose.decodeJwt(res.json().oidcToken);
    assert.equal(claims.aud, 'api://AzureADTokenExchange');
    assert.equal(claims.iss, az.issuer);
    assert.match(claims.iss, /^https:\/\/vstoken\.dev\.azure\.com\/[0-9a-f-]{36}$/);
    assert.equal(claims.sub, 'sc://octo-org/octo-project/octo-connection');
    assert.equal((await post(`${az.url}?api-version=7.1`, 'wrong')).status, 401);
    assert.equal((await post(`${az.url}?api-version=7.1`, az.accessToken, 'GET')).status, 405);
    assert.equal((await post(az.url, az.accessToken)).status, 400, 'api-version is required');
    assert.equal((await server.requests('ci_azure')).length, 4);
  });

  test('a JWT subject token without client_id: access token only, expiry follows the subject token', async () => {
    await server.reset();
    const subject = await server.idp.mint({ sub: 'repo:octo-org/octo-repo:ref:refs/heads/main', exp: now() + 120 });
    const res = await exchange({ subject_token: subject, audience: 'https://api.example.test/' });
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.equal(body.issued_token_type, AT_TYPE);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.refresh_token, undefined);
    assert.ok(body.expires_in <= 120 && body.expires_in >= 110, String(body.expires_in));
    const who = (await server.whoami(body.access_token)).json();
    assert.equal(who.sub, 'repo:octo-org/octo-repo:ref:refs/heads/main');
    assert.equal(who.aud, 'https://api.example.test/');
    assert.equal(who.client_id, te.publicClientId);
    assert.equal(who.token_exchange.subject_iss, server.idp.issuer);
    assert.equal(who.token_exchange.policy, 'default');
    assert.ok(who.exp - now() <= 120);
    const [logged] = await server.requests('token');
    assert.equal(logged.params.client_id, undefined, 'the log keeps the request as sent');
    assert.deepEqual(logged.injected, { client_id: 'exchange-public' });
    // Without audience: no aud; the ttl (3600) caps a long-lived subject token.
    const long = await exchange({ subject_token: await server.idp.mint({ exp: now() + 7200 }) });
    assert.equal(long.status, 200, long.text);
    assert.equal(long.json().expires_in, 3600);
    assert.equal((await server.whoami(long.json().access_token)).json().aud, undefined);
    // Introspection shows the audience and who the token is for.
    const intro = await server.introspect(body.access_token, { clientId: 'ci-runner', secret: server.ciSecret });
    assert.equal(intro.active, true);
    assert.equal(intro.aud, 'https://api.example.test/');
    assert.equal(intro.sub, 'repo:octo-org/octo-repo:ref:refs/heads/main');
  });

  test('with client_id (public client tokenctl) and with a confidential client (exchange-app, Basic)', async () => {
    const subject = await server.idp.mint({ sub: 'ci-job' });
    const pub = await exchange({ subject_token: subject }, { method: 'none', clientId: 'tokenctl' });
    assert.equal(pub.status, 200, pub.text);
    assert.equal((await server.whoami(pub.json().access_token)).json().client_id, 'tokenctl');
    const conf = { method: 'client_secret_basic', clientId: te.confidentialClientId, secret: te.confidentialSecret };
    const ok = await exchange({ subject_token: subject, scope: 'api' }, conf);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json().scope, 'api');
    await expectError(await exchange({ subject_token: subject }, { ...conf, secret: 'wrong' }), 'invalid_client');
    // A client without the grant is refused.
    const cc = await exchange({ subject_token: subject }, { method: 'client_secret_basic', clientId: 'ci-runner', secret: server.ciSecret });
    assert.equal(cc.status, 400);
  });

  test('every check of a JWT subject token fails with its own error_description', async () => {
    const mint = (claims, options) => server.idp.mint(claims, options);
    await expectError(await exchange({}), 'invalid_request', /subject_token is missing/);
    await expectError(await exchange({ subject_token: 'x', subject_token_type: undefined }), 'invalid_request', /subject_token_type is missing/);
    await expectError(await exchange({ subject_token: await mint(), subject_token_type: 'urn:example:saml' }),
      'invalid_request', /subject_token_type urn:example:saml is not supported/);
    await expectError(await exchange({ subject_token: await mint(), requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
      'invalid_request', /requested_token_type/);
    await expectError(await exchange({ subject_token: await mint(), actor_token: await mint(), actor_token_type: JWT_TYPE }),
      'invalid_request', /actor_token/);
    await expectError(await exchange({ subject_token: 'not.a.jwt' }), 'invalid_grant', /not a JWT/);
    await expectError(await exchange({ subject_token: await mint({}, { alg: 'none' }) }), 'invalid_grant', /not signed/);
    await expectError(await exchange({ subject_token: await mint({}, { untrusted: true }) }), 'invalid_grant', /signature does not verify/);
    await expectError(await exchange({ subject_token: await mint({ iss: 'https://evil.example.test' }) }), 'invalid_grant', /issuer "https:\/\/evil.example.test" is not trusted/);
    await expectError(await exchange({ subject_token: await mint({ exp: null }) }), 'invalid_grant', /no exp/);
    await expectError(await exchange({ subject_token: await mint({ iat: now() - 120, exp: now() - 60 }) }), 'invalid_grant', /expired \d+ s ago/);
    await expectError(await exchange({ subject_token: await mint({ nbf: now() + 300 }) }), 'invalid_grant', /not valid before/);
    await expectError(await exchange({ subject_token: await mint({ aud: 'someone-else' }) }), 'invalid_grant', /audience "someone-else" is not accepted/);
    await expectError(await exchange({ subject_token: await mint({ sub: null }) }), 'invalid_grant', /no sub/);
    await expectError(await exchange({ subject_token: await mint(), audience: 'unknown-api' }), 'invalid_target', /audience unknown-api is not a known target/);
    await expectError(await exchange({ subject_token: await mint(), resource: 'not a uri' }), 'invalid_target', /absolute URI/);
    await expectError(await exchange({ subject_token: await mint(), audience: 'https://api.example.test/', resource: 'https://other-api.example.test/' }),
      'invalid_target', /one token has one audience/);
    await expectError(await exchange({ subject_token: await mint(), scope: 'offline_access' }), 'invalid_scope', /offline_access/);
    // audience and resource naming the same target are one target.
    const same = await exchange({ subject_token: await mint(), audience: 'https://api.example.test/', resource: 'https://api.example.test' });
    assert.equal(same.status, 200, same.text);
  });

  test('the subject policy is configurable at run time (exact subjects and * patterns)', async () => {
    const base = te.policies.find((p) => p.name === 'default');
    try {
      await server.tokenExchange.configure({ policies: [{ ...base, subjects: ['repo:octo-org/octo-repo:ref:refs/heads/main', 'repo:octo-org/*:environment:prod'] }] });
      const ok = await exchange({ subject_token: await server.idp.mint({ sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }) });
      assert.equal(ok.status, 200, ok.text);
      const glob = await exchange({ subject_token: await server.idp.mint({ sub: 'repo:octo-org/other:environment:prod' }) });
      assert.equal(glob.status, 200, glob.text);
      await expectError(await exchange({ subject_token: await server.idp.mint({ sub: 'repo:octo-org/octo-repo:ref:refs/heads/feature' }) }),
        'invalid_grant', /subject "repo:octo-org\/octo-repo:ref:refs\/heads\/feature" is not allowed by the federation policy/);
      await server.tokenExchange.configure({ policies: [] });
      await expectError(await exchange({ subject_token: await server.idp.mint() }), 'invalid_grant', /no federation policy applies/);
    } finally {
      await server.tokenExchange.configure({ policies: te.policies });
    }
  });

  test('GitHub Actions token -> exchange, end to end', async () => {
    const gh = server.ci.github;
    const fetched = await httpRequest(`${gh.url}&audience=${te.defaultAudience}`, { ca: server.ca, headers: { authorization: `Bearer ${gh.requestToken}` } });
    const res = await exchange({ subject_token: fetched.json().value });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json().expires_in <= 300);
    assert.equal((await server.whoami(res.json().access_token)).json().sub, gh.subject);
  });

  test('an access token subject: narrowing to another audience and scope (tokenctl --audience)', async () => {
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint, scope: 'openid offline_access profile api' });
    const login = (await redeemCode(server, server.endpoints.token_endpoint, flow, { method: 'none', clientId: 'tokenctl' })).json();
    const tokenctl = { method: 'none', clientId: 'tokenctl' };
    const res = await exchange({ subject_token: login.access_token, subject_token_type: AT_TYPE, audience: 'other-service' }, tokenctl);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().refresh_token, undefined);
    assert.equal(res.json().scope, 'openid offline_access profile api');
    const who = (await server.whoami(res.json().access_token)).json();
    assert.deepEqual([who.sub, who.aud, who.client_id], ['alice', 'other-service', 'tokenctl']);
    assert.equal(who.token_exchange.subject_token_type, AT_TYPE);
    const narrow = await exchange({ subject_token: login.access_token, subject_token_type: AT_TYPE, audience: 'other-service', scope: 'api' }, tokenctl);
    assert.equal(narrow.json().scope, 'api');
    assert.equal((await server.introspect(narrow.json().access_token)).scope, 'api');
    await expectError(await exchange({ subject_token: login.access_token, subject_token_type: AT_TYPE, scope: 'api email' }, tokenctl),
      'invalid_scope', /email exceeds the subject token's scope/);
    await expectError(await exchange({ subject_token: 'no-such-token', subject_token_type: AT_TYPE }, tokenctl),
      'invalid_grant', /not an active access token/);
    // An access token of another issuer (Databricks) is not a subject token here.
    const sp = server.databricks.servicePrincipal;
    const dbx = (await tokenRequest(server, server.databricks.workspace.token_endpoint, { grant_type: 'client_credentials', scope: 'all-apis' },
      { method: 'client_secret_basic', clientId: sp.clientId, secret: sp.secret })).json();
    await expectError(await exchange({ subject_token: dbx.access_token, subject_token_type: AT_TYPE }, tokenctl),
      'invalid_grant', /access token of .*\/oidc, not of this issuer/);
    // A revoked access token is refused.
    await tokenRequest(server, server.endpoints.revocation_endpoint, { token: login.access_token }, tokenctl);
    await expectError(await exchange({ subject_token: login.access_token, subject_token_type: AT_TYPE }, tokenctl),
      'invalid_grant', /not an active access token/);
  });

  test('Databricks federation: workspace with a service principal policy, account-wide without client_id', async () => {
    const db = server.databricks;
    // The SDKs' default audience at a workspace is its token endpoint; at an account, the account id.
    const wsSubject = await server.idp.mint({ iss: server.ci.github.issuer, sub: 'repo:octo-org/octo-repo:ref:refs/heads/main', aud: db.workspace.token_endpoint, exp: now() + 600 });
    const ws = await exchange({ subject_token: wsSubject, scope: 'all-apis' }, { method: 'none', clientId: db.federationClientId }, db.workspace.token_endpoint);
    assert.equal(ws.status, 200, ws.text);
    assert.equal(ws.json().scope, 'all-apis');
    assert.ok(ws.json().expires_in <= 600);
    const me = await server.scimMe(ws.json().access_token);
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json().userName, db.federationClientId, 'the service principal of the policy');
    const who = (await server.whoami(ws.json().access_token)).json();
    assert.deepEqual([who.iss, who.token_exchange.policy], [db.workspace.issuer, 'databricks-service-principal']);

    const acctSubject = await server.idp.mint({ aud: db.accountId });
    const acct = await exchange({ subject_token: acctSubject, scope: 'all-apis' }, {}, db.account.token_endpoint);
    assert.equal(acct.status, 200, acct.text);
    assert.equal((await server.whoami(acct.json().access_token)).json().iss, db.account.issuer);
    const [logged] = (await server.requests('token')).filter((q) => q.path === new URL(db.account.token_endpoint).pathname).slice(-1);
    assert.deepEqual(logged.injected, { client_id: 'exchange-public' });

    // A service principal policy that names the subject: others are refused for that client_id
    // only; the account-wide policy still applies without client_id.
    const policies = te.policies.map((p) => (p.clientId ? { ...p, subjects: ['repo:octo-org/octo-repo:environment:prod'] } : p));
    try {
      await server.tokenExchange.configure({ policies });
      await expectError(await exchange({ subject_token: wsSubject, scope: 'all-apis' }, { method: 'none', clientId: db.federationClientId }, db.workspace.token_endpoint),
        'invalid_grant', /is not allowed by the federation policy \(allowed: repo:octo-org\/octo-repo:environment:prod\) \(policy databricks-service-principal\)/);
      assert.equal((await exchange({ subject_token: wsSubject, scope: 'all-apis' }, {}, db.workspace.token_endpoint)).status, 200);
    } finally {
      await server.tokenExchange.configure({ policies: te.policies });
    }
    await expectError(await exchange({ subject_token: wsSubject, scope: 'all-apis offline_access' }, {}, db.workspace.token_endpoint), 'invalid_scope');
  });

  test('the secrets recorder has every identity token, request token and client secret', async () => {
    const secrets = recordedSecrets(server);
    const kinds = new Set(secrets.map((s) => s.kind));
    for (const kind of ['identity_token', 'ci_request_token', 'client_secret', 'access_token']) assert.ok(kinds.has(kind), kind);
    const values = new Set(secrets.map((s) => s.value));
    assert.ok(values.has(server.ci.github.requestToken));
    assert.ok(values.has(server.ci.azure.accessToken));
    assert.ok(values.has(te.confidentialSecret));
    assert.ok(values.has(server.databricks.servicePrincipal.secret));
    const minted = await server.idp.mint({ sub: 'recorded' });
    assert.ok(recordedSecrets(server).some((s) => s.kind === 'identity_token' && s.value === minted));
  });
});
