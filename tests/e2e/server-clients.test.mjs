// Tests of the test server's private_key_jwt clients (RFC 7523, OpenID Connect Core section 9),
// resource indicators (RFC 8707) with scope narrowing on refresh (RFC 6749 section 6), and hanging
// userinfo and /api/whoami, with a plain node client, without tokenctl.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { httpRequest, startServer } from './lib/harness.mjs';
import {
  clientAssertion, clientKeyPair, codeFlow, redeemCode, tokenRequest,
} from './lib/server-test-flows.mjs';

const now = () => Math.floor(Date.now() / 1000);

describe('private_key_jwt clients and resource indicators', () => {
  let server;
  let rsa;
  let ec;
  before(async () => {
    [rsa, ec] = await Promise.all([clientKeyPair('RS256'), clientKeyPair('ES256')]);
    server = await startServer({
      resources: true, assertionMaxLifetime: 300,
      extraClients: [{
        client_id: 'pkjwt-rsa', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [rsa.publicJwk] },
        grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api',
      }],
    });
  });
  after(() => server?.stop());

  const pk = (keys, clientId, aud, options) => clientAssertion(keys, clientId, aud ?? server.endpoints.token_endpoint, options);
  const cc = async (keys, clientId, options, params = {}) => tokenRequest(server, server.endpoints.token_endpoint,
    { grant_type: 'client_credentials', ...params }, { method: 'private_key_jwt', assertion: await pk(keys, clientId, options?.aud, options) });

  test('client credentials with an RSA key (extraClients); the log decodes every assertion', async () => {
    await server.reset();
    for (let i = 0; i < 3; i += 1) {
      const res = await cc(rsa, 'pkjwt-rsa', {}, { scope: 'api' });
      assert.equal(res.status, 200, res.text);
      assert.equal((await server.whoami(res.json().access_token)).json().client_id, 'pkjwt-rsa');
    }
    const log = await server.requests('token');
    const assertions = log.map((q) => q.clientAssertion);
    assert.equal(assertions.length, 3);
    for (const a of assertions) {
      assert.deepEqual([a.alg, a.kid, a.iss, a.sub, a.aud], ['RS256', rsa.kid, 'pkjwt-rsa', 'pkjwt-rsa', server.endpoints.token_endpoint]);
      assert.ok(a.lifetime > 0 && a.lifetime <= 300, String(a.lifetime));
      assert.equal(a.header.typ, 'JWT');
      assert.equal(typeof a.claims.jti, 'string');
    }
    assert.equal(new Set(assertions.map((a) => a.jti)).size, 3, 'every jti differs');
  });

  test('what the server refuses: replay, wrong key, wrong aud, expired, too long-lived, no jti', async () => {
    const assertion = await pk(rsa, 'pkjwt-rsa');
    const send = (a) => tokenRequest(server, server.endpoints.token_endpoint, { grant_type: 'client_credentials' },
      { method: 'private_key_jwt', assertion: a });
    assert.equal((await send(assertion)).status, 200);
    const replay = await send(assertion);
    assert.equal(replay.status, 401, 'a jti is accepted once');
    assert.equal(replay.json().error, 'invalid_client');
    const other = await clientKeyPair('RS256');
    assert.equal((await send(await clientAssertion({ ...other, kid: rsa.kid }, 'pkjwt-rsa', server.endpoints.token_endpoint))).status, 401);
    assert.equal((await send(await pk(rsa, 'pkjwt-rsa', 'https://elsewhere.example.test/token'))).status, 401);
    assert.equal((await send(await pk(rsa, 'pkjwt-rsa', server.issuer))).status, 200, 'the issuer is an accepted aud');
    assert.equal((await send(await pk(rsa, 'pkjwt-rsa', undefined, { iat: now() - 120, life: 60 }))).status, 401, 'expired a minute ago');
    // oidc-provider's clockTolerance is 15 s: an assertion that expired 5 s ago still passes.
    assert.equal((await send(await pk(rsa, 'pkjwt-rsa', undefined, { iat: now() - 65, life: 60 }))).status, 200);
    assert.equal((await send(await pk(rsa, 'pkjwt-rsa', undefined, { life: 600 }))).status, 401, 'assertionMaxLifetime 300');
    const noJti = await send(await clientAssertion(rsa, 'pkjwt-rsa', server.endpoints.token_endpoint, { jti: '' }));
    assert.equal(noJti.status, 401);
  });

  test('a client added at run time (EC key): client credentials, and the code flow with refresh and revocation', async () => {
    await server.addClient({
      client_id: 'pkjwt-ec', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ec.publicJwk] },
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    });
    const ok = await cc(ec, 'pkjwt-ec');
    assert.equal(ok.status, 200, ok.text);
    await server.addClient({
      client_id: 'pkjwt-app', application_type: 'native', token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ec.publicJwk] }, grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'],
    });
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint, clientId: 'pkjwt-app' });
    assert.ok(flow.callback?.code, JSON.stringify(flow.callback));
    const auth = async () => ({ method: 'private_key_jwt', assertion: await pk(ec, 'pkjwt-app') });
    const tokens = await redeemCode(server, server.endpoints.token_endpoint, flow, await auth());
    assert.equal(tokens.status, 200, tokens.text);
    assert.ok(tokens.json().refresh_token);
    const refreshed = await tokenRequest(server, server.endpoints.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: tokens.json().refresh_token }, await auth());
    assert.equal(refreshed.status, 200, refreshed.text);
    const revoked = await tokenRequest(server, server.endpoints.revocation_endpoint,
      { token: refreshed.json().refresh_token, token_type_hint: 'refresh_token' },
      { method: 'private_key_jwt', assertion: await pk(ec, 'pkjwt-app', server.endpoints.revocation_endpoint) });
    assert.equal(revoked.status, 200, revoked.text);
    const [rev] = await server.requests('revocation');
    assert.equal(rev.clientAssertion.aud, server.endpoints.revocation_endpoint);
    assert.equal(rev.clientAssertion.alg, 'ES256');
    // Without an assertion the client cannot authenticate.
    const none = await tokenRequest(server, server.endpoints.token_endpoint, { grant_type: 'client_credentials' }, { method: 'none', clientId: 'pkjwt-ec' });
    assert.equal(none.status, 401);
  });

  test('invalid client metadata is refused with the reason; static clients cannot be replaced', async () => {
    await assert.rejects(server.addClient({
      client_id: 'no-keys', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [],
    }), /400 .*jwks/);
    await assert.rejects(server.addClient({ client_id: 'tokenctl', token_endpoint_auth_method: 'none' }), /static client/);
    await assert.rejects(server.addClient({ client_id: 'x' }, { mount: 'nowhere' }), /no mount nowhere/);
  });

  test('refresh with resource= gives an access token for that resource; introspection shows aud and scope', async () => {
    assert.deepEqual(Object.keys(server.resources), ['https://api.example.test/', 'https://jwt-api.example.test/']);
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint, scope: 'openid offline_access profile api' });
    const login = (await redeemCode(server, server.endpoints.token_endpoint, flow, { method: 'none', clientId: 'tokenctl' })).json();
    // The login's own access token is as before: no audience, for userinfo.
    assert.equal((await server.userinfo(login.access_token)).json().sub, 'alice');
    assert.equal((await server.introspect(login.access_token)).aud, undefined);
    let rt = login.refresh_token;
    const refresh = async (params) => {
      const res = await tokenRequest(server, server.endpoints.token_endpoint,
        { grant_type: 'refresh_token', refresh_token: rt, ...params }, { method: 'none', clientId: 'tokenctl' });
      if (res.status === 200) {
        assert.notEqual(res.json().refresh_token, rt, 'rotation stays on');
        rt = res.json().refresh_token;
      }
      return res;
    };
    const api = await refresh({ resource: 'https://api.example.test/' });
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json().scope, 'api');
    const intro = await server.introspect(api.json().access_token);
    assert.deepEqual([intro.active, intro.aud, intro.scope, intro.sub], [true, 'https://api.example.test/', 'api', 'alice']);
    assert.equal((await server.whoami(api.json().access_token)).json().aud, 'https://api.example.test/');

    // RFC 6749 section 6: a narrower scope.
    const narrow = await refresh({ scope: 'openid profile' });
    assert.equal(narrow.status, 200, narrow.text);
    assert.equal(narrow.json().scope, 'openid profile');
    assert.equal((await server.introspect(narrow.json().access_token)).scope, 'openid profile');
    const wider = await refresh({ scope: 'openid email' });
    assert.equal(wider.json().error, 'invalid_scope');

    // A JWT access token for the other resource server, accepted by /api/whoami.
    const jwt = await refresh({ resource: 'https://jwt-api.example.test/' });
    assert.equal(jwt.status, 200, jwt.text);
    assert.equal(jwt.json().access_token.split('.').length, 3);
    const who = (await server.whoami(jwt.json().access_token)).json();
    assert.deepEqual([who.format, who.aud, who.sub, who.scope], ['jwt', 'https://jwt-api.example.test/', 'alice', 'api']);
    const unknown = await refresh({ resource: 'https://unknown.example.test/' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json().error, 'invalid_target');

    // Client credentials may ask for a resource too.
    const ccRes = await tokenRequest(server, server.endpoints.token_endpoint,
      { grant_type: 'client_credentials', scope: 'api', resource: 'https://api.example.test/' },
      { method: 'client_secret_basic', clientId: 'ci-runner', secret: server.ciSecret });
    assert.equal(ccRes.status, 200, ccRes.text);
    assert.equal((await server.whoami(ccRes.json().access_token)).json().aud, 'https://api.example.test/');
  });

  test('userinfo and /api/whoami hang on request (the hang fault), then answer again after reset', async () => {
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint });
    const { access_token: token } = (await redeemCode(server, server.endpoints.token_endpoint, flow, { method: 'none', clientId: 'tokenctl' })).json();
    await server.fault({ path: '/api/whoami', mode: 'hang' });
    await server.fault({ path: '/me', mode: 'hang' });
    const headers = { authorization: `Bearer ${token}` };
    await assert.rejects(httpRequest(`${server.origin}/api/whoami`, { ca: server.ca, headers, timeoutMs: 1500 }), /no answer in 1500 ms/);
    await assert.rejects(httpRequest(server.endpoints.userinfo_endpoint, { ca: server.ca, headers, timeoutMs: 1500 }), /no answer in 1500 ms/);
    const hung = await server.requests();
    assert.deepEqual(hung.slice(-2).map((q) => [q.endpoint, q.fault]), [['whoami', 'hang'], ['userinfo', 'hang']]);
    await server.reset();
    assert.equal((await server.whoami(token)).status, 200);
    assert.equal((await server.userinfo(token)).json().sub, 'alice');
  });
});

describe('hang option', () => {
  test('hang: [paths] never answers those paths, even after reset', async () => {
    const server = await startServer({ tls: false, hang: ['/me', '/api/whoami'] });
    try {
      const url = server.endpoints.userinfo_endpoint;
      await assert.rejects(httpRequest(url, { timeoutMs: 800, headers: { authorization: 'Bearer x' } }), /no answer/);
      await server.reset();
      await assert.rejects(httpRequest(`${server.origin}/api/whoami`, { timeoutMs: 800 }), /no answer/);
      assert.equal((await httpRequest(`${server.issuer}/.well-known/openid-configuration`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('storage', () => {
  test('an expired device code is still found, so the poll is told expired_token (as with oidc-provider\'s own adapter)', async () => {
    const server = await startServer({ tls: false, deviceCodeTTL: 2 });
    try {
      const device = (await tokenRequest(server, server.endpoints.device_authorization_endpoint,
        { scope: 'openid' }, { method: 'none', clientId: 'tokenctl' })).json();
      assert.equal(device.expires_in <= 2, true);
      await new Promise((r) => setTimeout(r, 3000));
      const poll = await tokenRequest(server, server.endpoints.token_endpoint,
        { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code },
        { method: 'none', clientId: 'tokenctl' });
      assert.equal(poll.status, 400);
      assert.equal(poll.json().error, 'expired_token');
    } finally {
      await server.stop();
    }
  });
});
