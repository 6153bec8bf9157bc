#!/usr/bin/env node
// The BROWSER stand-in for the e2e tests: tokenctl runs `$BROWSER URL`, and this program signs in
// the way a person would.
//
// Why: a login test is only end to end if the authorization request travels the way it does for a
// user: tokenctl builds the URL, a browser follows the server's redirects with its cookies, a
// person fills in the login and consent forms, and the browser is finally redirected to
// tokenctl's loopback listener, whose page the person reads. This program does exactly that with
// node's http/https clients and a small cookie jar, and can misbehave on request (TEST_BROWSER_MODE):
//   login        sign in and consent (default)
//   deny         sign in, then press Cancel at the consent page (the server answers access_denied)
//   wrong-state  replace `state` in the final redirect before following it
//   wrong-iss    replace `iss` in the final redirect with another issuer
//   drop-iss     remove `iss` from the final redirect
//   idle         record the URL and do nothing (a user who never signs in)
//   no-redirect  sign in and consent, but do not follow the final redirect to the loopback
//                listener (a browser on another machine, where that address leads nowhere); the
//                address it would have opened is in the log as callback.received, for a test to
//                paste into tokenctl
//   print        append the URL and a newline to $TEST_BROWSER_LOG, nothing else
//   device       for the device grant (RFC 8628): open the verification URI, enter the user code
//                (from the URI, else $TEST_BROWSER_USER_CODE), confirm, sign in, consent, and read
//                the final page
//   device-deny  as device, but press Abort at the confirmation page
// The URL it is given may be tokenctl's one-time start address (http://127.0.0.1:PORT/start/SECRET),
// which redirects to the authorization URL: the log keeps both, as `url` and `authorizationUrl`.
// Other settings: TEST_BROWSER_USER (login name, default "alice"); TEST_BROWSER_CA or
// NODE_EXTRA_CA_CERTS (the test CA); TEST_BROWSER_LOG (a JSON log of every step, rewritten after
// each step and complete when its field `done` is true); TEST_BROWSER_RECORD (a folder: append
// this program's argv to browser-PID.jsonl there, for secrets-scan.mjs, which checks that no
// token is in the argv of a process tokenctl starts). Nothing is written to stdout.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';

const MODES = new Set(['login', 'deny', 'wrong-state', 'wrong-iss', 'drop-iss', 'idle', 'print',
  'device', 'device-deny', 'no-redirect']);
const MAX_STEPS = 30;
const STEP_TIMEOUT_MS = 15000;
const WRONG_STATE = 'state-forged-by-the-browser-stand-in';
const WRONG_ISS = 'https://attacker.example.test';

const log = {
  mode: process.env.TEST_BROWSER_MODE || 'login', user: process.env.TEST_BROWSER_USER || 'alice',
  url: process.argv[2] || null, authorizationUrl: null, pid: process.pid, steps: [], callback: null, final: null,
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

// Cookies by host, path and name; enough of RFC 6265 for one authorization server.
class CookieJar {
  #cookies = new Map();

  store(url, setCookie) {
    for (const line of [].concat(setCookie || [])) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: '/',
        host: url.hostname, secure: false, expired: false,
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

function send(method, url, form) {
  const body = form ? new URLSearchParams(form).toString() : null;
  const headers = { 'user-agent': 'tokenctl-e2e-browser/1', accept: 'text/html,*/*' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (body !== null) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
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

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (all, e) => {
    const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()];
    if (named) return named;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

function findForms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => ({
    ...attributes(m[1]),
    inputs: [...m[2].matchAll(/<input\b([^>]*)>/gi)].map((i) => attributes(i[1])),
  }));
}

// Fill in a form as a person would: keep hidden values, type the login name and a password.
function fillForm(form) {
  const fields = {};
  for (const input of form.inputs) {
    if (!input.name) continue;
    const type = (input.type || 'text').toLowerCase();
    if (type === 'password') fields[input.name] = 'correct horse battery staple';
    else if (input.name === 'login' || input.name === 'username') fields[input.name] = log.user;
    else fields[input.name] = input.value || '';
  }
  return fields;
}

// The device grant's pages: the user code form and the confirmation form (or its Abort).
function nextDevicePage(forms, pageUrl) {
  const input = forms.find((f) => f.id === 'op.deviceInputForm');
  if (input) {
    const fields = fillForm(input);
    if (!fields.user_code) fields.user_code = process.env.TEST_BROWSER_USER_CODE || '';
    if (!fields.user_code) throw new Error('the server asks for a user code and TEST_BROWSER_USER_CODE is not set');
    return { method: 'POST', url: new URL(input.action, pageUrl), form: fields, did: 'user code form' };
  }
  const confirm = forms.find((f) => f.id === 'op.deviceConfirmForm');
  if (!confirm) return null;
  const fields = fillForm(confirm);
  if (log.mode === 'device-deny') fields.abort = 'yes';
  return {
    method: 'POST', url: new URL(confirm.action, pageUrl), form: fields,
    did: log.mode === 'device-deny' ? 'abort at device confirmation' : 'device confirmation form',
  };
}

// Choose the next request from an HTML page: the login form, the consent form, or Cancel (and
// for the device grant, its own forms). Returns null for a page with nothing to do (the end).
function nextFromPage(page, pageUrl) {
  const forms = findForms(page.text);
  if (log.steps.some((s) => s.did === 'abort at device confirmation')) return null;
  // A page whose script submits its first form at once (oidc-provider's "Submitting Callback").
  if (forms.length && /document\.forms\[0\]\.submit\(\)/.test(page.text)) {
    return { method: 'POST', url: new URL(forms[0].action || pageUrl.href, pageUrl), form: fillForm(forms[0]), did: 'auto-submitted form' };
  }
  const device = log.mode.startsWith('device') ? nextDevicePage(forms, pageUrl) : null;
  if (device) return device;
  const prompt = (form) => form.inputs.find((i) => i.name === 'prompt')?.value;
  const login = forms.find((f) => prompt(f) === 'login');
  if (login) return { method: 'POST', url: new URL(login.action, pageUrl), form: fillForm(login), did: 'login form' };
  const consent = forms.find((f) => prompt(f) === 'consent');
  if (consent && log.mode === 'deny') {
    const cancel = [...page.text.matchAll(/<a\b([^>]*)>/gi)].map((m) => attributes(m[1]))
      .find((a) => a.href && /\/abort\b/.test(a.href));
    if (!cancel) throw new Error('consent page without a Cancel link');
    return { method: 'GET', url: new URL(cancel.href, pageUrl), did: 'cancel at consent' };
  }
  if (consent) return { method: 'POST', url: new URL(consent.action, pageUrl), form: fillForm(consent), did: 'consent form' };
  if (log.mode.startsWith('device')) return null;
  throw new Error(`page ${pageUrl.pathname} (status ${page.status}) has no login or consent form`);
}

function isCallback(url, redirectUri) {
  if (redirectUri) {
    const r = new URL(redirectUri);
    return url.protocol === r.protocol && url.host === r.host && url.pathname === r.pathname;
  }
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
    && (url.searchParams.has('code') || url.searchParams.has('error'));
}

function tamper(url) {
  const out = new URL(url);
  if (log.mode === 'wrong-state') out.searchParams.set('state', WRONG_STATE);
  if (log.mode === 'wrong-iss') out.searchParams.set('iss', WRONG_ISS);
  if (log.mode === 'drop-iss') out.searchParams.delete('iss');
  return out;
}

// The authorization URL: the first address that names a redirect_uri (tokenctl opens a one-time
// loopback address, http://127.0.0.1:PORT/start/SECRET, that redirects to it).
function noteAuthorizationUrl(url) {
  if (!log.authorizationUrl && url.searchParams.get('redirect_uri')) log.authorizationUrl = url.href;
  return log.authorizationUrl ? new URL(log.authorizationUrl).searchParams.get('redirect_uri') : null;
}

// Open tokenctl's one-time start address and return where it redirects (idle mode: a browser
// that loaded the sign-in page and was left alone).
async function openStart(start) {
  if (noteAuthorizationUrl(start)) return;
  const res = await send('GET', start);
  log.steps.push({ did: 'open start address', method: 'GET', url: start.href, status: res.status,
    location: res.headers.location });
  if (res.headers.location) noteAuthorizationUrl(new URL(res.headers.location, start));
}

async function signIn(start) {
  let redirectUri = noteAuthorizationUrl(start);
  const did = start.pathname.startsWith('/start/') ? 'open start address' : 'open authorization URL';
  let next = { method: 'GET', url: start, did };
  for (let i = 0; i < MAX_STEPS; i += 1) {
    if (isCallback(next.url, redirectUri) && log.mode === 'no-redirect') {
      log.callback = { received: next.url.href, followed: null };
      return;
    }
    if (isCallback(next.url, redirectUri)) {
      const target = tamper(next.url);
      log.callback = { received: next.url.href, followed: target.href };
      const page = await send('GET', target);
      log.final = { url: target.href, status: page.status, text: page.text };
      return;
    }
    const res = await send(next.method, next.url, next.form);
    const step = { did: next.did, method: next.method, url: next.url.href, status: res.status };
    log.steps.push(step);
    writeLog();
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      step.location = res.headers.location;
      next = { method: 'GET', url: new URL(res.headers.location, next.url), did: 'follow redirect' };
      redirectUri ||= noteAuthorizationUrl(next.url);
    } else if (res.status === 200 && /html/.test(String(res.headers['content-type']))) {
      const following = nextFromPage(res, next.url);
      if (!following) {
        log.final = { url: next.url.href, status: res.status, text: res.text };
        return;
      }
      next = following;
    } else if (log.mode.startsWith('device') && next.method === 'POST') {
      log.final = { url: next.url.href, status: res.status, text: res.text };
      return;
    } else {
      step.text = res.text.slice(0, 4000);
      throw new Error(`${next.method} ${next.url.pathname} answered ${res.status}`);
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
  if (!log.url) throw new Error('usage: browser.mjs URL');
  if (log.mode === 'print') {
    if (process.env.TEST_BROWSER_LOG) fs.appendFileSync(process.env.TEST_BROWSER_LOG, `${log.url}\n`);
    return;
  }
  if (log.mode === 'idle') await openStart(new URL(log.url));
  else await signIn(new URL(log.url));
  log.result = 'ok';
}

main().catch((err) => {
  log.result = 'error';
  log.error = err.message;
  process.stderr.write(`browser.mjs: ${err.message}\n`);
  process.exitCode = 1;
}).finally(() => {
  log.done = true;
  if (log.mode !== 'print') writeLog();
});
