// Tests of the test server's Databricks shape (startServer({databricks: true})), with a plain node
// client, without tokenctl: the workspace and account issuers at Databricks' exact paths, the
// public client databricks-cli on a path-less http://localhost:PORT redirect, the service
// principal's client credentials, and the SCIM /Me endpoint the Databricks SDKs call.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { httpRequest, startServer } from './lib/harness.mjs';
import { codeFlow, redeemCode, tokenRequest } from './lib/server-test-flows.mjs';

const bare = (port) => `http://localhost:${port}`;

describe('Databricks workspace and account issuers', () => {
  let server;
  let db;
  before(async () => {
    server = await startServer({ databricks: true });
    db = server.databricks;
  });
  after(() => server?.stop());

  const metadata = async (url) => {
    const res = await httpRequest(url, { ca: server.ca });
    assert.equal(res.status, 200, `${url}: ${res.status}`);
    return res.json();
  };

  test('metadata at {issuer}/.well-known/oauth-authorization-server names exactly the Databricks paths', async () => {
    assert.equal(db.host, server.origin);
    const ws = await metadata(`${server.origin}/oidc/.well-known/oauth-authorization-server`);
    assert.equal(ws.issuer, `${server.origin}/oidc`);
    assert.equal(ws.authorization_endpoint, `${server.origin}/oidc/v1/authorize`);
    assert.equal(ws.token_endpoint, `${server.origin}/oidc/v1/token`);
    assert.deepEqual(ws.code_challenge_methods_supported, ['S256']);
    for (const scope of ['all-apis', 'offline_access']) assert.ok(ws.scopes_supported.includes(scope), scope);
    assert.equal(ws.device_authorization_endpoint, undefined, 'Databricks has no device flow');
    assert.equal(ws.revocation_endpoint, undefined, 'nor a revocation endpoint');
    assert.deepEqual(await metadata(`${server.origin}/oidc/.well-known/openid-configuration`), ws);

    const acct = await metadata(`${server.origin}/oidc/accounts/${db.accountId}/.well-known/oauth-authorization-server`);
    const accountIssuer = `${server.origin}/oidc/accounts/${db.accountId}`;
    assert.equal(acct.issuer, accountIssuer);
    assert.equal(acct.authorization_endpoint, `${accountIssuer}/v1/authorize`);
    assert.equal(acct.token_endpoint, `${accountIssuer}/v1/token`);
    assert.equal(db.account.token_endpoint, acct.token_endpoint);
    assert.equal(db.workspace.metadata_url, `${server.origin}/oidc/.well-known/oauth-authorization-server`);

    const insert = await httpRequest(`${server.origin}/.well-known/oauth-authorization-server/oidc`, { ca: server.ca });
    assert.equal(insert.status, 404);
    const other = await httpRequest(`${server.origin}/oidc/accounts/not-this-account/.well-known/oauth-authorization-server`, { ca: server.ca });
    assert.equal(other.status, 404);
    // The usual issuer is still at the root.
    assert.equal((await metadata(`${server.origin}/.well-known/openid-configuration`)).issuer, server.issuer);
    const log = await server.requests('metadata');
    assert.deepEqual(log.map((q) => q.mount), ['databricks-workspace', 'databricks-account']);
  });

  test('databricks-cli: U2M with PKCE on http://localhost:PORT (no path, any port), refresh rotates', async () => {
    const flow = await codeFlow(server, {
      authorizationEndpoint: db.workspace.authorization_endpoint, clientId: 'databricks-cli',
      scope: 'all-apis offline_access', listener: { pathname: '/', uri: bare },
    });
    assert.match(flow.redirectUri, /^http:\/\/localhost:\d+$/);
    assert.ok(flow.callback?.code, JSON.stringify(flow.browser.log?.error ?? flow.callback));
    assert.equal(flow.callback.iss, db.workspace.issuer);
    const res = await redeemCode(server, db.workspace.token_endpoint, flow, { method: 'none', clientId: 'databricks-cli' });
    assert.equal(res.status, 200, res.text);
    const tokens = res.json();
    assert.equal(tokens.scope, 'all-apis offline_access');
    assert.ok(tokens.refresh_token);
    const who = (await server.whoami(tokens.access_token)).json();
    assert.deepEqual([who.sub, who.client_id, who.iss], ['alice', 'databricks-cli', db.workspace.issuer]);

    // SCIM /Me: the user the Databricks SDKs parse.
    const me = await server.scimMe(tokens.access_token);
    assert.equal(me.status, 200, me.text);
    const user = me.json();
    assert.equal(user.userName, 'alice@example.test');
    assert.equal(user.displayName, 'Alice Example');
    assert.match(user.id, /^\d{16}$/);
    assert.deepEqual(user.emails, [{ type: 'work', value: 'alice@example.test', primary: true }]);
    assert.equal(user.active, true);
    assert.ok(user.schemas.includes('urn:ietf:params:scim:schemas:core:2.0:User'));
    // Basic with the token as password (netrc) works too; a bad token is 401.
    const basic = await httpRequest(db.scimMeUrl, { ca: server.ca,
      headers: { authorization: `Basic ${Buffer.from(`token:${tokens.access_token}`).toString('base64')}` } });
    assert.equal(basic.json().userName, 'alice@example.test');
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: `Bearer ${tokens.access_token}x` }]) {
      const bad = await httpRequest(db.scimMeUrl, { ca: server.ca, headers });
      assert.equal(bad.status, 401, JSON.stringify(headers));
      assert.equal(bad.json().error_code, 'UNAUTHENTICATED');
    }
    assert.equal((await server.requests('scim_me')).length, 5);

    const refresh = (rt) => tokenRequest(server, db.workspace.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: rt }, { method: 'none', clientId: 'databricks-cli' });
    const second = await refresh(tokens.refresh_token);
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.json().refresh_token, tokens.refresh_token);
    // A workspace refresh token means nothing at the account issuer.
    const elsewhere = await tokenRequest(server, db.account.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: second.json().refresh_token }, { method: 'none', clientId: 'databricks-cli' });
    assert.equal(elsewhere.json().error, 'invalid_grant');
    assert.equal((await refresh(tokens.refresh_token)).json().error, 'invalid_grant', 'rotation: the old one is spent');
    // Reuse revokes the grant (oidc-provider's reuse detection): the access tokens stop working.
    assert.equal((await server.scimMe(second.json().access_token)).status, 401);
  });

  test('the redirect URI: any localhost or 127.0.0.1 port, with or without "/", but no other path', async () => {
    const run = (uri, pathname = '/') => codeFlow(server, {
      authorizationEndpoint: db.workspace.authorization_endpoint, clientId: 'databricks-cli',
      scope: 'all-apis', listener: { pathname, uri },
    });
    for (const uri of [(p) => `http://localhost:${p}/`, (p) => `http://127.0.0.1:${p}`]) {
      const flow = await run(uri);
      assert.ok(flow.callback?.code, flow.redirectUri);
      const res = await redeemCode(server, db.workspace.token_endpoint, flow, { method: 'none', clientId: 'databricks-cli' });
      assert.equal(res.status, 200, `${flow.redirectUri}: ${res.text}`);
    }
    const withPath = await run((p) => `http://localhost:${p}/callback`, '/callback');
    assert.equal(withPath.callback, null, 'no redirect to an unregistered path');
    assert.match(JSON.stringify(withPath.browser.log), /redirect_uri/);
  });

  test('account level: U2M at the account issuer; its tokens are not workspace tokens', async () => {
    const flow = await codeFlow(server, {
      authorizationEndpoint: db.account.authorization_endpoint, clientId: 'databricks-cli', user: 'bob',
      scope: 'all-apis offline_access', listener: { pathname: '/', uri: bare },
    });
    assert.equal(flow.callback?.iss, db.account.issuer, JSON.stringify(flow.callback));
    const res = await redeemCode(server, db.account.token_endpoint, flow, { method: 'none', clientId: 'databricks-cli' });
    assert.equal(res.status, 200, res.text);
    const who = (await server.whoami(res.json().access_token)).json();
    assert.deepEqual([who.sub, who.iss], ['bob', db.account.issuer]);
    assert.equal((await server.scimMe(res.json().access_token)).status, 401);
  });

  test('M2M: the service principal gets all-apis tokens with Basic at both token endpoints', async () => {
    const sp = { method: 'client_secret_basic', clientId: db.servicePrincipal.clientId, secret: db.servicePrincipal.secret };
    for (const [mount, endpoint] of [['databricks-workspace', db.workspace.token_endpoint], ['databricks-account', db.account.token_endpoint]]) {
      const res = await tokenRequest(server, endpoint, { grant_type: 'client_credentials', scope: 'all-apis' }, sp);
      assert.equal(res.status, 200, `${mount}: ${res.text}`);
      assert.equal(res.json().scope, 'all-apis');
      const who = (await server.whoami(res.json().access_token)).json();
      assert.equal(who.client_id, db.servicePrincipal.clientId);
      assert.equal(who.kind, 'ClientCredentials');
      const me = await server.scimMe(res.json().access_token);
      if (mount === 'databricks-workspace') {
        assert.equal(me.status, 200, me.text);
        assert.equal(me.json().userName, db.servicePrincipal.clientId);
      } else {
        assert.equal(me.status, 401);
      }
    }
    const wrong = await tokenRequest(server, db.workspace.token_endpoint, { grant_type: 'client_credentials', scope: 'all-apis' },
      { ...sp, secret: 'wrong' });
    assert.equal(wrong.status, 401);
    const tooMuch = await tokenRequest(server, db.workspace.token_endpoint, { grant_type: 'client_credentials', scope: 'all-apis offline_access' }, sp);
    assert.equal(tooMuch.json().error, 'invalid_scope');
    // The usual issuer's clients do not exist at Databricks.
    const ci = await tokenRequest(server, db.workspace.token_endpoint, { grant_type: 'client_credentials' },
      { method: 'client_secret_basic', clientId: 'ci-runner', secret: server.ciSecret });
    assert.equal(ci.status, 401);
  });

  test('faults reach the Databricks paths: hang on SCIM /Me, 500 on one token endpoint only', async () => {
    await server.fault({ path: '/api/2.0/preview/scim/v2/Me', mode: 'hang' });
    await assert.rejects(httpRequest(db.scimMeUrl, { ca: server.ca, timeoutMs: 1500, headers: { authorization: 'Bearer x' } }),
      /no answer in 1500 ms/);
    await server.reset();
    await server.fault({ path: db.account.token_endpoint.replace(server.origin, ''), mode: '500' });
    const sp = { method: 'client_secret_basic', clientId: db.servicePrincipal.clientId, secret: db.servicePrincipal.secret };
    assert.equal((await tokenRequest(server, db.workspace.token_endpoint, { grant_type: 'client_credentials' }, sp)).status, 200);
    assert.equal((await tokenRequest(server, db.account.token_endpoint, { grant_type: 'client_credentials' }, sp)).status, 500);
  });
});
