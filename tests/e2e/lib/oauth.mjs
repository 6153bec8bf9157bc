// A minimal OAuth client in node for testing the test bed itself (server.test.mjs): PKCE values,
// an authorization URL, a loopback redirect listener, token requests, and the BROWSER stand-in
// run by hand. tokenctl is the real client; this one only proves the server and the stand-in work.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import { httpRequest } from './harness.mjs';

export { runBrowser } from './harness.mjs';

// A fresh PKCE pair (RFC 7636, S256): {verifier, challenge}.
export function pkcePair() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// The authorization URL for `params` at the server's authorization endpoint.
export function authorizationUrl(metadata, params) {
  const url = new URL(metadata.authorization_endpoint);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  return url.href;
}

// Listen on 127.0.0.1:0 for one redirect to /callback; resolves to {redirectUri, received, close}.
// `received` resolves to the callback's query parameters, as an object.
export async function startCallbackListener() {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
    res.end(`<!DOCTYPE html><p>${url.searchParams.has('error') ? 'Login failed' : 'Login complete'}</p>`);
    deliver(Object.fromEntries(url.searchParams));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    redirectUri: `http://127.0.0.1:${server.address().port}/callback`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// POST a form to `url`; `basic` is [user, password] for client_secret_basic (form-urlencoded first,
// RFC 6749 section 2.3.1). Resolves to {status, headers, text, json()}.
export function postForm(server, url, params, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) {
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(basic[0])}:${enc(basic[1])}`).toString('base64')}`;
  }
  return httpRequest(url, { method: 'POST', headers, body: new URLSearchParams(params).toString(), ca: server.ca });
}

// The server's discovery document.
export async function discover(server) {
  const res = await httpRequest(`${server.issuer}/.well-known/openid-configuration`, { ca: server.ca });
  if (res.status !== 200) throw new Error(`discovery answered ${res.status}`);
  return res.json();
}

// Decode a JWT's payload without verifying it.
export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
