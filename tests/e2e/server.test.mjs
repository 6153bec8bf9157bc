// Tests of the e2e test bed itself, without tokenctl: the authorization server is configured as
// the tokenctl tests assume, the BROWSER stand-in signs in (and misbehaves) as documented, and
// every injected fault does what it says. If these fail, a tokenctl e2e failure means nothing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

import { httpRequest, startServer } from './lib/harness.mjs';
import {
  authorizationUrl, discover, jwtPayload, pkcePair, postForm, runBrowser, startCallbackListener,
} from './lib/oauth.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-bed-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let logCount = 0;
const newLogFile = () => path.join(tmp, `browser-${++logCount}.json`);

// Run a whole code flow: listener, browser stand-in, optional token exchange.
async function codeFlow(server, metadata, { mode = 'login', user, scope = 'openid offline_access profile', pkce = true, extra = {} } = {}) {
  const listener = await startCallbackListener();
  const { verifier, challenge } = pkcePair();
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const url = authorizationUrl(metadata, {
    response_type: 'code', client_id: 'tokenctl', redirect_uri: listener.redirectUri, scope, state,
    nonce: 'n-0S6_WzA2Mj', prompt: 'consent',
    code_challenge: pkce ? challenge : undefined, code_challenge_method: pkce ? 'S256' : undefined,
    ...extra,
  });
  const logFile = newLogFile();
  try {
    const env = { TEST_BROWSER_MODE: mode, TEST_BROWSER_CA: server.ca ?? '' };
    if (user) env.TEST_BROWSER_USER = user;
    const browser = await runBrowser(url, { env, logFile });
    const callback = mode === 'idle' ? null : await Promise.race([
      listener.received, new Promise((r) => setTimeout(() => r(null), 2000))]);
    return { browser, callback, state, verifier, redirectUri: listener.redirectUri, url };
  } finally {
    await listener.close();
  }
}

function exchange(server, metadata, flow) {
  return postForm(server, metadata.token_endpoint, {
    grant_type: 'authorization_code', code: flow.callback.code, redirect_uri: flow.redirectUri,
    client_id: 'tokenctl', code_verifier: flow.verifier,
  });
}

describe('authorization server over TLS', () => {
  let server;
  let metadata;
  before(async () => {
    server = await startServer();
    metadata = await discover(server);
  });
  after(() => server?.stop());

  test('discovery names the issuer, S256 only, the iss parameter and the endpoints', () => {
    assert.equal(metadata.issuer, server.issuer);
    assert.match(server.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.equal(metadata.token_endpoint, `${server.issuer}/token`);
    assert.equal(metadata.revocation_endpoint, `${server.issuer}/token/revocation`);
    assert.equal(metadata.device_authorization_endpoint, `${server.issuer}/device/auth`);
    for (const scope of ['openid', 'offline_access', 'profile', 'email', 'api']) {
      assert.ok(metadata.scopes_supported.includes(scope), scope);
    }
  });

  test('the certificate is trusted only with the generated CA', async () => {
    const pem = fs.readFileSync(server.ca, 'utf8');
    assert.match(pem, /BEGIN CERTIFICATE/);
    await assert.rejects(httpRequest(`${server.issuer}/.well-known/openid-configuration`),
      (err) => /certificate|self.signed|issuer/i.test(`${err.code} ${err.message}`));
    const viaLocalhost = await new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: server.port, path: '/.well-known/openid-configuration',
        servername: 'localhost', ca: pem, agent: false }, (res) => { res.resume(); resolve(res.statusCode); })
        .on('error', reject);
    });
    assert.equal(viaLocalhost, 200);
  });

  test('the stand-in signs in, the code flow completes with PKCE, and the token works', async () => {
    const flow = await codeFlow(server, metadata);
    assert.equal(flow.browser.code, 0, flow.browser.stderr);
    assert.equal(flow.browser.stdout, '');
    assert.equal(flow.callback.state, flow.state);
    assert.equal(flow.callback.iss, server.issuer);
    assert.ok(flow.callback.code);
    const log = flow.browser.log;
    assert.equal(log.result, 'ok');
    assert.equal(log.done, true);
    assert.equal(log.url, flow.url);
    assert.deepEqual(log.steps.map((s) => s.did).filter((d) => d !== 'follow redirect'),
      ['open authorization URL', 'login form', 'consent form']);
    assert.equal(log.final.status, 200);
    assert.match(log.final.text, /Login complete/);

    const res = await exchange(server, metadata, flow);
    assert.equal(res.status, 200, res.text);
    const tokens = res.json();
    assert.ok(tokens.refresh_token, 'offline_access with prompt=consent gives a refresh token');
    const claims = jwtPayload(tokens.id_token);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.name, 'Alice Example');
    assert.equal(claims.nonce, 'n-0S6_WzA2Mj');

    const who = await server.whoami(tokens.access_token);
    assert.equal(who.status, 200, who.text);
    assert.deepEqual({ ...who.json(), exp: 0 }, {
      sub: 'alice', client_id: 'tokenctl', scope: 'openid offline_access profile', kind: 'AccessToken',
      exp: 0, auth: 'bearer', iss: server.issuer,
    });
    const basic = await server.whoami(tokens.access_token, { basicUser: 'token' });
    assert.equal(basic.status, 200);
    assert.equal(basic.json().basic_user, 'token');

    const [recorded] = (await server.requests('token')).slice(-1);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.params.grant_type, 'authorization_code');
    assert.equal(recorded.params.code_verifier, flow.verifier);
    assert.equal(recorded.params.redirect_uri, flow.redirectUri);
    assert.equal(recorded.status, 200);
    assert.equal(JSON.parse(recorded.response).access_token, tokens.access_token);
    const [authz] = (await server.requests('authorization')).filter((r) => r.query.state === flow.state);
    assert.equal(authz.query.code_challenge_method, 'S256');
  });

  test('refresh tokens rotate for the public client and the old one stops working', async () => {
    const flow = await codeFlow(server, metadata);
    const first = (await exchange(server, metadata, flow)).json();
    const refresh = (rt) => postForm(server, metadata.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: rt, client_id: 'tokenctl' });
    const second = await refresh(first.refresh_token);
    assert.equal(second.status, 200, second.text);
    assert.ok(second.json().refresh_token);
    assert.notEqual(second.json().refresh_token, first.refresh_token);
    const reused = await refresh(first.refresh_token);
    assert.equal(reused.status, 400);
    assert.equal(reused.json().error, 'invalid_grant');
  });

  test('TEST_BROWSER_USER picks the subject and its claims', async () => {
    const flow = await codeFlow(server, metadata, { user: 'bob', scope: 'openid email' });
    const tokens = (await exchange(server, metadata, flow)).json();
    const claims = jwtPayload(tokens.id_token);
    assert.equal(claims.sub, 'bob');
    assert.equal(claims.email, 'bob@example.test');
    assert.equal(tokens.refresh_token, undefined, 'no offline_access, no refresh token');
  });

  test('PKCE is required: no code_challenge ends in an error redirect', async () => {
    const flow = await codeFlow(server, metadata, { pkce: false });
    assert.equal(flow.callback.error, 'invalid_request');
    assert.match(flow.callback.error_description, /PKCE/);
    const plain = await codeFlow(server, metadata,
      { extra: { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' } });
    assert.equal(plain.callback.error, 'invalid_request');
  });

  test('deny mode cancels at consent and the server answers access_denied with iss', async () => {
    const flow = await codeFlow(server, metadata, { mode: 'deny' });
    assert.equal(flow.browser.code, 0, flow.browser.stderr);
    assert.equal(flow.callback.error, 'access_denied');
    assert.equal(flow.callback.state, flow.state);
    assert.equal(flow.callback.iss, server.issuer);
    assert.equal(flow.callback.code, undefined);
    assert.match(flow.browser.log.final.text, /Login failed/);
  });

  test('wrong-state, wrong-iss and drop-iss change only what they say', async () => {
    const wrongState = await codeFlow(server, metadata, { mode: 'wrong-state' });
    assert.equal(wrongState.callback.state, 'state-forged-by-the-browser-stand-in');
    assert.equal(wrongState.callback.iss, server.issuer);
    assert.ok(wrongState.callback.code);
    const wrongIss = await codeFlow(server, metadata, { mode: 'wrong-iss' });
    assert.equal(wrongIss.callback.iss, 'https://attacker.example.test');
    assert.equal(wrongIss.callback.state, wrongIss.state);
    const dropIss = await codeFlow(server, metadata, { mode: 'drop-iss' });
    assert.equal('iss' in dropIss.callback, false);
    assert.equal(dropIss.callback.state, dropIss.state);
    assert.equal(dropIss.browser.log.callback.received.includes('iss='), true);
  });

  test('idle mode records the URL and never calls the listener; print mode appends it', async () => {
    const idle = await codeFlow(server, metadata, { mode: 'idle' });
    assert.equal(idle.browser.code, 0);
    assert.equal(idle.browser.log.url, idle.url);
    assert.deepEqual(idle.browser.log.steps, []);
    assert.equal(idle.browser.log.final, null);
    const printLog = newLogFile();
    fs.writeFileSync(printLog, 'first\n');
    const print = await runBrowser('https://127.0.0.1:9/authorize?x=1', { env: { TEST_BROWSER_MODE: 'print' }, logFile: printLog });
    assert.equal(print.code, 0);
    assert.equal(fs.readFileSync(printLog, 'utf8'), 'first\nhttps://127.0.0.1:9/authorize?x=1\n');
    const bad = await runBrowser('https://127.0.0.1:9/', { env: { TEST_BROWSER_MODE: 'nonsense' }, logFile: newLogFile() });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown TEST_BROWSER_MODE nonsense/);
  });

  test('device modes approve or abort a device authorization (RFC 8628)', async () => {
    const grant = 'urn:ietf:params:oauth:grant-type:device_code';
    const begin = async () => (await postForm(server, metadata.device_authorization_endpoint,
      { client_id: 'tokenctl', scope: 'openid offline_access profile' })).json();
    const poll = (d) => postForm(server, metadata.token_endpoint,
      { grant_type: grant, device_code: d.device_code, client_id: 'tokenctl' });

    const approved = await begin();
    assert.equal((await poll(approved)).json().error, 'authorization_pending');
    const ok = await runBrowser(approved.verification_uri_complete,
      { env: { TEST_BROWSER_MODE: 'device', TEST_BROWSER_CA: server.ca }, logFile: newLogFile() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.log.steps.map((s) => s.did).filter((d) => d !== 'follow redirect'), ['open authorization URL',
      'auto-submitted form', 'device confirmation form', 'login form', 'consent form']);
    assert.equal(ok.log.final.status, 200);
    assert.match(ok.log.final.text, /Sign-in Success/);
    const tokens = await poll(approved);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await server.whoami(tokens.json().access_token)).json().sub, 'alice');

    const typed = await begin();
    const byCode = await runBrowser(typed.verification_uri, { env: {
      TEST_BROWSER_MODE: 'device', TEST_BROWSER_CA: server.ca, TEST_BROWSER_USER: 'carol',
      TEST_BROWSER_USER_CODE: typed.user_code,
    }, logFile: newLogFile() });
    assert.equal(byCode.code, 0, byCode.stderr);
    assert.equal(byCode.log.steps.some((s) => s.did === 'user code form'), true);
    assert.equal((await server.whoami((await poll(typed)).json().access_token)).json().sub, 'carol');

    const denied = await begin();
    const no = await runBrowser(denied.verification_uri_complete,
      { env: { TEST_BROWSER_MODE: 'device-deny', TEST_BROWSER_CA: server.ca }, logFile: newLogFile() });
    assert.equal(no.code, 0, no.stderr);
    assert.equal(no.log.steps.some((s) => s.did === 'abort at device confirmation'), true);
    const refused = await poll(denied);
    assert.equal(refused.status, 400);
    assert.equal(refused.json().error, 'access_denied');
  });

  test('client credentials: ci-runner with client_secret_basic and client_secret_post', async () => {
    const basic = await postForm(server, metadata.token_endpoint,
      { grant_type: 'client_credentials', scope: 'api' }, { basic: ['ci-runner', server.ciSecret] });
    assert.equal(basic.status, 200, basic.text);
    assert.equal(basic.json().scope, 'api');
    const who = await server.whoami(basic.json().access_token);
    assert.equal(who.json().client_id, 'ci-runner');
    assert.equal(who.json().sub, null);
    assert.equal(who.json().kind, 'ClientCredentials');
    const post = await postForm(server, metadata.token_endpoint, {
      grant_type: 'client_credentials', scope: 'api', client_id: 'ci-runner', client_secret: server.ciSecret,
    });
    assert.equal(post.status, 200, post.text);
    const wrong = await postForm(server, metadata.token_endpoint,
      { grant_type: 'client_credentials' }, { basic: ['ci-runner', 'not-the-secret'] });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error, 'invalid_client');
    const [recorded] = (await server.requests('token')).slice(-1);
    assert.equal(recorded.authorization.user, 'ci-runner');
    assert.equal(recorded.authorization.password, 'not-the-secret');
  });

  test('revocation makes an access token fail at /api/whoami', async () => {
    const cc = (await postForm(server, metadata.token_endpoint, { grant_type: 'client_credentials' },
      { basic: ['ci-runner', server.ciSecret] })).json();
    assert.equal((await server.whoami(cc.access_token)).status, 200);
    const revoked = await postForm(server, metadata.revocation_endpoint,
      { token: cc.access_token, token_type_hint: 'access_token' }, { basic: ['ci-runner', server.ciSecret] });
    assert.equal(revoked.status, 200, revoked.text);
    const who = await server.whoami(cc.access_token);
    assert.equal(who.status, 401);
    assert.equal(who.json().error, 'invalid_token');
    assert.match(who.headers['www-authenticate'], /^Bearer /);
    assert.equal((await server.requests('revocation')).length >= 1, true);
    const none = await httpRequest(`${server.origin}/api/whoami`, { ca: server.ca });
    assert.equal(none.status, 401);
  });
});

describe('injected faults', () => {
  let server;
  let metadata;
  before(async () => {
    server = await startServer({ issuerPath: '/realms/corp' });
    metadata = await discover(server);
  });
  after(() => server?.stop());
  const tokenPost = () => postForm(server, metadata.token_endpoint, { grant_type: 'client_credentials' },
    { basic: ['ci-runner', server.ciSecret] });

  test('a path issuer serves discovery below its path; the RFC 8414 insert form is 404', async () => {
    assert.equal(metadata.issuer, `${server.origin}/realms/corp`);
    assert.equal(metadata.token_endpoint, `${server.origin}/realms/corp/token`);
    const insert = await httpRequest(`${server.origin}/.well-known/oauth-authorization-server/realms/corp`, { ca: server.ca });
    assert.equal(insert.status, 404);
    const flow = await codeFlow(server, metadata);
    assert.equal(flow.callback.iss, server.issuer);
    assert.equal((await exchange(server, metadata, flow)).status, 200);
  });

  test('500 for the next N requests, then the provider again; all are recorded', async () => {
    await server.reset();
    await server.fault({ path: '/token', mode: '500', count: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await tokenPost();
      assert.equal(res.status, 500);
      assert.equal(res.json().error, 'server_error');
    }
    assert.equal((await tokenPost()).status, 200);
    const log = await server.requests('token');
    assert.deepEqual(log.map((r) => [r.fault, r.status]), [['500', 500], ['500', 500], [null, 200]]);
    assert.equal(log[0].params.grant_type, 'client_credentials');
    assert.equal(log[0].path, '/realms/corp/token');
  });

  test('429 and 503 carry Retry-After', async () => {
    await server.fault({ path: '/realms/corp/token', mode: '429', retryAfter: 3 });
    const r429 = await tokenPost();
    assert.equal(r429.status, 429);
    assert.equal(r429.headers['retry-after'], '3');
    await server.fault({ path: '/token', mode: '503', retryAfter: 1 });
    const r503 = await tokenPost();
    assert.equal(r503.status, 503);
    assert.equal(r503.headers['retry-after'], '1');
  });

  test('html and garbage answer 200 with bodies that are not JSON', async () => {
    await server.fault({ path: '/token', mode: 'html' });
    const html = await tokenPost();
    assert.equal(html.status, 200);
    assert.match(html.headers['content-type'], /^text\/html/);
    assert.match(html.text, /^<!DOCTYPE html>/);
    await server.fault({ path: '/token', mode: 'garbage' });
    const garbage = await tokenPost();
    assert.equal(garbage.status, 200);
    assert.match(garbage.headers['content-type'], /^application\/json/);
    assert.throws(() => garbage.json(), SyntaxError);
  });

  test('truncated sends half a JSON document, then closes', async () => {
    await server.fault({ path: '/token', mode: 'truncated' });
    const outcome = await new Promise((resolve) => {
      const req = https.request(metadata.token_endpoint, { method: 'POST', ca: fs.readFileSync(server.ca), agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c) => { bytes += c.length; });
        res.on('error', () => {});
        res.on('close', () => resolve({ bytes, length: Number(res.headers['content-length']), complete: res.complete }));
      });
      req.on('error', (err) => resolve({ error: err }));
      req.end();
    });
    assert.equal(outcome.complete, false);
    assert.ok(outcome.bytes > 0 && outcome.bytes < outcome.length, JSON.stringify(outcome));
  });

  test('hang accepts and never answers until reset', async () => {
    await server.fault({ path: '/token', mode: 'hang' });
    await assert.rejects(httpRequest(metadata.token_endpoint, { method: 'POST', ca: server.ca, timeoutMs: 1500 }),
      /no answer in 1500 ms/);
    await server.fault({ path: '/token', mode: 'hang' });
    const pending = httpRequest(metadata.token_endpoint, { method: 'POST', ca: server.ca, timeoutMs: 10000 })
      .then(() => null, (err) => err);
    await new Promise((r) => setTimeout(r, 300));
    await server.reset();
    assert.match(String((await pending)?.message), /socket hang up|ECONNRESET|aborted/);
  });

  test('huge streams 50 MB', async () => {
    await server.fault({ path: '/token', mode: 'huge' });
    const size = await new Promise((resolve, reject) => {
      const req = https.request(metadata.token_endpoint, { method: 'POST', ca: fs.readFileSync(server.ca), agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c) => { bytes += c.length; });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.ok(size >= 50 * 1024 * 1024, String(size));
  });

  test('redirect answers 307 to a recorded trap', async () => {
    await server.reset();
    await server.fault({ path: '/token', mode: 'redirect' });
    const res = await tokenPost();
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `${server.origin}/__test/redirected`);
    const followed = await postForm(server, res.headers.location, { code: 'x' });
    assert.equal(followed.status, 400);
    const trap = await server.requests('redirected');
    assert.equal(trap.length, 1);
    assert.equal(trap[0].params.code, 'x');
  });

  test('a bad fault request is refused, and reset disarms faults and clears the log', async () => {
    await assert.rejects(server.fault({ path: '/token', mode: 'explode' }), /400.*fault\.mode/);
    await assert.rejects(server.fault({ path: 'token', mode: '500' }), /400.*fault\.path/);
    await server.fault({ path: '/token', mode: '500', count: 5 });
    await server.reset();
    assert.deepEqual(await server.requests(), []);
    assert.equal((await tokenPost()).status, 200);
  });
});

describe('plain http on loopback', () => {
  test('tls: false serves discovery over http and has no CA', async () => {
    const server = await startServer({ tls: false, accessTokenTTL: 60 });
    try {
      assert.equal(server.ca, null);
      assert.match(server.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const metadata = await discover(server);
      assert.equal(metadata.issuer, server.issuer);
      const flow = await codeFlow(server, metadata);
      const tokens = (await exchange(server, metadata, flow)).json();
      assert.equal(tokens.expires_in, 60);
    } finally {
      await server.stop();
    }
  });
});
