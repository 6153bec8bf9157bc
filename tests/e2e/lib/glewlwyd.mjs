// The second authorization server of the e2e tests: Debian's glewlwyd (a C OAuth 2 / OpenID
// Connect server, package `glewlwyd`, 2.7.5 in Debian 12), started by the test itself on loopback
// with a fresh sqlite database, behind a small node TLS reverse proxy that keeps a request log.
//
// Why a second server: oidc-provider is one reading of the RFCs; glewlwyd is another code base
// with other strictness (exact redirect URIs, scope always required for client credentials, no
// revocation for public clients, lower-case `bearer`), so tokenctl is checked against both.
//
// Why the proxy: glewlwyd serves plain HTTP here (its own TLS needs key files at start and tells
// nothing about what a client sent), and the tests assert what tokenctl sent (no `scope`, no
// Authorization header, ...). The proxy terminates TLS with a certificate of the run-time test CA
// (tls.mjs), records every request like lib/server.mjs does (method, path, query, form params,
// decoded Basic credentials, the answers of the token, revocation, introspection and userinfo
// endpoints), records every token glewlwyd issues for the whole-run secrets scan
// (TOKENCTL_E2E_RECORD), and forwards to glewlwyd on http://127.0.0.1. glewlwyd's external URL is
// the proxy's https origin, and its OIDC plugin's issuer the proxy origin + /api/oidc, so that
// discovery's `issuer` and every endpoint in it are the proxy's.
//
// Set-up goes straight to glewlwyd's admin REST API (not through the proxy, so that the log holds
// only what tokenctl and the browser sent): admin login (the `admin`/`password` account of the
// package's SQL script), the OIDC plugin instance, scopes, user alice, the public client `tokenctl`
// (exact redirect URIs on ports picked free here) and the confidential client `ci-runner`.

import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createTestPki } from './tls.mjs';

export const GLEWLWYD_BIN = process.env.TOKENCTL_E2E_GLEWLWYD || '/usr/bin/glewlwyd';
export const GLEWLWYD_BROWSER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'glewlwyd-browser.mjs');
// The schema and default data (the `admin` user with password `password`), as the package ships
// them for dbconfig-common; the copy under /usr/share/doc may be missing where docs are excluded.
const SQL_SCRIPTS = [
  '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3',
  '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz',
];
const MODULES = '/usr/lib/glewlwyd';
const API = 'api';
const PLUGIN = 'oidc';
const ADMIN = { username: 'admin', password: 'password' };
const READY_TIMEOUT_MS = 15000;
const MAX_BODY = 1024 * 1024;
const RECORD_DIR = process.env.TOKENCTL_E2E_RECORD || null;
const ISSUED_FIELDS = ['access_token', 'refresh_token', 'id_token', 'device_code'];
const RESPONSE_RECORDED = new Set(['token', 'revocation', 'introspection', 'userinfo']);

// Paths below the issuer (/api/oidc), by the name the request log gives them.
const ENDPOINTS = [
  ['/.well-known/openid-configuration', 'discovery'], ['/auth', 'authorization'], ['/token', 'token'],
  ['/userinfo', 'userinfo'], ['/introspect', 'introspection'], ['/revoke', 'revocation'], ['/jwks', 'jwks'],
];

// Why glewlwyd cannot be used here, or null when it can (for node:test's `skip`).
export function glewlwydMissing() {
  if (!fs.existsSync(GLEWLWYD_BIN)) return `glewlwyd is not installed (${GLEWLWYD_BIN}; apt-get install glewlwyd)`;
  if (!fs.existsSync(path.join(MODULES, 'plugin', 'libprotocol_oidc.so'))) return `glewlwyd's OIDC plugin is missing under ${MODULES}`;
  if (!SQL_SCRIPTS.some((f) => fs.existsSync(f))) return `glewlwyd's sqlite3 schema is missing (${SQL_SCRIPTS.join(', ')})`;
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'the sqlite3 command is not installed (apt-get install sqlite3)';
  }
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'the openssl command is not installed (the test CA is made with it)';
  }
  return null;
}

function multiMap(searchParams) {
  const out = {};
  for (const [key, value] of searchParams) {
    if (!(key in out)) out[key] = value;
    else out[key] = [].concat(out[key], value);
  }
  return out;
}

function decodeAuthorization(header) {
  if (!header) return null;
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme.toLowerCase() !== 'basic') return { scheme, value };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme, value, user: decoded, password: null };
  return { scheme, value, user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// Append the secrets of one issuance ([{kind, value}]) to the record (nothing when not recording).
function recordIssued(issuer, source, secrets) {
  if (!RECORD_DIR || secrets.length === 0) return;
  fs.mkdirSync(RECORD_DIR, { recursive: true });
  fs.appendFileSync(path.join(RECORD_DIR, `issued-${process.pid}.jsonl`),
    `${JSON.stringify({ issuer, source, time: Date.now(), secrets })}\n`);
}

function issuedIn(responseText) {
  let body;
  try {
    body = JSON.parse(responseText);
  } catch {
    return [];
  }
  if (!body || typeof body !== 'object') return [];
  return ISSUED_FIELDS.filter((k) => typeof body[k] === 'string' && body[k]).map((k) => ({ kind: k, value: body[k] }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

// A loopback port that was free a moment ago (listened on, then closed).
export async function freePort() {
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

// One HTTP request to glewlwyd itself (no TLS, no proxy); resolves to {status, headers, text, json()}.
function direct(port, method, p, { body, cookie, headers = {} } = {}) {
  const payload = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  const h = { ...headers };
  if (payload !== undefined && !h['content-type']) h['content-type'] = 'application/json';
  if (payload !== undefined) h['content-length'] = Buffer.byteLength(payload);
  if (cookie) h.cookie = cookie;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent: false, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: glewlwyd did not answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// glewlwyd's configuration file (libconfig syntax). Quirk: `use_secure_connection` must be left
// out, not set to false: with the key present glewlwyd insists on the key and certificate paths.
function configText({ port, origin, dbPath, logLevel }) {
  return `# written by tests/e2e/lib/glewlwyd.mjs for one test run
port=${port}
bind_address="127.0.0.1"
external_url="${origin}"
login_url="login.html"
api_prefix="${API}"
allow_origin="${origin}"
log_mode="console"
log_level="${logLevel}"
cookie_secure=1
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "${dbPath}"
};
`;
}

// A fresh database from the package's script, in one transaction without fsync (statement by
// statement, with a sync each, it takes seconds; this one is thrown away after the run anyway).
function initDatabase(dbPath) {
  const script = SQL_SCRIPTS.find((f) => fs.existsSync(f));
  const sql = script.endsWith('.gz') ? execFileSync('gzip', ['-dc', script]) : fs.readFileSync(script);
  const input = Buffer.concat([
    Buffer.from('PRAGMA journal_mode=MEMORY;\nPRAGMA synchronous=OFF;\nBEGIN;\n'), sql, Buffer.from('\nCOMMIT;\n')]);
  execFileSync('sqlite3', ['-bail', dbPath], { input, stdio: ['pipe', 'ignore', 'pipe'] });
}

// The OIDC plugin instance. Parameter names as glewlwyd 2.7's admin app writes them.
function pluginParameters(opts, issuer) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    iss: issuer,
    'oauth-as-iss-id': true, // RFC 9207: `iss` in every authorization response
    'jwt-type': 'ecdsa',
    'jwt-key-size': '256',
    key: privateKey.export({ type: 'sec1', format: 'pem' }),
    cert: publicKey.export({ type: 'spki', format: 'pem' }),
    'jwks-show': true,
    'access-token-duration': opts.accessTokenTTL,
    'refresh-token-duration': opts.refreshTokenTTL,
    'code-duration': 60,
    'refresh-token-rolling': false,
    // `always`: every refresh disables the refresh token used and answers a new one (rotation);
    // a reused one breaks the chain (its successor is disabled too).
    'refresh-token-one-use': opts.rotateRefreshToken ? 'always' : 'never',
    'client-refresh-token-one-use-parameter': 'refresh-token-one-use',
    'allow-non-oidc': true, // client_credentials is OAuth 2 only
    'auth-type-code-enabled': true,
    'auth-type-code-revoke-replayed': true,
    'auth-type-token-enabled': false,
    'auth-type-id-token-enabled': true,
    'auth-type-none-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-client-enabled': true,
    'auth-type-device-enabled': false,
    'auth-type-refresh-enabled': true,
    scope: [],
    'additional-parameters': [],
    claims: [],
    'secret-type': 'public',
    'name-claim': 'mandatory',
    'name-claim-scope': [],
    'email-claim': 'mandatory',
    'email-claim-scope': [],
    'scope-claim': 'no',
    'scope-claim-scope': [],
    'address-claim': {
      type: 'no', formatted: '', street_address: '', locality: '', region: '', postal_code: '', country: '', mandatory: false,
    },
    'allowed-scope': ['openid', 'offline_access', 'api'],
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'pkce-required': true,
    'pkce-required-public-client': true,
    'pkce-scopes': [],
    'introspection-revocation-allowed': true,
    'introspection-revocation-auth-scope': [],
    'introspection-revocation-allow-target-client': true,
    'register-client-allowed': false,
    'session-management-allowed': false,
    'request-parameter-allow': false,
    'request-uri-allow-https-non-secure': false,
    'encrypt-out-token-allow': false,
    'oauth-dpop-allowed': false,
    'resource-allowed': false,
    'oauth-rar-allowed': false,
    'oauth-par-allowed': false,
    'oauth-ciba-allowed': false,
  };
}

const DEFAULTS = {
  accessTokenTTL: 600, refreshTokenTTL: 14 * 24 * 3600, rotateRefreshToken: true, redirectPorts: 4,
  ciSecret: undefined, logLevel: 'INFO',
};

// The request log and TLS front of one glewlwyd.
class Proxy {
  constructor(pki) {
    this.server = https.createServer({ cert: fs.readFileSync(pki.certPath), key: fs.readFileSync(pki.keyPath) });
    this.log = [];
    this.seq = 0;
    this.upstreamPort = null;
    this.issuer = null;
    this.issuerPath = `/${API}/${PLUGIN}`;
    this.server.on('request', (req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'bad_gateway', error_description: String(err.message) }));
        } else res.destroy();
      });
    });
  }

  endpointOf(pathname) {
    if (pathname.startsWith('/.well-known/oauth-authorization-server')) return 'metadata';
    if (pathname.startsWith('/.well-known/openid-configuration')) return 'metadata';
    if (pathname === '/login.html') return 'login_page';
    if (pathname.startsWith(`${this.issuerPath}/`)) {
      const rel = pathname.slice(this.issuerPath.length).replace(/\/+$/, '');
      const hit = ENDPOINTS.find(([p]) => rel === p);
      return hit ? hit[1] : 'other';
    }
    if (pathname.startsWith(`/${API}/auth`)) return 'login_api';
    return 'other';
  }

  record(req, url, body) {
    const type = String(req.headers['content-type'] || '');
    const entry = {
      seq: ++this.seq, time: Date.now(), method: req.method, path: url.pathname,
      endpoint: this.endpointOf(url.pathname), query: multiMap(url.searchParams), contentType: type || null,
      params: type.startsWith('application/x-www-form-urlencoded') ? multiMap(new URLSearchParams(body.toString('utf8'))) : {},
      body: body.toString('utf8'), authorization: decodeAuthorization(req.headers.authorization),
      userAgent: req.headers['user-agent'] || null, status: null, location: null, response: null,
    };
    this.log.push(entry);
    return entry;
  }

  async handle(req, res) {
    const url = new URL(req.url, 'https://127.0.0.1');
    const body = await readBody(req);
    const entry = this.record(req, url, body);
    const headers = { ...req.headers };
    // No compressed answers (the log keeps the text) and no hop-by-hop headers.
    for (const h of ['accept-encoding', 'connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade']) delete headers[h];
    headers['content-length'] = body.length;
    const upstream = await new Promise((resolve, reject) => {
      const up = http.request({
        host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers, agent: false, timeout: 15000,
      }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('error', reject);
        r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
      });
      up.on('timeout', () => up.destroy(new Error('glewlwyd did not answer in 15 s')));
      up.on('error', reject);
      up.end(body);
    });
    entry.status = upstream.status;
    entry.location = upstream.headers.location || null;
    if (RESPONSE_RECORDED.has(entry.endpoint)) entry.response = upstream.body.toString('utf8');
    if (entry.endpoint === 'token') {
      recordIssued(this.issuer, `token ${entry.params?.grant_type || ''}`.trim(), issuedIn(entry.response));
    }
    const out = { ...upstream.headers };
    for (const h of ['connection', 'keep-alive', 'transfer-encoding']) delete out[h];
    out['content-length'] = upstream.body.length;
    res.writeHead(upstream.status, out);
    res.end(upstream.body);
  }

  async close() {
    const closed = new Promise((resolve) => { this.server.close(() => resolve()); });
    this.server.closeAllConnections?.();
    await closed;
  }
}

// Log in as glewlwyd's administrator; returns the session cookie ("NAME=VALUE").
async function adminSession(port) {
  const res = await direct(port, 'POST', `/${API}/auth/`, { body: ADMIN });
  if (res.status !== 200) throw new Error(`glewlwyd admin login: ${res.status} ${res.text}`);
  const cookie = [].concat(res.headers['set-cookie'] || []).map((c) => c.split(';')[0]).find((c) => c.startsWith('GLEWLWYD2_SESSION_ID='));
  if (!cookie) throw new Error('glewlwyd admin login set no session cookie');
  return cookie;
}

async function waitUntilAnswering(port, child, output) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`glewlwyd exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    try {
      // Any HTTP answer will do; 404 for a path nobody serves.
      await direct(port, 'GET', `/${API}/__tokenctl_e2e_ready`);
      return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`glewlwyd did not answer on port ${port} in ${READY_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Start glewlwyd behind its proxy and configure it. Options: accessTokenTTL (600 s),
// refreshTokenTTL, rotateRefreshToken (true: one-time refresh tokens), redirectPorts (how many
// exact loopback redirect URIs, each on its own free port, the public client gets: 4), ciSecret.
// Resolves to the handle: {issuer, origin, ca, port (the proxy's), glewlwydPort, publicClientId,
// redirectPort, redirectPorts, redirectUri(port), ciClientId, ciSecret, user, password,
// requests(endpoint), reset(), browserEnv(), introspect(token, hint), userinfo(token),
// revoke(token, hint), tokenRequest(params, [user, secret]), redeemRefreshToken(token),
// admin(method, path, body), output() (glewlwyd's log), stop()}.
export async function startGlewlwyd(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-glewlwyd-'));
  let proxy;
  let child;
  let watchdog;
  let output = '';
  const stop = async () => {
    if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (proxy) await proxy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = createTestPki(dir);
    proxy = new Proxy(pki);
    const port = await listen(proxy.server);
    const origin = `https://127.0.0.1:${port}`;
    const issuer = `${origin}/${API}/${PLUGIN}`;
    proxy.issuer = issuer;
    const dbPath = path.join(dir, 'glewlwyd.sqlite3');
    initDatabase(dbPath);

    // Start glewlwyd on a free port; another process may take the port between the probe and
    // glewlwyd's bind, so try again a few times.
    let glewlwydPort;
    for (let attempt = 1; ; attempt += 1) {
      glewlwydPort = await freePort();
      const configFile = path.join(dir, 'glewlwyd.conf');
      fs.writeFileSync(configFile, configText({ port: glewlwydPort, origin, dbPath, logLevel: opts.logLevel }));
      output = '';
      child = spawn(GLEWLWYD_BIN, [`--config-file=${configFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      // glewlwyd cannot stop on its own when the test process dies (lib/server-main.mjs's
      // --stop-on-stdin-eof); this shell does it for glewlwyd: its stdin is a pipe from this
      // process, and when that closes (this process exited, however), it sends glewlwyd SIGTERM.
      // stop() kills the watchdog first.
      watchdog = spawn('/bin/sh', ['-c', 'read _ ; kill -TERM "$1" 2>/dev/null', 'glewlwyd-watchdog', String(child.pid)],
        { stdio: ['pipe', 'ignore', 'ignore'] });
      watchdog.unref();
      watchdog.stdin.unref?.();
      const keep = (c) => { output = (output + c).slice(-256 * 1024); };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      try {
        await waitUntilAnswering(glewlwydPort, child, () => output);
        break;
      } catch (err) {
        watchdog.kill('SIGKILL');
        if (child.exitCode === null) child.kill('SIGKILL');
        if (attempt >= 3) throw err;
      }
    }
    proxy.upstreamPort = glewlwydPort;

    const cookie = await adminSession(glewlwydPort);
    const admin = async (method, p, body) => {
      const res = await direct(glewlwydPort, method, `/${API}${p}`, { body, cookie });
      if (res.status !== 200) throw new Error(`glewlwyd admin ${method} ${p}: ${res.status} ${res.text}`);
      return res.text ? res.json() : null;
    };

    await admin('POST', '/mod/plugin/', {
      module: 'oidc', name: PLUGIN, display_name: 'tokenctl e2e OpenID Connect', order_rank: 0, readonly: false,
      parameters: pluginParameters(opts, issuer),
    });
    for (const name of ['offline_access', 'api']) {
      await admin('POST', '/scope/', {
        name, display_name: name, description: `tokenctl e2e scope ${name}`, password_required: false, password_max_age: 0, scheme: {},
      });
    }
    const password = crypto.randomBytes(18).toString('base64url');
    await admin('POST', '/user/', {
      username: 'alice', password, name: 'Alice Example', email: 'alice@example.test', enabled: true,
      scope: ['openid', 'offline_access', 'api'],
    });
    const redirectPorts = [];
    while (redirectPorts.length < opts.redirectPorts) {
      const p = await freePort();
      if (p !== port && p !== glewlwydPort && !redirectPorts.includes(p)) redirectPorts.push(p);
    }
    const redirectUri = (p) => `http://127.0.0.1:${p}/callback`;
    await admin('POST', '/client/', {
      client_id: 'tokenctl', name: 'tokenctl', description: 'public native client (RFC 8252)', enabled: true,
      confidential: false, redirect_uri: redirectPorts.map(redirectUri),
      authorization_type: ['code', 'refresh_token'], scope: [],
    });
    const ciSecret = opts.ciSecret || crypto.randomBytes(24).toString('base64url');
    recordIssued(issuer, 'client secrets', [{ kind: 'client_secret', value: ciSecret }]);
    // Quirk: without token_endpoint_auth_method a confidential client can authenticate nowhere
    // (every token request: 403, empty body).
    await admin('POST', '/client/', {
      client_id: 'ci-runner', name: 'ci-runner', description: 'confidential client for CI', enabled: true,
      confidential: true, client_secret: ciSecret, token_endpoint_auth_method: ['client_secret_basic', 'client_secret_post'],
      redirect_uri: [], authorization_type: ['client_credentials'], scope: ['api'],
    });

    const form = (p, params, auth) => {
      const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (auth) headers.authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
      return direct(glewlwydPort, 'POST', `/${API}/${PLUGIN}${p}`, { body: new URLSearchParams(params).toString(), headers });
    };
    const ci = ['ci-runner', ciSecret];
    // A token request of the test's own (recorded for the secrets scan like the proxy's).
    const tokenRequest = async (params, auth) => {
      const res = await form('/token', params, auth);
      if (res.status === 200) recordIssued(issuer, `token ${params.grant_type} (test)`, issuedIn(res.text));
      return res;
    };

    return {
      issuer, origin, ca: pki.caPath, port, glewlwydPort, dir,
      publicClientId: 'tokenctl', redirectPort: redirectPorts[0], redirectPorts, redirectUri,
      ciClientId: 'ci-runner', ciSecret, user: 'alice', password,
      // Recorded requests through the proxy, oldest first; `endpoint` filters ("token", ...).
      requests: async (endpoint) => (endpoint ? proxy.log.filter((e) => e.endpoint === endpoint) : [...proxy.log]),
      reset: async () => { proxy.log = []; },
      // What tokenctl's environment needs for the glewlwyd BROWSER stand-in.
      browserEnv: () => ({ BROWSER: GLEWLWYD_BROWSER, TEST_BROWSER_USER: 'alice', TEST_BROWSER_PASSWORD: password }),
      // Straight to glewlwyd (not logged): RFC 7662 introspection as ci-runner (glewlwyd answers
      // `active` only for the authenticating client's own tokens), userinfo with a bearer token,
      // RFC 7009 revocation as ci-runner, a refresh_token grant as the public client.
      introspect: async (token, hint) => {
        const res = await form('/introspect', hint ? { token, token_type_hint: hint } : { token }, ci);
        if (res.status !== 200) throw new Error(`introspection: ${res.status} ${res.text}`);
        return res.json();
      },
      userinfo: (token) => direct(glewlwydPort, 'GET', `/${API}/${PLUGIN}/userinfo`, { headers: { authorization: `Bearer ${token}` } }),
      revoke: (token, hint, auth = ci) => form('/revoke', hint ? { token, token_type_hint: hint } : { token }, auth),
      tokenRequest,
      redeemRefreshToken: (refreshToken) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'tokenctl' }),
      admin,
      output: () => output,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    err.message += output ? `\nglewlwyd's output:\n${output.slice(-4000)}` : '';
    throw err;
  }
}
