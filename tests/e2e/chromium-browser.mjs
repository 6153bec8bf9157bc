#!/usr/bin/env node
// A real browser as tokenctl's BROWSER: Debian's Chromium, headless, driven by playwright-core.
//
// Why: browser.mjs is a careful imitation of a browser; this is the real thing, so that a login
// test also covers what only a browser does: its own redirect handling and cookie rules, HTML
// forms submitted by a click, automatic requests (/favicon.ico on tokenctl's loopback listener,
// the sign-in page's web font), and the rendering of tokenctl's loopback page. tokenctl runs
// `$BROWSER URL`; this program opens URL in a fresh profile as a person's browser would, follows
// every redirect (a one-time loopback address that answers 302 to the authorization URL is fine),
// signs in at oidc-provider's devInteractions login form (login TEST_BROWSER_USER, default alice,
// any password), presses Continue at the consent form, waits for tokenctl's loopback page, and
// exits 0 when that page answered 2xx (else 1, with the reason on stderr and in the log).
//
// Settings: TEST_BROWSER_USER; TEST_BROWSER_LOG (a JSON log, complete when `done` is true: the
// pages visited, the forms submitted, the final page's text, and `requests`: every request the
// browser made, from Chromium's own NetLog, automatic ones included (/favicon.ico, its update and
// autofill services), with the values of state, code, nonce, code_challenge and other secret
// parameters redacted: no token or code ever); TEST_BROWSER_RECORD (a folder: this program's argv
// goes to browser-PID.jsonl there, for secrets-scan.mjs, as browser.mjs does); TEST_BROWSER_CA or
// NODE_EXTRA_CA_CERTS (the test CA, for an https server: this test-only profile then ignores
// certificate errors, and every https origin the browser used is checked afterwards, by node,
// against that CA; without a CA an https test server is refused, as by any browser);
// TEST_CHROMIUM (the executable, default /usr/bin/chromium); TEST_BROWSER_TIMEOUT_MS (30000).
// Nothing is written to stdout. Only the default mode (sign in and consent) exists.
//
// The network stays on loopback: Chromium gets a proxy (in this process) for every address but
// loopback, which refuses every request and logs its target in `outside` (the sign-in page's
// Google web font, Chromium's update, clock, account and autofill services), and
// --host-resolver-rules resolves no name but localhost, so no name is looked up either.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';

const EXECUTABLE = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.TEST_BROWSER_TIMEOUT_MS) || 30000;
const STEP_TIMEOUT_MS = 15000;
const MAX_STEPS = 12;
const LINGER_MS = 1000;
// Query parameters whose values never go into the log.
const SECRET_PARAMS = new Set(['state', 'code', 'nonce', 'code_challenge', 'code_verifier', 'access_token',
  'refresh_token', 'id_token', 'token', 'client_secret', 'device_code', 'session_state', 'assertion',
  'client_assertion', 'login_hint_token', 'id_token_hint', 'request', 'request_uri']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// The flags: headless, no sandbox (tests run as root), no GPU, no QUIC, and none of Chromium's
// own network services; plus the resolver rule that keeps every name but localhost unresolved.
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'];

const log = {
  browser: 'chromium', version: null, executable: EXECUTABLE, flags: CHROMIUM_FLAGS,
  user: process.env.TEST_BROWSER_USER || 'alice', url: null, pid: process.pid, pages: [], steps: [],
  final: null, requests: [], outside: [], tls: null, result: null, error: null, done: false,
};

function isLoopback(url) {
  return LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

// `text` with the values of secret parameters (in the query or the fragment) replaced; a text
// that is not a URL is kept as it is.
function redactUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return String(text);
  }
  const redact = (params) => [...new URLSearchParams(params)]
    .map(([k, v]) => `${encodeURIComponent(k)}=${SECRET_PARAMS.has(k) ? '[redacted]' : encodeURIComponent(v)}`).join('&');
  const query = url.search ? `?${redact(url.search)}` : '';
  const fragment = url.hash ? `#${redact(url.hash.slice(1))}` : '';
  url.search = '';
  url.hash = '';
  return `${url.href}${query}${fragment}`;
}

// `text` with every URL in it redacted (playwright's error messages quote whole URLs).
function redactText(text) {
  return String(text).replace(/\b(?:https?|wss?):\/\/[^\s"'<>]+/g, (url) => redactUrl(url));
}

function writeLog() {
  const file = process.env.TEST_BROWSER_LOG;
  if (!file) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(log, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function recordArgv() {
  const dir = process.env.TEST_BROWSER_RECORD;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, `browser-${process.pid}.jsonl`),
    `${JSON.stringify({ argv: process.argv, ppid: process.ppid, mode: 'chromium', time: Date.now() })}\n`);
}

function caFile() {
  return process.env.TEST_BROWSER_CA || process.env.NODE_EXTRA_CA_CERTS || null;
}

// Check, with node's TLS and the test CA, that loopback `origin` presents a certificate for its host.
function verifyOrigin(origin, ca) {
  const url = new URL(origin);
  if (!isLoopback(url)) return Promise.reject(new Error(`${origin} is not on loopback`));
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || 443, ca: fs.readFileSync(ca),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
    }, () => {
      socket.end();
      resolve();
    });
    socket.setTimeout(5000, () => socket.destroy(new Error(`no TLS handshake with ${origin} in 5 s`)));
    socket.on('error', (err) => reject(new Error(`${origin}: ${err.message}`)));
  });
}

// The proxy Chromium is given for every address but loopback (which Chromium never proxies): it
// refuses every request and notes its target in log.outside, so that what the browser tried to
// reach beyond loopback on its own (update checks, autofill, the clock) is in the log, and none of
// it needs a name resolved or leaves the machine.
async function startRefusingProxy() {
  const proxy = http.createServer((req, res) => {
    log.outside.push({ method: req.method, url: redactUrl(req.url), time: Date.now() });
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' });
    res.end('tokenctl e2e: no network beyond loopback\n');
  });
  proxy.on('connect', (req, socket) => {
    log.outside.push({ method: 'CONNECT', url: req.url, time: Date.now() });
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  proxy.on('clientError', (err, socket) => socket.destroy());
  await new Promise((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', resolve);
  });
  return proxy;
}

// The page's kind: 'login' or 'consent' (oidc-provider's devInteractions forms), or null.
async function formOn(page) {
  for (const prompt of ['login', 'consent']) {
    const form = page.locator(`form:has(input[name="prompt"][value="${prompt}"])`);
    if (await form.count() === 1) return { prompt, form };
  }
  return null;
}

// Every URL request Chromium made, from its NetLog (`file`): page loads, redirects, subresources,
// /favicon.ico and its own services alike, in order: [{method, url (redacted), status | error}].
function requestsFromNetLog(file) {
  let text = fs.readFileSync(file, 'utf8').trimEnd();
  let netlog;
  try {
    netlog = JSON.parse(text);
  } catch {
    // A NetLog cut short (the browser killed) lacks its closing brackets.
    text = text.replace(/,\s*$/, '');
    netlog = JSON.parse(`${text}]}`);
  }
  const { logEventTypes, netError } = netlog.constants;
  const errors = new Map(Object.entries(netError).map(([name, code]) => [code, name]));
  const START_JOB = logEventTypes.URL_REQUEST_START_JOB;
  const HEADERS = logEventTypes.HTTP_TRANSACTION_READ_RESPONSE_HEADERS;
  const current = new Map();
  const out = [];
  for (const e of netlog.events) {
    const p = e.params || {};
    if (e.type === START_JOB && p.url) {
      const entry = { method: p.method, url: redactUrl(p.url) };
      current.set(e.source.id, entry);
      out.push(entry);
    } else if (e.type === HEADERS && current.has(e.source.id) && Array.isArray(p.headers)) {
      const status = /^HTTP\/[\d.]+ (\d{3})/.exec(p.headers[0] || '');
      if (status) current.get(e.source.id).status = Number(status[1]);
    } else if (e.type === START_JOB && p.net_error && current.has(e.source.id)) {
      current.get(e.source.id).error = errors.get(p.net_error) || String(p.net_error);
    }
  }
  return out;
}

async function main() {
  recordArgv();
  const start = process.argv[2];
  if (!start || process.argv.length !== 3) throw new Error('usage: chromium-browser.mjs URL');
  const started = Date.now();
  log.url = redactUrl(start);
  writeLog();
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-chromium-'));
  const netlog = path.join(profile, 'netlog.json');
  const ca = caFile();
  const origins = new Set();
  let redirectUri = null;
  let context;
  let proxy;
  const deadline = setTimeout(() => {
    log.result = 'error';
    log.error = `no end within ${TIMEOUT_MS} ms`;
    process.stderr.write(`chromium-browser.mjs: ${log.error}\n`);
    log.done = true;
    writeLog();
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(1); // playwright-core kills the browser it started as this process exits
  }, TIMEOUT_MS);
  try {
    proxy = await startRefusingProxy();
    const args = CHROMIUM_FLAGS.filter((f) => f !== '--headless'); // playwright-core adds it for headless
    args.push(`--proxy-server=http://127.0.0.1:${proxy.address().port}`, `--log-net-log=${netlog}`);
    log.flags = [...CHROMIUM_FLAGS, '--proxy-server=http://127.0.0.1:PORT (refuses all)', '--log-net-log=PROFILE/netlog.json',
      '--user-data-dir=PROFILE (fresh)'];
    context = await chromium.launchPersistentContext(profile, {
      executablePath: EXECUTABLE, headless: true, args,
      ignoreHTTPSErrors: Boolean(ca), timeout: STEP_TIMEOUT_MS,
      env: {
        ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache'),
      },
    });
    log.version = context.browser()?.version() ?? null;
    log.launchedMs = Date.now() - started;
    log.tls = ca ? `certificate errors ignored in this profile; origins checked against ${ca} afterwards` : 'system trust';
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol === 'https:' && isLoopback(url)) origins.add(url.origin); // others went to the proxy
      if (!redirectUri && url.searchParams.has('redirect_uri')) redirectUri = url.searchParams.get('redirect_uri');
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    // The response of the main frame's current document (the last one of a redirect chain).
    let documentResponse = null;
    page.on('response', (r) => {
      const request = r.request();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame() && !(r.status() >= 300 && r.status() < 400)) {
        documentResponse = r;
      }
    });
    const isCallback = (url) => {
      if (redirectUri) {
        const r = new URL(redirectUri);
        return url.origin === r.origin && url.pathname === r.pathname;
      }
      return url.protocol === 'http:' && isLoopback(url) && (url.searchParams.has('code') || url.searchParams.has('error'));
    };
    await page.goto(start, { waitUntil: 'load' });
    for (let i = 0; ; i += 1) {
      const here = new URL(page.url());
      const visited = {
        url: redactUrl(page.url()), status: documentResponse?.status() ?? null, title: await page.title(),
        ms: Date.now() - started,
      };
      log.pages.push(visited);
      writeLog();
      if (isCallback(here)) {
        log.final = { url: visited.url, status: visited.status, title: visited.title, text: await page.innerText('body') };
        // A person's browser lingers on the page: give it time for /favicon.ico and the like.
        await page.waitForTimeout(LINGER_MS);
        if (!(visited.status >= 200 && visited.status < 300)) {
          throw new Error(`tokenctl's page answered ${visited.status}: ${log.final.text}`);
        }
        break;
      }
      if (i >= MAX_STEPS) throw new Error(`no redirect to the loopback listener after ${MAX_STEPS} pages`);
      const found = await formOn(page);
      if (!found) {
        const text = (await page.innerText('body').catch(() => '')).slice(0, 2000);
        log.final = { url: visited.url, status: visited.status, title: visited.title, text };
        throw new Error(`page ${here.origin}${here.pathname} (status ${visited.status}) has no login or consent form`);
      }
      if (found.prompt === 'login') {
        await found.form.locator('input[name="login"]').fill(log.user);
        await found.form.locator('input[name="password"]').fill('correct horse battery staple');
      }
      log.steps.push({ did: `${found.prompt} form`, page: visited.url });
      // The form's POST answers with redirects; the next document commits once, at their end.
      const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() });
      await found.form.locator('button[type="submit"]').click();
      await navigated;
      await page.waitForLoadState('load');
    }
    if (ca) {
      for (const origin of origins) await verifyOrigin(origin, ca);
    }
    log.result = 'ok';
  } finally {
    log.ms = Date.now() - started;
    clearTimeout(deadline);
    if (context) await context.close().catch(() => {});
    if (proxy) {
      proxy.closeAllConnections?.();
      await new Promise((resolve) => proxy.close(resolve));
    }
    try {
      log.requests = requestsFromNetLog(netlog);
    } catch (err) {
      log.requests = null;
      log.netlogError = err.message;
    }
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log.result = 'error';
  log.error = redactText(err.message.split('\n')[0]);
  process.stderr.write(`chromium-browser.mjs: ${log.error}\n`);
  process.exitCode = 1;
}).finally(() => {
  log.done = true;
  writeLog();
});
