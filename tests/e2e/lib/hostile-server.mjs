// A hostile authorization server on loopback that answers whatever it is told, for attack tests.
//
// Why: oidc-provider (lib/server.mjs) is a correct server, and a correct server cannot send a
// user code with escape sequences, an id token for another subject, a token of 350 KB or JSON
// under a text/html content type. This one can. By default it is a minimal correct OAuth 2.0 /
// OpenID Connect server, enough for tokenctl's login (code + PKCE, no login page: the
// authorization endpoint redirects at once), refresh (with rotation), client credentials, device
// grant, revocation and userinfo; a test then scripts the answers it needs, one request at a time.
// It runs in the test process (tokenctl and the BROWSER stand-in are child processes spawned
// asynchronously, so the event loop is free to serve them while a test awaits them).
//
//   const hs = await startHostileServer({ tls: false });   // http://127.0.0.1:PORT
//   hs.script('token', { status: 400, json: { error: 'invalid_grant' } });      // next token request
//   hs.script('authorization', { params: { error: 'access_denied', error_description: '\x1b[2J' } });
//   hs.script('token', { headers: { 'content-type': 'text/html' }, body: Buffer.from(...) });
//   hs.script('token', async (req, entry) => ({ delayMs: 2000 }));   // the default answer, late
//   hs.tokenResponse({ idTokenClaims: { sub: 'mallory' } });            // every later token answer
//   hs.metadata({ device_authorization_endpoint: undefined });          // drop a metadata field
//
// Endpoints (names as in the request log and for script()): 'discovery' (RFC 8414
// /.well-known/oauth-authorization-server, before or after the issuer path, and
// {issuer}/.well-known/openid-configuration), 'authorization' ({issuer}/authorize), 'token'
// ({issuer}/token), 'device_authorization' ({issuer}/device_authorization), 'revocation'
// ({issuer}/revoke), 'userinfo' ({issuer}/userinfo); unscripted: 'jwks' ({issuer}/jwks),
// 'device_verification' ({issuer}/device, a page with the user code and Approve/Deny buttons),
// 'other' (404).
//
// The handle: issuer, origin, port, ca (PEM path with tls, else null), endpoints (URLs by name),
// ciSecret (client ci-runner's), clients, user (settable: the subject of later codes and device
// approvals); requests(endpoint?), script(endpoint, answer, {times}), pending(endpoint?),
// metadata(fields), tokenResponse(fields), deviceResponse(fields), userinfoResponse(fields) (the
// defaults patched until reset(); undefined deletes a field; tokenResponse also takes
// idTokenClaims and idTokenHeader), approveDevice(userCode?, {user}), denyDevice(userCode?),
// autoApproveDevice(on), waitForRequest(endpoint, {count, timeoutMs}), issued(), reset(), stop().
//
// An answer (for script(); every field optional):
//   status        HTTP status (default: the default answer's)
//   headers       merged over the default headers (content-type application/json, no-store,
//                 Content-Length); a value of null removes one (content-length: null: chunked)
//   body          raw bytes (Buffer or string), sent as they are (the default content type stays
//                 unless `headers` changes it): a BOM, invalid UTF-8, a form under a JSON type...
//   json          any value: the body is its JSON text
//   fields        the default answer's JSON document with these fields merged (undefined
//                 deletes one): e.g. { access_token: 'A'.repeat(350 * 1024) }, { expires_in: 0 }
//   idTokenClaims ('token') the default id token's claims with these merged (undefined deletes)
//   idTokenHeader ('token') the id token's JOSE header merged; { alg: 'none' } leaves it unsigned
//   delayMs       wait this long before answering (for races; a default answer is made after
//                 the wait, so a code or refresh token is spent only then)
//   destroy       true: close the connection without an answer (after delayMs)
//   rawResponse   Buffer or string: written to the socket as the whole HTTP response, then the
//                 connection is closed (for what node's http module refuses to send: control
//                 characters in headers, a broken status line, two Content-Lengths)
//   record        false: do not hand the tokens in this answer to the secrets recorder (only for
//                 tests that pin a known leak as todo; see hostile.test.mjs)
//   ('authorization' only) params: the redirect's query parameters merged over the default
//                 { code, state, iss } (undefined or null deletes one; with `error` and without
//                 `code`, the code is dropped); location: the whole Location instead; user: the
//                 subject of the code (default: the server's `user`); status, body or json
//                 without params and location: that answer instead of the redirect
// An answer can also be a function (req, entry) => answer (or a promise of one), called with the
// request and its log entry; undefined or null means the default answer. An answer with none of
// status, body, json, rawResponse, destroy is the default answer with the given changes.
//
// Every token it hands out (default or scripted answers, including scripted raw bodies whose
// JSON or form it can read) is appended to TOKENCTL_E2E_RECORD/issued-PID.jsonl exactly as
// lib/server.mjs does, for the whole-run secrets scan (secrets-scan.mjs).

import * as crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

import { createTestPki } from './tls.mjs';

const RECORD_DIR = process.env.TOKENCTL_E2E_RECORD || null;
const ISSUED_FIELDS = ['access_token', 'refresh_token', 'id_token', 'device_code'];
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MAX_BODY = 1024 * 1024;
const MAX_RECORDED_RESPONSE = 64 * 1024;
export const SCRIPTABLE = ['discovery', 'authorization', 'token', 'device_authorization', 'revocation', 'userinfo'];
const PATCHABLE = ['discovery', 'token', 'device_authorization', 'userinfo'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const DEFAULTS = {
  tls: false, issuerPath: '', user: 'alice', accessTokenTTL: 3600, idTokenTTL: 3600,
  deviceCodeTTL: 600, deviceInterval: 1, rotateRefreshToken: true, idTokenAlg: 'ES256',
  clients: undefined,
};

// Append the secrets of one issuance ([{kind, value}]) to the record (the format of lib/server.mjs).
function recordIssued(issuer, source, secrets) {
  if (!RECORD_DIR || secrets.length === 0) return;
  fs.mkdirSync(RECORD_DIR, { recursive: true });
  fs.appendFileSync(path.join(RECORD_DIR, `issued-${process.pid}.jsonl`),
    `${JSON.stringify({ issuer, source, time: Date.now(), secrets })}\n`);
}

// The token fields of a response body, read as leniently as any client might: JSON (a UTF-8 BOM
// or whitespace before it is fine) or a form (with ';' or '&' between pairs).
function tokensIn(bytes) {
  const text = Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, '').trim();
  const out = [];
  const add = (kind, value) => {
    if (typeof value === 'string' && value && !out.some((s) => s.value === value)) out.push({ kind, value });
  };
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc === 'object') for (const k of ISSUED_FIELDS) add(k, doc[k]);
  } catch { /* not JSON */ }
  for (const sep of [/&/, /[&;]/]) {
    for (const [k, v] of new URLSearchParams(text.split(sep).join('&'))) if (ISSUED_FIELDS.includes(k)) add(k, v);
  }
  // A value with characters outside RFC 6750's b64token: its pieces too (a client that splits it
  // at the ';' and prints the rest leaks half a token; pieces under 16 bytes the scan ignores).
  for (const { kind, value } of [...out]) {
    for (const piece of value.split(/[^A-Za-z0-9._~+/=-]+/)) if (piece.length >= 16) add(kind, piece);
  }
  return out;
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
  const unform = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  if (colon < 0) return { scheme, value, user: unform(decoded), password: null };
  return { scheme, value, user: unform(decoded.slice(0, colon)), password: unform(decoded.slice(colon + 1)) };
}

// `base` with `patch` merged: a key whose value is undefined (or null, when nullDeletes) is removed.
function merge(base, patch, nullDeletes = false) {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch || {})) {
    if (v === undefined || (nullDeletes && v === null)) delete out[k];
    else out[k] = v;
  }
  return out;
}

function b64url(data) {
  return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url');
}

const random = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url');

function userCode() {
  const letters = 'BCDFGHJKLMNPQRSTVWXZ';
  const pick = () => Array.from(crypto.randomBytes(4), (b) => letters[b % letters.length]).join('');
  return `${pick()}-${pick()}`;
}

function capitalise(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
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

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class OAuthFailure extends Error {
  constructor(status, error, description, headers = {}) {
    super(`${error}: ${description}`);
    this.answer = { status, json: { error, error_description: description }, headers };
  }
}

class HostileServer extends EventEmitter {
  constructor(opts, server, origin, pki, dir) {
    super();
    this.opts = opts;
    this.server = server;
    this.origin = origin;
    this.port = server.address().port;
    this.issuerPath = (opts.issuerPath || '').replace(/\/+$/, '');
    this.issuer = origin + this.issuerPath;
    this.ca = pki ? pki.caPath : null;
    this.dir = dir;
    this.user = opts.user;
    this.ciSecret = random(24);
    this.clients = opts.clients || { tokenctl: null, 'ci-runner': this.ciSecret };
    this.endpoints = {
      authorization: `${this.issuer}/authorize`, token: `${this.issuer}/token`,
      device_authorization: `${this.issuer}/device_authorization`, revocation: `${this.issuer}/revoke`,
      userinfo: `${this.issuer}/userinfo`, jwks: `${this.issuer}/jwks`, device_verification: `${this.issuer}/device`,
    };
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.signingKey = privateKey;
    this.kid = random(8);
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'ES256' };
    this.issuedList = [];
    this.recordSecrets('client secrets', Object.values(this.clients).filter(Boolean)
      .map((value) => ({ kind: 'client_secret', value })));
    this.codes = new Map();
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
    this.devices = new Map();
    this.timers = new Set();
    this.resetState();
    server.on('request', (req, res) => {
      this.handle(req, res).catch((err) => {
        process.stderr.write(`hostile server: ${err.stack || err}\n`);
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'server_error', error_description: String(err.message) }));
        } else res.destroy();
      });
    });
  }

  resetState() {
    this.log = [];
    this.seq = 0;
    this.scripts = new Map(SCRIPTABLE.map((e) => [e, []]));
    this.patches = new Map(PATCHABLE.map((e) => [e, {}]));
    this.idClaimsPatch = {};
    this.idHeaderPatch = {};
    this.deviceAutoApprove = false;
  }

  // --- the API for tests ---

  // The request log, oldest first; `endpoint` filters. Entries: seq, time, method, path, endpoint,
  // query, headers, contentType, params (form), body (text), bodyBytes (Buffer), authorization
  // ({scheme, value, user, password} for Basic), scripted, status ('destroyed' or 'raw' for those
  // answers), response (text, at most 64 KiB), responseHeaders, error.
  requests(endpoint) {
    return endpoint ? this.log.filter((e) => e.endpoint === endpoint) : [...this.log];
  }

  // Queue `answer` for the next `times` requests to `endpoint` (one of SCRIPTABLE).
  script(endpoint, answer, { times = 1 } = {}) {
    if (!this.scripts.has(endpoint)) throw new Error(`script: unknown endpoint ${endpoint} (one of ${SCRIPTABLE.join(', ')})`);
    for (let i = 0; i < times; i += 1) this.scripts.get(endpoint).push(answer);
    return this;
  }

  // How many scripted answers are still queued (for `endpoint`, or all).
  pending(endpoint) {
    if (endpoint) return this.scripts.get(endpoint).length;
    return [...this.scripts.values()].reduce((n, q) => n + q.length, 0);
  }

  // Patch the default answer of `endpoint` ('discovery', 'token', 'device_authorization',
  // 'userinfo') for every later request until reset(); undefined deletes a field. For 'token',
  // `idTokenClaims` and `idTokenHeader` patch the id token.
  patch(endpoint, fields) {
    if (!this.patches.has(endpoint)) throw new Error(`patch: unknown endpoint ${endpoint} (one of ${PATCHABLE.join(', ')})`);
    const { idTokenClaims, idTokenHeader, ...rest } = fields;
    if (endpoint === 'token') {
      if (idTokenClaims) this.idClaimsPatch = { ...this.idClaimsPatch, ...idTokenClaims };
      if (idTokenHeader) this.idHeaderPatch = { ...this.idHeaderPatch, ...idTokenHeader };
    }
    this.patches.set(endpoint, { ...this.patches.get(endpoint), ...rest });
    return this;
  }

  metadata(fields) { return this.patch('discovery', fields); }

  tokenResponse(fields) { return this.patch('token', fields); }

  deviceResponse(fields) { return this.patch('device_authorization', fields); }

  userinfoResponse(fields) { return this.patch('userinfo', fields); }

  // Mark device authorizations approved (by `user`, default the server's) or denied: the one with
  // `userCode`, else every pending one. Returns how many changed.
  approveDevice(userCode, { user = this.user } = {}) { return this.settleDevices(userCode, 'approved', user); }

  denyDevice(userCode) { return this.settleDevices(userCode, 'denied'); }

  // Device authorizations made from now on start approved (true) or pending (false).
  autoApproveDevice(on = true) { this.deviceAutoApprove = on; }

  // Every secret handed to the recorder so far: [{kind, value, source}].
  issued() { return [...this.issuedList]; }

  // Resolve with the log entry of the `count`-th request to `endpoint` since the last reset(), at
  // once if it came already (as soon as it arrives, before it is answered: for races). For "the
  // next one", count: hs.requests(endpoint).length + 1.
  waitForRequest(endpoint, { count = 1, timeoutMs = 20000 } = {}) {
    const logged = this.requests(endpoint);
    if (logged.length >= count) return Promise.resolve(logged[count - 1]);
    return new Promise((resolve, reject) => {
      let seen = logged.length;
      const onRequest = (entry) => {
        if (entry.endpoint !== endpoint || (seen += 1) < count) return;
        clearTimeout(timer);
        this.off('request', onRequest);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.off('request', onRequest);
        reject(new Error(`no request to ${endpoint} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('request', onRequest);
    });
  }

  // Clear the log, the queued scripts, the patches and device auto-approval. Codes, tokens and
  // device authorizations already issued stay valid.
  reset() { this.resetState(); }

  async stop() {
    for (const t of this.timers) clearTimeout(t);
    const closed = new Promise((resolve) => { this.server.close(() => resolve()); });
    this.server.closeAllConnections?.();
    await closed;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // --- serving ---

  relativePath(pathname) {
    if (!this.issuerPath) return pathname;
    if (pathname === this.issuerPath) return '/';
    return pathname.startsWith(`${this.issuerPath}/`) ? pathname.slice(this.issuerPath.length) : null;
  }

  endpointOf(pathname) {
    const wellKnown = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
    if (wellKnown.some((w) => pathname === `${w}${this.issuerPath}`)) return 'discovery';
    const rel = this.relativePath(pathname);
    if (rel === null) return 'other';
    if (wellKnown.includes(rel)) return 'discovery';
    return {
      '/authorize': 'authorization', '/token': 'token', '/device_authorization': 'device_authorization',
      '/revoke': 'revocation', '/userinfo': 'userinfo', '/jwks': 'jwks', '/device': 'device_verification',
    }[rel] || 'other';
  }

  async handle(req, res) {
    const url = new URL(req.url, this.origin);
    const body = await readBody(req);
    const contentType = String(req.headers['content-type'] || '');
    const entry = {
      seq: ++this.seq, time: Date.now(), method: req.method, path: url.pathname,
      endpoint: this.endpointOf(url.pathname), query: multiMap(url.searchParams), headers: { ...req.headers },
      contentType: contentType || null,
      params: contentType.startsWith('application/x-www-form-urlencoded')
        ? multiMap(new URLSearchParams(body.toString('utf8'))) : {},
      body: body.toString('utf8'), bodyBytes: body, authorization: decodeAuthorization(req.headers.authorization),
      userAgent: req.headers['user-agent'] || null, scripted: false, status: null, response: null,
      responseHeaders: null, error: null,
    };
    this.log.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    this.emit('request', entry);

    let answer;
    const queue = this.scripts.get(entry.endpoint);
    if (queue && queue.length) {
      let scripted = queue.shift();
      if (typeof scripted === 'function') scripted = await scripted(req, entry);
      if (scripted) {
        answer = scripted;
        entry.scripted = true;
      }
    }
    answer = answer || {};
    if (answer.delayMs) await this.delay(answer.delayMs);
    if (answer.destroy) {
      entry.status = 'destroyed';
      res.destroy();
      return;
    }
    if (answer.rawResponse !== undefined) {
      entry.status = 'raw';
      entry.response = Buffer.from(answer.rawResponse).toString('utf8').slice(0, MAX_RECORDED_RESPONSE);
      this.recordAnswer(entry, Buffer.from(answer.rawResponse), answer);
      res.socket.end(answer.rawResponse);
      return;
    }
    const explicit = answer.status !== undefined || answer.body !== undefined || answer.json !== undefined;
    let built;
    if (entry.endpoint === 'authorization' && (!explicit || answer.params || answer.location)) {
      built = this.authorization(entry, answer);
    } else if (explicit) {
      built = { status: answer.status ?? 200 };
      if (answer.json !== undefined) built.json = answer.json;
      else if (answer.body !== undefined) built.body = answer.body;
    } else {
      try {
        built = this.defaultAnswer(entry, answer);
      } catch (err) {
        if (!(err instanceof OAuthFailure)) throw err;
        built = err.answer;
      }
    }
    this.send(res, entry, built, answer);
  }

  delay(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.timers.delete(t); resolve(); }, ms);
      this.timers.add(t);
    });
  }

  send(res, entry, built, answer) {
    const asked = Object.fromEntries(Object.entries({ ...(built.headers || {}), ...(answer.headers || {}) })
      .map(([k, v]) => [k.toLowerCase(), v]));
    const headers = merge({
      'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache',
    }, asked, true);
    let bytes;
    if (built.body !== undefined) bytes = Buffer.from(built.body);
    else if (built.json !== undefined) bytes = Buffer.from(`${JSON.stringify(built.json)}\n`);
    else bytes = Buffer.alloc(0);
    if (bytes.length === 0 && built.status >= 300 && built.status < 400) delete headers['content-type'];
    // Content-Length unless the answer names it or Transfer-Encoding (null: neither, so chunked).
    if (!('content-length' in asked) && !('transfer-encoding' in asked)) headers['content-length'] = bytes.length;
    entry.response = bytes.subarray(0, MAX_RECORDED_RESPONSE).toString('utf8');
    entry.responseHeaders = headers;
    this.recordAnswer(entry, bytes, answer);
    try {
      res.writeHead(built.status, headers);
    } catch (err) {
      entry.error = `node refused the answer (use rawResponse for bytes it will not send): ${err.message}`;
      throw new Error(entry.error);
    }
    res.end(bytes);
  }

  recordAnswer(entry, bytes, answer) {
    if (answer.record === false) return;
    if (!['token', 'device_authorization'].includes(entry.endpoint)) return;
    const grant = typeof entry.params.grant_type === 'string' ? ` ${entry.params.grant_type}` : '';
    this.recordSecrets(`hostile ${entry.endpoint}${grant}`, tokensIn(bytes));
  }

  recordSecrets(source, secrets) {
    if (secrets.length === 0) return;
    for (const s of secrets) this.issuedList.push({ ...s, source });
    recordIssued(this.issuer, source, secrets);
  }

  defaultAnswer(entry, answer) {
    switch (entry.endpoint) {
      case 'discovery':
        return { status: 200, json: merge(merge(this.metadataDocument(), this.patches.get('discovery')), answer.fields) };
      case 'token': return this.tokenEndpoint(entry, answer);
      case 'device_authorization': return this.deviceAuthorization(entry, answer);
      case 'revocation': return this.revocation(entry);
      case 'userinfo': return this.userinfo(entry, answer);
      case 'jwks': return { status: 200, json: { keys: [this.jwk] } };
      case 'device_verification': return this.devicePage(entry);
      default: return { status: 404, json: { error: 'not_found', error_description: `no such path: ${entry.path}` } };
    }
  }

  metadataDocument() {
    const e = this.endpoints;
    return {
      issuer: this.issuer, authorization_endpoint: e.authorization, token_endpoint: e.token,
      device_authorization_endpoint: e.device_authorization, revocation_endpoint: e.revocation,
      userinfo_endpoint: e.userinfo, jwks_uri: e.jwks, response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', 'offline_access', 'profile', 'email', 'api'],
      subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256', 'none'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'email'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  // The authorization endpoint: no login page, a redirect with a fresh code at once.
  authorization(entry, answer) {
    const q = entry.query;
    const one = (k) => (typeof q[k] === 'string' ? q[k] : undefined);
    const redirectUri = one('redirect_uri');
    let target = null;
    try { target = redirectUri ? new URL(redirectUri) : null; } catch { /* not a URL */ }
    const page = (status, text) => ({
      status, headers: { 'content-type': 'text/html;charset=utf-8' }, body: `<!doctype html><title>${text}</title><p>${text}</p>\n`,
    });
    if (answer.location !== undefined) return { status: answer.status ?? 302, headers: { location: answer.location } };
    if (!target || target.protocol !== 'http:' || !LOOPBACK_HOSTS.has(target.hostname)) {
      return page(400, 'invalid redirect_uri: only http loopback addresses are registered');
    }
    if (!(one('client_id') in this.clients)) return page(400, 'unknown client_id');
    let params;
    if (one('response_type') !== 'code') {
      params = { error: 'unsupported_response_type', error_description: 'only code' };
    } else if (one('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(one('code_challenge') || '')) {
      params = { error: 'invalid_request', error_description: 'PKCE with S256 is required' };
    } else {
      const code = random();
      this.codes.set(code, {
        clientId: one('client_id'), redirectUri, challenge: one('code_challenge'), nonce: one('nonce'),
        scope: one('scope') || '', user: answer.user || this.user, expires: Date.now() + 60000,
      });
      params = { code };
    }
    if (one('state') !== undefined) params.state = one('state');
    params.iss = this.issuer;
    const given = answer.params || {};
    if ('error' in given && !('code' in given)) delete params.code;
    params = merge(params, given, true);
    const location = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) location.searchParams.append(k, String(v));
    return { status: answer.status ?? 302, headers: { location: location.href } };
  }

  // The client of a token, revocation or device request: {clientId}; throws invalid_client.
  authenticate(entry) {
    const basic = entry.authorization?.scheme?.toLowerCase() === 'basic' ? entry.authorization : null;
    const clientId = basic ? basic.user : entry.params.client_id;
    const secret = basic ? basic.password : entry.params.client_secret;
    if (typeof clientId !== 'string' || !(clientId in this.clients)) {
      throw new OAuthFailure(401, 'invalid_client', 'unknown client');
    }
    const expected = this.clients[clientId];
    if (expected && secret !== expected) throw new OAuthFailure(401, 'invalid_client', 'wrong client secret');
    if (!expected && secret) throw new OAuthFailure(401, 'invalid_client', 'a public client has no secret');
    return { clientId, confidential: Boolean(expected) };
  }

  idToken(claims, answer) {
    const header = merge({ alg: this.opts.idTokenAlg, typ: 'JWT', kid: this.kid },
      { ...this.idHeaderPatch, ...(answer.idTokenHeader || {}) });
    if (header.alg === 'none') delete header.kid;
    const payload = merge(merge(claims, this.idClaimsPatch), answer.idTokenClaims);
    const input = `${b64url(header)}.${b64url(payload)}`;
    if (header.alg === 'none') return `${input}.`;
    const signature = crypto.sign('sha256', Buffer.from(input), { key: this.signingKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  // A token response for `grant` (sub, clientId, scope, nonce), every token remembered.
  issue({ sub, clientId, scope, nonce }, answer) {
    const scopes = scope.split(' ').filter(Boolean);
    const now = Math.floor(Date.now() / 1000);
    const doc = { access_token: random(), token_type: 'Bearer', expires_in: this.opts.accessTokenTTL };
    if (scope) doc.scope = scope;
    this.accessTokens.set(doc.access_token, { sub, clientId, scope, exp: now + this.opts.accessTokenTTL });
    if (sub && scopes.includes('offline_access')) {
      doc.refresh_token = random();
      this.refreshTokens.set(doc.refresh_token, { sub, clientId, scope, active: true });
    }
    if (sub && scopes.includes('openid')) {
      const claims = {
        iss: this.issuer, sub, aud: clientId, iat: now, exp: now + this.opts.idTokenTTL, auth_time: now,
        name: `${capitalise(sub)} Example`, email: `${sub}@example.test`,
      };
      if (nonce) claims.nonce = nonce;
      doc.id_token = this.idToken(claims, answer);
    }
    return { status: 200, json: merge(merge(doc, this.patches.get('token')), answer.fields) };
  }

  tokenEndpoint(entry, answer) {
    if (entry.method !== 'POST') throw new OAuthFailure(405, 'invalid_request', 'POST only');
    const { clientId, confidential } = this.authenticate(entry);
    const p = entry.params;
    const fail = (error, description) => { throw new OAuthFailure(400, error, description); };
    for (const [k, v] of Object.entries(p)) if (Array.isArray(v)) fail('invalid_request', `${k} repeated`);
    switch (p.grant_type) {
      case 'authorization_code': {
        const code = this.codes.get(p.code);
        this.codes.delete(p.code);
        if (!code || code.expires < Date.now()) fail('invalid_grant', 'unknown, used or expired code');
        if (code.clientId !== clientId) fail('invalid_grant', 'the code was issued to another client');
        if (code.redirectUri !== p.redirect_uri) fail('invalid_grant', 'redirect_uri differs from the authorization request');
        const challenge = crypto.createHash('sha256').update(String(p.code_verifier || '')).digest('base64url');
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(p.code_verifier || '') || challenge !== code.challenge) {
          fail('invalid_grant', 'PKCE verification failed');
        }
        return this.issue({ sub: code.user, clientId, scope: code.scope, nonce: code.nonce }, answer);
      }
      case 'refresh_token': {
        const old = this.refreshTokens.get(p.refresh_token);
        if (!old || !old.active) fail('invalid_grant', 'unknown, rotated or revoked refresh token');
        if (old.clientId !== clientId) fail('invalid_grant', 'the refresh token was issued to another client');
        let scope = old.scope;
        if (typeof p.scope === 'string') {
          const granted = old.scope.split(' ');
          if (!p.scope.split(' ').every((s) => granted.includes(s))) fail('invalid_scope', 'more than was granted');
          scope = p.scope;
        }
        const built = this.issue({ sub: old.sub, clientId, scope: old.scope }, answer);
        if (scope !== old.scope) built.json.scope = scope;
        if (this.opts.rotateRefreshToken) old.active = false;
        else if (built.json.refresh_token) {
          this.refreshTokens.delete(built.json.refresh_token);
          built.json.refresh_token = p.refresh_token;
        }
        return built;
      }
      case 'client_credentials':
        if (!confidential) fail('unauthorized_client', 'client_credentials needs a confidential client');
        return this.issue({ sub: null, clientId, scope: p.scope || '' }, answer);
      case DEVICE_GRANT: {
        const device = this.devices.get(p.device_code);
        if (!device || device.clientId !== clientId) fail('invalid_grant', 'unknown device code');
        if (device.expires < Date.now()) fail('expired_token', 'the device code expired');
        if (device.status === 'pending') fail('authorization_pending', 'the user has not signed in yet');
        if (device.status === 'denied') fail('access_denied', 'the user denied the request');
        if (device.status === 'used') fail('invalid_grant', 'the device code was used');
        device.status = 'used';
        return this.issue({ sub: device.user, clientId, scope: device.scope }, answer);
      }
      default:
        return fail('unsupported_grant_type', `grant_type ${String(p.grant_type)} is not supported`);
    }
  }

  deviceAuthorization(entry, answer) {
    if (entry.method !== 'POST') throw new OAuthFailure(405, 'invalid_request', 'POST only');
    const { clientId } = this.authenticate(entry);
    const code = { device_code: random(), user_code: userCode() };
    this.devices.set(code.device_code, {
      clientId, userCode: code.user_code, scope: typeof entry.params.scope === 'string' ? entry.params.scope : '',
      status: this.deviceAutoApprove ? 'approved' : 'pending', user: this.user,
      expires: Date.now() + this.opts.deviceCodeTTL * 1000,
    });
    const doc = {
      ...code, verification_uri: this.endpoints.device_verification,
      verification_uri_complete: `${this.endpoints.device_verification}?user_code=${encodeURIComponent(code.user_code)}`,
      expires_in: this.opts.deviceCodeTTL, interval: this.opts.deviceInterval,
    };
    return { status: 200, json: merge(merge(doc, this.patches.get('device_authorization')), answer.fields) };
  }

  settleDevices(userCode, status, user) {
    let changed = 0;
    for (const device of this.devices.values()) {
      if (device.status !== 'pending' || (userCode !== undefined && device.userCode !== userCode)) continue;
      device.status = status;
      if (user) device.user = user;
      changed += 1;
    }
    return changed;
  }

  devicePage(entry) {
    const given = entry.method === 'POST' ? entry.params : entry.query;
    const code = typeof given.user_code === 'string' ? given.user_code : '';
    let said = '';
    if (entry.method === 'POST' && code) {
      const n = this.settleDevices(code, given.action === 'deny' ? 'denied' : 'approved', this.user);
      said = n ? `<p id="result">${given.action === 'deny' ? 'Denied' : 'Approved'}.</p>` : '<p id="result">Unknown code.</p>';
    }
    const escaped = code.replace(/[^A-Z0-9-]/gi, '');
    return {
      status: 200, headers: { 'content-type': 'text/html;charset=utf-8' },
      body: `<!doctype html><title>Device sign-in</title>${said}`
        + `<form method="post" action="${this.endpoints.device_verification}">`
        + `<input name="user_code" value="${escaped}"><button name="action" value="approve">Approve</button>`
        + '<button name="action" value="deny">Deny</button></form>\n',
    };
  }

  revocation(entry) {
    if (entry.method !== 'POST') throw new OAuthFailure(405, 'invalid_request', 'POST only');
    const { clientId } = this.authenticate(entry);
    const token = entry.params.token;
    const refresh = this.refreshTokens.get(token);
    if (refresh && refresh.clientId === clientId) refresh.active = false;
    const access = this.accessTokens.get(token);
    if (access && access.clientId === clientId) this.accessTokens.delete(token);
    return { status: 200, body: '' };
  }

  userinfo(entry, answer) {
    const auth = entry.authorization;
    const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' };
    const token = auth && auth.scheme.toLowerCase() === 'bearer' ? auth.value : null;
    const found = token ? this.accessTokens.get(token) : null;
    if (!found || !found.sub || found.exp * 1000 < Date.now()) {
      throw new OAuthFailure(401, 'invalid_token', 'unknown or expired access token', challenge);
    }
    const doc = { sub: found.sub, name: `${capitalise(found.sub)} Example`, email: `${found.sub}@example.test` };
    return { status: 200, json: merge(merge(doc, this.patches.get('userinfo')), answer.fields) };
  }
}

// Start a hostile server on 127.0.0.1 (http; `tls: true` for https with a fresh test CA from
// lib/tls.mjs). Options: tls, issuerPath ('/realms/x'), user ('alice': the subject of codes and
// device approvals; hs.user changes it), accessTokenTTL, idTokenTTL, deviceCodeTTL, deviceInterval
// (1 s, for quick device tests), rotateRefreshToken (true), idTokenAlg ('ES256' or 'none'), clients
// ({client_id: secret or null}; default tokenctl public and ci-runner with hs.ciSecret).
export async function startHostileServer(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  if (opts.issuerPath && !opts.issuerPath.startsWith('/')) throw new Error('issuerPath must start with "/"');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-hostile-'));
  try {
    const pki = opts.tls ? createTestPki(dir) : null;
    const server = pki
      ? https.createServer({ cert: fs.readFileSync(pki.certPath), key: fs.readFileSync(pki.keyPath) })
      : http.createServer();
    await listen(server);
    const origin = `${pki ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
    return new HostileServer(opts, server, origin, pki, dir);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

