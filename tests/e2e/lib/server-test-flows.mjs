// Flows for the tests of the test server itself (server-*.test.mjs): a code flow for any client,
// issuer and redirect URI shape, token requests with each client authentication method, and
// client assertions (RFC 7523) signed with keys the tests make. Plain node, on top of lib/oauth.mjs;
// tokenctl is never involved.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jose from 'jose';

import { httpRequest } from './harness.mjs';
import { authorizationUrl, pkcePair, runBrowser } from './oauth.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-flows-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let logCount = 0;

// Listen on 127.0.0.1:PORT (0: any) for one redirect to `pathname`; the redirect URI is built by
// `uri(port)` (default http://127.0.0.1:PORT/callback). Resolves to {redirectUri, port, received,
// close}; `received` resolves to the redirect's query parameters.
export async function startListener({ pathname = '/callback', uri, port = 0 } = {}) {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== pathname) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
    res.end(`<!DOCTYPE html><p>${url.searchParams.has('error') ? 'Login failed' : 'Login complete'}</p>`);
    deliver(Object.fromEntries(url.searchParams));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = server.address().port;
  return {
    port: bound,
    redirectUri: uri ? uri(bound) : `http://127.0.0.1:${bound}${pathname}`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// A whole authorization code request through the BROWSER stand-in. options: authorizationEndpoint,
// clientId, scope, user, mode, extra (more query parameters), listener (startListener options),
// pkce (true). Resolves to {browser, callback, state, verifier, redirectUri, url}.
export async function codeFlow(server, {
  authorizationEndpoint, clientId = 'tokenctl', scope = 'openid offline_access', user, mode = 'login',
  extra = {}, listener: listenerOptions = {}, pkce = true,
} = {}) {
  const listener = await startListener(listenerOptions);
  const { verifier, challenge } = pkcePair();
  const state = `state-${crypto.randomBytes(6).toString('hex')}`;
  const url = authorizationUrl({ authorization_endpoint: authorizationEndpoint }, {
    response_type: 'code', client_id: clientId, redirect_uri: listener.redirectUri, scope, state,
    prompt: 'consent', code_challenge: pkce ? challenge : undefined,
    code_challenge_method: pkce ? 'S256' : undefined, ...extra,
  });
  try {
    const env = { TEST_BROWSER_MODE: mode, TEST_BROWSER_CA: server.ca ?? '' };
    if (user) env.TEST_BROWSER_USER = user;
    const browser = await runBrowser(url, { env, logFile: path.join(tmp, `browser-${++logCount}.json`) });
    const callback = await Promise.race([listener.received, new Promise((r) => setTimeout(() => r(null), 2000))]);
    return { browser, callback, state, verifier, redirectUri: listener.redirectUri, url };
  } finally {
    await listener.close();
  }
}

const encode = (s) => encodeURIComponent(s).replace(/%20/g, '+');

// POST a form to `url` with client authentication `auth`: {method: 'none' | 'client_secret_post'
// | 'client_secret_basic' | 'private_key_jwt', clientId, secret, assertion}. Resolves to
// {status, headers, text, json()}.
export function tokenRequest(server, url, params, auth = {}) {
  const body = { ...params };
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  switch (auth.method) {
    case 'client_secret_basic':
      headers.authorization = `Basic ${Buffer.from(`${encode(auth.clientId)}:${encode(auth.secret)}`).toString('base64')}`;
      break;
    case 'client_secret_post':
      Object.assign(body, { client_id: auth.clientId, client_secret: auth.secret });
      break;
    case 'private_key_jwt':
      Object.assign(body, {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: auth.assertion,
      });
      if (auth.clientId && auth.sendClientId) body.client_id = auth.clientId;
      break;
    case 'none':
      if (auth.clientId) body.client_id = auth.clientId;
      break;
    case undefined:
      break;
    default:
      throw new Error(`unknown client authentication ${auth.method}`);
  }
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return httpRequest(url, { method: 'POST', headers, body: new URLSearchParams(body).toString(), ca: server.ca });
}

// Redeem the code of a finished codeFlow.
export function redeemCode(server, tokenEndpoint, flow, auth) {
  return tokenRequest(server, tokenEndpoint, {
    grant_type: 'authorization_code', code: flow.callback.code, redirect_uri: flow.redirectUri,
    code_verifier: flow.verifier,
  }, auth);
}

// A key pair for private_key_jwt: {privateKey, publicJwk (with kid, alg, use), alg, kid}.
export async function clientKeyPair(alg = 'RS256') {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  const kid = `k-${crypto.randomBytes(4).toString('hex')}`;
  Object.assign(publicJwk, { kid, alg, use: 'sig' });
  return { privateKey, publicJwk, alg, kid };
}

// A client assertion (RFC 7523 section 3): iss = sub = clientId, aud, fresh jti, exp = iat + life.
export function clientAssertion(keys, clientId, aud, { life = 60, jti, iat, claims = {} } = {}) {
  const now = iat ?? Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ jti: jti ?? crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })
    .setIssuer(clientId).setSubject(clientId).setAudience(aud)
    .setIssuedAt(now).setExpirationTime(now + life)
    .sign(keys.privateKey);
}
