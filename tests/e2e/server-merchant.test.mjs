// Tests of the test server's merchant and marketing shapes and of the refresh-expiry field
// (startServer({shape, refreshExpiresIn})), with a plain node client, without tokenctl: servers
// without discovery, confidential clients that accept only client_secret_post, a client
// credentials client that has no scope, and refresh_token_expires_in / refresh_expires_in that
// agree with the refresh token's real expiry.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { httpRequest, startServer } from './lib/harness.mjs';
import { codeFlow, redeemCode, tokenRequest } from './lib/server-test-flows.mjs';

const YEAR = 365 * 24 * 3600;
const near = (actual, expected, slack = 5) => assert.ok(Math.abs(actual - expected) <= slack, `${actual} is not ${expected} ± ${slack}`);

describe('merchant and marketing shapes', () => {
  let server;
  let merchantPost;
  before(async () => {
    server = await startServer({ shape: ['merchant', 'marketing'] });
    merchantPost = { method: 'client_secret_post', clientId: 'merchant-app', secret: server.merchant.secret };
  });
  after(() => server?.stop());

  test('no discovery document: both well-known paths answer 404; the handle names the endpoints', async () => {
    assert.equal(server.discovery, false);
    for (const p of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/anything']) {
      const res = await httpRequest(`${server.origin}${p}`, { ca: server.ca });
      assert.equal(res.status, 404, p);
    }
    assert.equal(server.merchant.clientId, 'merchant-app');
    assert.equal(server.merchant.authorizationEndpoint, `${server.issuer}/auth`);
    assert.equal(server.merchant.tokenEndpoint, `${server.issuer}/token`);
    assert.equal(server.merchant.revocationEndpoint, `${server.issuer}/token/revocation`);
    assert.equal(server.endpoints.token_endpoint, server.merchant.tokenEndpoint);
    assert.equal(server.marketing.tokenEndpoint, server.merchant.tokenEndpoint);
    assert.ok(server.merchant.secret.length >= 24);
  });

  test('merchant-app: code flow with PKCE and client_secret_post; Basic is 401 invalid_client', async () => {
    const flow = await codeFlow(server, {
      authorizationEndpoint: server.merchant.authorizationEndpoint, clientId: 'merchant-app',
    });
    assert.equal(flow.callback.iss, server.issuer);
    assert.ok(flow.callback.code, JSON.stringify(flow.callback));
    const basic = await redeemCode(server, server.merchant.tokenEndpoint, flow,
      { ...merchantPost, method: 'client_secret_basic' });
    assert.equal(basic.status, 401, basic.text);
    assert.equal(basic.json().error, 'invalid_client');
    assert.match(basic.json().error_description, /client_secret_post/);
    assert.match(basic.headers['www-authenticate'], /^Basic /);
    const res = await redeemCode(server, server.merchant.tokenEndpoint, flow, merchantPost);
    assert.equal(res.status, 200, res.text);
    const tokens = res.json();
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.refresh_token);
    near(tokens.refresh_token_expires_in, YEAR);
    const who = await server.whoami(tokens.access_token);
    assert.equal(who.json().client_id, 'merchant-app');
    assert.equal(who.json().sub, 'alice');

    // The field agrees with the refresh token's real expiry (introspection, with the post form).
    const intro = await tokenRequest(server, server.merchant.introspectionEndpoint,
      { token: tokens.refresh_token }, merchantPost);
    assert.equal(intro.status, 200, intro.text);
    assert.equal(intro.json().active, true);
    near(intro.json().exp - Math.floor(Date.now() / 1000), tokens.refresh_token_expires_in);
    const introBasic = await tokenRequest(server, server.merchant.introspectionEndpoint,
      { token: tokens.refresh_token }, { ...merchantPost, method: 'client_secret_basic' });
    assert.equal(introBasic.status, 401);

    // Refresh: Basic refused, post rotates and carries the field again.
    const refreshBasic = await tokenRequest(server, server.merchant.tokenEndpoint,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { ...merchantPost, method: 'client_secret_basic' });
    assert.equal(refreshBasic.status, 401);
    assert.equal(refreshBasic.json().error, 'invalid_client');
    const refreshed = await tokenRequest(server, server.merchant.tokenEndpoint,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, merchantPost);
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.notEqual(refreshed.json().refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    near(refreshed.json().refresh_token_expires_in, YEAR);
    assert.equal(refreshed.json().expires_in, 3600);

    // Revocation: Basic refused, post accepted.
    const revokeBasic = await tokenRequest(server, server.merchant.revocationEndpoint,
      { token: refreshed.json().access_token }, { ...merchantPost, method: 'client_secret_basic' });
    assert.equal(revokeBasic.status, 401);
    assert.equal(revokeBasic.json().error, 'invalid_client');
    const revoke = await tokenRequest(server, server.merchant.revocationEndpoint,
      { token: refreshed.json().access_token }, merchantPost);
    assert.equal(revoke.status, 200, revoke.text);
    assert.equal((await server.whoami(refreshed.json().access_token)).status, 401);
  });

  test('merchant-app: a wrong secret is 401 and PKCE is required', async () => {
    const noPkce = await codeFlow(server, {
      authorizationEndpoint: server.merchant.authorizationEndpoint, clientId: 'merchant-app', pkce: false,
    });
    assert.equal(noPkce.callback.error, 'invalid_request');
    assert.match(noPkce.callback.error_description, /PKCE/);
    const wrong = await tokenRequest(server, server.merchant.tokenEndpoint,
      { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }, { ...merchantPost, secret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error, 'invalid_client');
  });

  test('the public client tokenctl gets no refresh expiry field (only merchant-app does)', async () => {
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint });
    const res = await redeemCode(server, server.endpoints.token_endpoint, flow, { method: 'none', clientId: 'tokenctl' });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json().refresh_token);
    assert.equal('refresh_token_expires_in' in res.json(), false);
    assert.equal('refresh_expires_in' in res.json(), false);
  });

  test('marketing-cc: client credentials with client_secret_post, no scope, 1 hour', async () => {
    const post = { method: 'client_secret_post', clientId: 'marketing-cc', secret: server.marketing.secret };
    const ok = await tokenRequest(server, server.marketing.tokenEndpoint, { grant_type: 'client_credentials' }, post);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json().expires_in, 3600);
    assert.equal(ok.json().scope, undefined);
    assert.equal(ok.json().refresh_token, undefined);
    const who = (await server.whoami(ok.json().access_token)).json();
    assert.deepEqual([who.client_id, who.kind, who.scope, who.sub], ['marketing-cc', 'ClientCredentials', '', null]);

    const basic = await tokenRequest(server, server.marketing.tokenEndpoint, { grant_type: 'client_credentials' },
      { ...post, method: 'client_secret_basic' });
    assert.equal(basic.status, 401);
    assert.equal(basic.json().error, 'invalid_client');

    for (const scope of ['openid offline_access', 'api', 'offline_access', 'no-such-scope']) {
      const res = await tokenRequest(server, server.marketing.tokenEndpoint, { grant_type: 'client_credentials', scope }, post);
      assert.equal(res.status, 400, `${scope}: ${res.text}`);
      assert.equal(res.json().error, 'invalid_scope', scope);
    }
    // A wrong secret is invalid_client whatever the scope (authentication comes first).
    const wrong = await tokenRequest(server, server.marketing.tokenEndpoint,
      { grant_type: 'client_credentials', scope: 'openid' }, { ...post, secret: 'wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error, 'invalid_client');
    // It has no code flow.
    const code = await tokenRequest(server, server.marketing.tokenEndpoint,
      { grant_type: 'authorization_code', code: 'x', redirect_uri: 'http://127.0.0.1/callback', code_verifier: 'v'.repeat(43) }, post);
    assert.equal(code.status, 400);
  });

  test('why the front refuses scopes: oidc-provider alone grants any scope to a client without `scope`', async () => {
    // A client registered like marketing-cc but without the front's rule: oidc-provider 8.8.1's
    // client_credentials grant hands out `openid offline_access`, and answers 200 to a scope it does
    // not know (dropping it).
    await server.addClient({
      client_id: 'plain-cc', client_secret: 'plain-cc-secret-0123456789abcdef', token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    });
    const auth = { method: 'client_secret_post', clientId: 'plain-cc', secret: 'plain-cc-secret-0123456789abcdef' };
    const res = await tokenRequest(server, server.endpoints.token_endpoint,
      { grant_type: 'client_credentials', scope: 'openid offline_access' }, auth);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().scope, 'openid offline_access');
    const unknown = await tokenRequest(server, server.endpoints.token_endpoint,
      { grant_type: 'client_credentials', scope: 'no-such-scope' }, auth);
    assert.equal(unknown.status, 200, unknown.text);
    assert.equal(unknown.json().scope, undefined);
    // ...and accepts HTTP Basic for a client registered with client_secret_post.
    const basic = await tokenRequest(server, server.endpoints.token_endpoint, { grant_type: 'client_credentials' },
      { ...auth, method: 'client_secret_basic' });
    assert.equal(basic.status, 200, basic.text);
  });
});

describe('refreshExpiresIn', () => {
  let server;
  before(async () => { server = await startServer({ refreshExpiresIn: 'refresh_expires_in', refreshTokenTTL: 7200 }); });
  after(() => server?.stop());

  test('Keycloak\'s refresh_expires_in on every response with a refresh token, and only there', async () => {
    assert.equal(server.refreshExpiresIn, 'refresh_expires_in');
    const flow = await codeFlow(server, { authorizationEndpoint: server.endpoints.authorization_endpoint });
    const res = await redeemCode(server, server.endpoints.token_endpoint, flow, { method: 'none', clientId: 'tokenctl' });
    assert.equal(res.status, 200, res.text);
    near(res.json().refresh_expires_in, 7200);
    assert.equal('refresh_token_expires_in' in res.json(), false);
    const refreshed = await tokenRequest(server, server.endpoints.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: res.json().refresh_token }, { method: 'none', clientId: 'tokenctl' });
    assert.equal(refreshed.status, 200, refreshed.text);
    near(refreshed.json().refresh_expires_in, 7200);
    const intro = await server.introspect(refreshed.json().refresh_token);
    near(intro.exp - Math.floor(Date.now() / 1000), refreshed.json().refresh_expires_in);
    const cc = await tokenRequest(server, server.endpoints.token_endpoint, { grant_type: 'client_credentials' },
      { method: 'client_secret_basic', clientId: 'ci-runner', secret: server.ciSecret });
    assert.equal(cc.status, 200);
    assert.equal('refresh_expires_in' in cc.json(), false);
    // The discovery document is there by default.
    assert.equal((await httpRequest(`${server.issuer}/.well-known/openid-configuration`, { ca: server.ca })).status, 200);
  });

  test('a bad refreshExpiresIn or shape is refused at start', async () => {
    await assert.rejects(startServer({ refreshExpiresIn: 'expires_later' }), /refreshExpiresIn must be one of/);
    await assert.rejects(startServer({ shape: 'bank' }), /unknown shape bank/);
    assert.throws(() => startServer({ noSuchOption: 1 }), /unknown option noSuchOption/);
  });
});
