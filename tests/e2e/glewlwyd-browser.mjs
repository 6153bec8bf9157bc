#!/usr/bin/env node
// The BROWSER stand-in for glewlwyd (lib/glewlwyd.mjs): tokenctl runs `$BROWSER URL`, and this
// program signs alice in the way glewlwyd's login page would.
//
// Why a second stand-in: glewlwyd's login page (login.html) is a JavaScript single-page app that
// browser.mjs cannot run. This program does what that app does, through the same REST calls:
// from the first URL (the authorization URL, or a loopback address of tokenctl that redirects to
// it) it follows redirects with its cookies until glewlwyd sends it to login.html?client_id=...&
// scope=...&callback_url=...; there it authenticates the user with the password scheme
// (POST /api/auth/), looks at the scopes (GET /api/auth/grant/CLIENT/SCOPES), grants them to the
// client (PUT /api/auth/grant/CLIENT), and opens callback_url with `g_continue` added, as the
// app's Continue button does; glewlwyd then redirects to tokenctl's loopback listener, whose
// page it reads.
//
// Settings: TEST_BROWSER_MODE (`login`, the default; `idle`: record the URL and do nothing),
// TEST_BROWSER_USER (default alice), TEST_BROWSER_PASSWORD (required for login),
// TEST_BROWSER_GLEWLWYD_API (glewlwyd's API root; default: the login page's origin + /api),
// TEST_BROWSER_CA or NODE_EXTRA_CA_CERTS (the test CA), TEST_BROWSER_LOG (a JSON log of every step
// in the shape browser.mjs writes, complete when `done` is true; it never holds a cookie or the
// password), TEST_BROWSER_RECORD (append this program's argv to browser-PID.jsonl there, for
// secrets-scan.mjs). Nothing is written to stdout.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';

const MODES = new Set(['login', 'idle']);
const MAX_STEPS = 20;
const STEP_TIMEOUT_MS = 15000;

const log = {
  mode: process.env.TEST_BROWSER_MODE || 'login', user: process.env.TEST_BROWSER_USER || 'alice',
  url: process.argv[2] || null, authorizationUrl: null, pid: process.pid, steps: [], grant: null, callback: null, final: null,
  result: null, error: null, done: false,
};

function writeLog() {
  const file = process.env.TEST_BROWSER_LOG;
  if (!file) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(log, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function trustedCas() {
  const file = process.env.TEST_BROWSER_CA || process.env.NODE_EXTRA_CA_CERTS;
  return file ? [...tls.rootCertificates, fs.readFileSync(file, 'utf8')] : undefined;
}

// Cookies by host, path and name: enough of RFC 6265 for one server.
class CookieJar {
  #cookies = new Map();

  store(url, setCookie) {
    for (const line of [].concat(setCookie || [])) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: '/', host: url.hostname,
        secure: false, expired: false,
      };
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) cookie.path = v;
        else if (key === 'secure') cookie.secure = true;
        else if (key === 'max-age') cookie.expired = Number(v) <= 0;
        else if (key === 'expires') cookie.expired = Date.parse(v) <= Date.now();
      }
      const id = `${cookie.host} ${cookie.path} ${cookie.name}`;
      if (cookie.expired) this.#cookies.delete(id);
      else this.#cookies.set(id, cookie);
    }
  }

  header(url) {
    const matches = [...this.#cookies.values()].filter((c) => c.host === url.hostname
      && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      && (!c.secure || url.protocol === 'https:'));
    matches.sort((a, b) => b.path.length - a.path.length);
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

const jar = new CookieJar();
const cas = trustedCas();

function send(method, url, { json } = {}) {
  const body = json === undefined ? null : JSON.stringify(json);
  const headers = { 'user-agent': 'tokenctl-e2e-glewlwyd-browser/1', accept: 'text/html,application/json,*/*' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (body !== null) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const lib = url.protocol === 'https:' ? https : http;
  const options = { method, headers, agent: false, timeout: STEP_TIMEOUT_MS };
  if (url.protocol === 'https:' && cas) options.ca = cas;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        jar.store(url, res.headers['set-cookie']);
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in ${STEP_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A step of the log; URLs of glewlwyd's API are kept, bodies only when something went wrong.
async function step(did, method, url, options) {
  const res = await send(method, url, options);
  const entry = { did, method, url: url.href, status: res.status };
  if (res.headers.location) entry.location = res.headers.location;
  log.steps.push(entry);
  writeLog();
  return { res, entry };
}

function isLoginPage(url) {
  return url.pathname.endsWith('/login.html') && url.searchParams.has('callback_url');
}

// The redirect to tokenctl's listener: the redirect_uri of the authorization request when one was
// seen, else any loopback http URL that carries `code` or `error`.
function isCallback(url, redirectUri) {
  if (redirectUri) {
    const r = new URL(redirectUri);
    return url.protocol === r.protocol && url.host === r.host && url.pathname === r.pathname;
  }
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
    && (url.searchParams.has('code') || url.searchParams.has('error'));
}

// What glewlwyd's login app does on login.html: password login, grant, Continue.
async function signInAtLoginPage(page) {
  const password = process.env.TEST_BROWSER_PASSWORD;
  if (!password) throw new Error('TEST_BROWSER_PASSWORD is not set');
  const api = new URL(`${(process.env.TEST_BROWSER_GLEWLWYD_API || `${page.origin}/api`).replace(/\/+$/, '')}/`);
  const clientId = page.searchParams.get('client_id');
  const scope = page.searchParams.get('scope') || '';
  const callback = page.searchParams.get('callback_url');
  if (!clientId || !callback) throw new Error(`login page without client_id or callback_url: ${page.href}`);

  const auth = await step('password login', 'POST', new URL('auth/', api), { json: { username: log.user, password } });
  if (auth.res.status !== 200) throw new Error(`password login for ${log.user} answered ${auth.res.status}`);
  const listed = await step('read the grant', 'GET', new URL(`auth/grant/${encodeURIComponent(clientId)}/${encodeURIComponent(scope)}`, api));
  if (listed.res.status !== 200) throw new Error(`reading the grant answered ${listed.res.status}`);
  const offered = JSON.parse(listed.res.text).scope || [];
  const names = offered.map((s) => s.name);
  log.grant = { client_id: clientId, requested: scope.split(' ').filter(Boolean), offered: names };
  const granted = await step('grant the scopes', 'PUT', new URL(`auth/grant/${encodeURIComponent(clientId)}`, api),
    { json: { scope: names.join(' ') } });
  if (granted.res.status !== 200) throw new Error(`granting ${names.join(' ')} answered ${granted.res.status}`);
  // The app's Continue button: back to the authorization request, with `g_continue`.
  return new URL(`${callback}${callback.includes('?') ? '&' : '?'}g_continue`);
}

async function signIn(start) {
  let url = start;
  let did = 'open the URL';
  let redirectUri = start.searchParams.get('redirect_uri');
  for (let i = 0; i < MAX_STEPS; i += 1) {
    if (!redirectUri && url.searchParams.has('redirect_uri') && url.searchParams.has('client_id')) {
      redirectUri = url.searchParams.get('redirect_uri');
    }
    if (!log.authorizationUrl && url.searchParams.has('redirect_uri')) log.authorizationUrl = url.href;
    if (isCallback(url, redirectUri) && url !== start) {
      log.callback = { received: url.href };
      const page = await send('GET', url);
      log.final = { url: url.href, status: page.status, text: page.text };
      return;
    }
    if (isLoginPage(url)) {
      url = await signInAtLoginPage(url);
      did = 'continue to the authorization endpoint';
      continue;
    }
    const { res, entry } = await step(did, 'GET', url);
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      url = new URL(res.headers.location, url);
      did = 'follow redirect';
    } else {
      entry.text = res.text.slice(0, 4000);
      throw new Error(`GET ${url.origin}${url.pathname} answered ${res.status} where a redirect was expected`);
    }
  }
  throw new Error(`no redirect to the loopback listener after ${MAX_STEPS} steps`);
}

function recordArgv() {
  const dir = process.env.TEST_BROWSER_RECORD;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(`${dir}/browser-${process.pid}.jsonl`,
    `${JSON.stringify({ argv: process.argv, ppid: process.ppid, mode: log.mode, time: Date.now() })}\n`);
}

async function main() {
  recordArgv();
  if (!MODES.has(log.mode)) throw new Error(`unknown TEST_BROWSER_MODE ${log.mode}`);
  if (!log.url) throw new Error('usage: glewlwyd-browser.mjs URL');
  if (log.mode === 'login') await signIn(new URL(log.url));
  log.result = 'ok';
}

main().catch((err) => {
  log.result = 'error';
  log.error = err.message;
  process.stderr.write(`glewlwyd-browser.mjs: ${err.message}\n`);
  process.exitCode = 1;
}).finally(() => {
  log.done = true;
  writeLog();
});
