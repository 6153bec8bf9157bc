// The e2e authorization server: panva's oidc-provider 8.8.1, unmodified, on 127.0.0.1, with a
// protected resource, a request log and injected faults in front of it.
//
// Why: the end-to-end tests need a real authorization server that nobody on this project wrote,
// so that tokenctl is checked against someone else's reading of the RFCs (PKCE, RFC 9207 `iss`,
// refresh token rotation, client authentication). Everything the tests need beyond the provider
// lives in this thin front: the request log (what tokenctl actually sent), the fault table (what a
// broken server does), /api/whoami (proof that a token works) and the /__test/ hooks that drive
// them. The front reads each request body once, records it, and hands the bytes to the provider.

import Provider from 'oidc-provider';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

import { FaultTable, parseFault } from './faults.mjs';
import { createTestPki } from './tls.mjs';

const LOOPBACK_REDIRECTS = ['http://127.0.0.1/callback', 'http://localhost/callback'];
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MAX_BODY = 1024 * 1024;
const MAX_RECORDED_RESPONSE = 64 * 1024;
// Endpoints whose answers the request log keeps (as `response`), so that tests know every token
// the server issued and can check that tokenctl never prints one where it must not.
const RESPONSE_RECORDED = new Set(['token', 'revocation', 'introspection', 'device_authorization']);
// The secrets recorder (see tests/e2e/secrets-scan.mjs): when TOKENCTL_E2E_RECORD names a folder,
// every token, device code and client secret this server hands out is appended at once to
// RECORD/issued-PID.jsonl, so that a server that crashes or is killed loses none of them.
const RECORD_DIR = process.env.TOKENCTL_E2E_RECORD || null;
const ISSUED_FIELDS = ['access_token', 'refresh_token', 'id_token', 'device_code'];

// Paths below the issuer, by the name the request log gives them (oidc-provider's defaults).
const ENDPOINTS = [
  ['/.well-known/openid-configuration', 'discovery'], ['/token/revocation', 'revocation'],
  ['/token/introspection', 'introspection'], ['/token', 'token'],
  ['/device/auth', 'device_authorization'], ['/device', 'code_verification'],
  ['/auth', 'authorization'], ['/interaction', 'interaction'], ['/me', 'userinfo'],
  ['/jwks', 'jwks'],
];

const DEFAULTS = {
  tls: true, hostname: '127.0.0.1', port: 0, issuerPath: '', accessTokenTTL: 3600,
  clientCredentialsTTL: 600, refreshTokenTTL: 14 * 24 * 3600, idTokenTTL: 3600,
  deviceCodeTTL: 600, rotateRefreshToken: true, ciSecret: undefined,
  confidentialSecret: undefined,
};

function capitalise(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function clients(secrets) {
  return [{
    client_id: 'tokenctl', application_type: 'native', token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    response_types: ['code'], redirect_uris: LOOPBACK_REDIRECTS,
  }, {
    client_id: 'ci-runner', client_secret: secrets.ci, token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api',
  }, {
    client_id: 'confidential-app', client_secret: secrets.confidential, application_type: 'native',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    redirect_uris: LOOPBACK_REDIRECTS,
  }];
}

function providerConfiguration(opts, secrets) {
  const rotate = opts.rotateRefreshToken;
  return {
    clients: clients(secrets),
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true }, revocation: { enabled: true },
      introspection: { enabled: true }, clientCredentials: { enabled: true },
      deviceFlow: { enabled: true }, userinfo: { enabled: true },
    },
    pkce: { methods: ['S256'], required: () => true },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
    rotateRefreshToken: rotate === 'default' ? undefined : () => rotate,
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub, name: `${capitalise(sub)} Example`, email: `${sub}@example.test`, email_verified: true,
          };
        },
      };
    },
    ttl: {
      AccessToken: opts.accessTokenTTL, ClientCredentials: opts.clientCredentialsTTL,
      RefreshToken: opts.refreshTokenTTL, IdToken: opts.idTokenTTL, AuthorizationCode: 60,
      DeviceCode: opts.deviceCodeTTL, BackchannelAuthenticationRequest: 600,
      Grant: 14 * 24 * 3600, Interaction: 3600, Session: 14 * 24 * 3600,
    },
  };
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

// Keep a copy of what the provider writes to `res` in entry.response (text, at most 64 KiB), and
// record the tokens of token and device authorization responses of `issuer`.
function recordResponse(res, entry, issuer) {
  const chunks = [];
  let size = 0;
  const keep = (chunk, encoding) => {
    if (!chunk || typeof chunk === 'function' || size >= MAX_RECORDED_RESPONSE) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk
      : Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
    chunks.push(bytes);
    size += bytes.length;
  };
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (chunk, ...rest) => {
    keep(chunk, rest[0]);
    return write(chunk, ...rest);
  };
  res.end = (chunk, ...rest) => {
    keep(chunk, rest[0]);
    entry.response = Buffer.concat(chunks).toString('utf8').slice(0, MAX_RECORDED_RESPONSE);
    if (entry.endpoint === 'token' || entry.endpoint === 'device_authorization') {
      recordIssued(issuer, `${entry.endpoint} ${entry.params?.grant_type || ''}`.trim(), issuedIn(entry.response));
    }
    return end(chunk, ...rest);
  };
}

// Append the secrets of one issuance ([{kind, value}]) to the record (nothing when not recording).
function recordIssued(issuer, source, secrets) {
  if (!RECORD_DIR || secrets.length === 0) return;
  fs.mkdirSync(RECORD_DIR, { recursive: true });
  fs.appendFileSync(path.join(RECORD_DIR, `issued-${process.pid}.jsonl`),
    `${JSON.stringify({ issuer, source, time: Date.now(), secrets })}\n`);
}

// The tokens (and device code) in a token or device authorization response text.
function issuedIn(responseText) {
  let body;
  try {
    body = JSON.parse(responseText);
  } catch {
    return [];
  }
  if (!body || typeof body !== 'object') return [];
  return ISSUED_FIELDS.filter((k) => typeof body[k] === 'string' && body[k])
    .map((k) => ({ kind: k, value: body[k] }));
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

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class TestServer {
  constructor(opts, server, origin, pki, dir) {
    this.opts = opts;
    this.server = server;
    this.origin = origin;
    this.issuerPath = opts.issuerPath.replace(/\/+$/, '');
    this.issuer = origin + this.issuerPath;
    this.port = server.address().port;
    this.ca = pki ? pki.caPath : null;
    this.dir = dir;
    this.ciSecret = opts.ciSecret || crypto.randomBytes(24).toString('base64url');
    this.confidentialSecret = opts.confidentialSecret || crypto.randomBytes(24).toString('base64url');
    recordIssued(this.issuer, 'client secrets', [
      { kind: 'client_secret', value: this.ciSecret }, { kind: 'client_secret', value: this.confidentialSecret }]);
    this.provider = new Provider(this.issuer, providerConfiguration(opts, {
      ci: this.ciSecret, confidential: this.confidentialSecret,
    }));
    this.provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));
    this.callback = this.provider.callback();
    this.faults = new FaultTable();
    this.log = [];
    this.seq = 0;
    server.on('request', (req, res) => {
      this.handle(req, res).catch((err) => {
        console.error('test server:', err);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err.message) });
        else res.destroy();
      });
    });
  }

  // The path below the issuer (what oidc-provider routes on), or null outside the issuer.
  relativePath(pathname) {
    if (!this.issuerPath) return pathname;
    if (pathname === this.issuerPath) return '/';
    return pathname.startsWith(`${this.issuerPath}/`) ? pathname.slice(this.issuerPath.length) : null;
  }

  record(req, url, rel, body) {
    let endpoint = 'other';
    if (url.pathname === '/api/whoami') endpoint = 'whoami';
    else if (url.pathname === '/__test/redirected') endpoint = 'redirected';
    else if (rel !== null) {
      const hit = ENDPOINTS.find(([p]) => rel === p || rel.startsWith(`${p}/`));
      if (hit) endpoint = hit[1];
    }
    const type = String(req.headers['content-type'] || '');
    const entry = {
      seq: ++this.seq, time: Date.now(), method: req.method, path: url.pathname, endpoint,
      query: multiMap(url.searchParams), contentType: type || null,
      params: type.startsWith('application/x-www-form-urlencoded')
        ? multiMap(new URLSearchParams(body.toString('utf8'))) : {},
      body: body.toString('utf8'), authorization: decodeAuthorization(req.headers.authorization),
      userAgent: req.headers['user-agent'] || null, fault: null, status: null, response: null,
    };
    this.log.push(entry);
    return entry;
  }

  async handle(req, res) {
    const url = new URL(req.url, this.origin);
    if (url.pathname.startsWith('/__test/') && url.pathname !== '/__test/redirected') {
      return this.hook(req, res, url);
    }
    const body = await readBody(req);
    const rel = this.relativePath(url.pathname);
    const entry = this.record(req, url, rel, body);
    res.on('finish', () => { entry.status = res.statusCode; });
    const fault = this.faults.take(rel === null ? [url.pathname] : [url.pathname, rel]);
    if (fault) {
      entry.fault = fault.mode;
      return this.faults.serve(fault, res, this.origin);
    }
    if (url.pathname === '/api/whoami') return this.whoami(req, res);
    if (url.pathname === '/__test/redirected') {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'followed a redirect' });
    }
    if (rel === null) return sendJson(res, 404, { error: 'not_found', error_description: `no such path: ${url.pathname}` });
    if (this.issuerPath) {
      req.originalUrl = req.url;
      req.url = rel + url.search;
    }
    req.body = body;
    if (RESPONSE_RECORDED.has(entry.endpoint)) recordResponse(res, entry, this.issuer);
    return this.callback(req, res);
  }

  async findToken(value) {
    for (const model of [this.provider.AccessToken, this.provider.ClientCredentials]) {
      try {
        const token = await model.find(value);
        if (token) return token;
      } catch { /* not this kind of token */ }
    }
    return undefined;
  }

  async whoami(req, res) {
    const auth = decodeAuthorization(req.headers.authorization);
    const challenge = { 'www-authenticate': 'Bearer realm="tokenctl-e2e"' };
    let value;
    if (auth && auth.scheme.toLowerCase() === 'bearer') value = auth.value;
    else if (auth && auth.scheme.toLowerCase() === 'basic') value = auth.password;
    if (!value) return sendJson(res, 401, { error: 'invalid_request', error_description: 'no access token' }, challenge);
    const token = await this.findToken(value);
    if (!token) return sendJson(res, 401, { error: 'invalid_token', error_description: 'unknown or expired token' }, challenge);
    return sendJson(res, 200, {
      sub: token.accountId || null, client_id: token.clientId, scope: token.scope || '',
      kind: token.kind, exp: token.exp, auth: auth.scheme.toLowerCase(),
      basic_user: auth.scheme.toLowerCase() === 'basic' ? auth.user : undefined,
    });
  }

  async hook(req, res, url) {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /__test/requests') {
      const endpoint = url.searchParams.get('endpoint');
      return sendJson(res, 200, endpoint ? this.log.filter((e) => e.endpoint === endpoint) : this.log);
    }
    if (route === 'POST /__test/reset') {
      await readBody(req);
      this.log = [];
      this.faults.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (route === 'POST /__test/fault') {
      let fault;
      try {
        fault = parseFault(JSON.parse((await readBody(req)).toString('utf8')));
      } catch (err) {
        return sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
      }
      this.faults.arm(fault);
      return sendJson(res, 200, { ok: true, fault });
    }
    return sendJson(res, 404, { error: 'not_found', error_description: `no test hook ${route}` });
  }

  // What server-main prints after READY and what the harness reads.
  info() {
    return {
      issuer: this.issuer, origin: this.origin, port: this.port, ca: this.ca,
      ciSecret: this.ciSecret, confidentialSecret: this.confidentialSecret,
    };
  }

  // Stop listening, drop every connection (hung ones included) and remove the certificates.
  async close() {
    this.faults.reset();
    const closed = new Promise((resolve) => { this.server.close(() => resolve()); });
    this.server.closeAllConnections?.();
    await closed;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Start the server on 127.0.0.1; options as in DEFAULTS. Resolves to a TestServer once listening.
export async function startTestServer(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  if (opts.issuerPath && !opts.issuerPath.startsWith('/')) throw new Error('issuerPath must start with "/"');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-server-'));
  try {
    const pki = opts.tls ? createTestPki(dir) : null;
    const server = pki
      ? https.createServer({ cert: fs.readFileSync(pki.certPath), key: fs.readFileSync(pki.keyPath) })
      : http.createServer();
    await listen(server, opts.port, '127.0.0.1');
    const origin = `${pki ? 'https' : 'http'}://${opts.hostname}:${server.address().port}`;
    return new TestServer(opts, server, origin, pki, dir);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
