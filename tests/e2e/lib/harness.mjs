// What every e2e test file uses: the test server as a child process, a fresh environment per test,
// the tokenctl binary run with a deadline, and readers for the files tokenctl writes.
//
// Why a child process for the server: tokenctl and the BROWSER stand-in are child processes of the
// test too, and a server in its own process keeps serving however busy (or hung, by request) the
// test process is; the `READY` line is the readiness probe. Why a fresh environment: a test must not
// see the developer's ~/.config, ~/.netrc, TOKENCTL_* variables, proxies or CA overrides.
//
// Every tokenctl run and every freshEnv home is also handed to the secrets recorder (recorder.mjs).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RECORD_DIR, recordAtExit, registerHome, trackRun } from './recorder.mjs';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BROWSER = path.join(E2E_DIR, 'browser.mjs');
const SERVER_MAIN = path.join(E2E_DIR, 'lib', 'server-main.mjs');
const READY_TIMEOUT_MS = 20000;

// Variables that would make a test depend on the machine it runs on.
const SCRUBBED = [
  'BROWSER', 'NETRC', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS', 'LD_DEBUG',
  'http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy',
  'no_proxy', 'NO_PROXY', 'TEST_BROWSER_MODE', 'TEST_BROWSER_USER', 'TEST_BROWSER_LOG',
  'TEST_BROWSER_CA', 'TEST_BROWSER_RECORD',
  // The developer's own session bus and keyring stay out of reach: a keyring test brings its own.
  'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DBUS_STARTER_ADDRESS', 'DBUS_STARTER_BUS_TYPE',
  'SECRET_SERVICE_BUS_NAME',
];

const tempDirs = new Set();
process.on('exit', () => {
  try {
    recordAtExit();
  } catch (err) {
    process.stderr.write(`harness: the secrets recorder failed: ${err.stack || err}\n`);
    process.exitCode = 1;
  }
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

// Send one HTTP(S) request; resolves to {status, headers, text, json()}. `ca` is a PEM file path.
export function httpRequest(url, { method = 'GET', headers = {}, body, ca, timeoutMs = 15000 } = {}) {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const options = { method, headers: { ...headers }, agent: false, timeout: timeoutMs };
  if (ca) options.ca = fs.readFileSync(ca);
  if (body !== undefined) options.headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = lib.request(target, options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Options that server-main takes as flags; every other option goes in one --config-json object.
const SERVER_FLAGS = {
  issuerPath: '--issuer-path', hostname: '--hostname', accessTokenTTL: '--access-token-ttl',
  clientCredentialsTTL: '--client-credentials-ttl', refreshTokenTTL: '--refresh-token-ttl',
  deviceCodeTTL: '--device-code-ttl', idTokenTTL: '--id-token-ttl', ciSecret: '--ci-secret',
  confidentialSecret: '--confidential-secret', rotateRefreshToken: '--rotate-refresh-token',
};
// The options of lib/server.mjs beyond the flags (described at its top and in README.md).
const SERVER_JSON_OPTIONS = ['shape', 'merchant', 'marketing', 'discovery', 'refreshExpiresIn',
  'databricks', 'tokenExchange', 'ci', 'idp', 'extraClients', 'assertionMaxLifetime', 'resources',
  'grantResources', 'hang'];

function serverArgs(options) {
  const args = [];
  if (options.tls === false) args.push('--no-tls');
  for (const [key, flag] of Object.entries(SERVER_FLAGS)) {
    if (options[key] !== undefined) args.push(flag, String(options[key]));
  }
  const json = {};
  for (const key of SERVER_JSON_OPTIONS) if (options[key] !== undefined) json[key] = options[key];
  const unknown = Object.keys(options).filter((k) => k !== 'tls' && !(k in SERVER_FLAGS) && !SERVER_JSON_OPTIONS.includes(k));
  if (unknown.length) throw new Error(`startServer: unknown option ${unknown.join(', ')}`);
  if (Object.keys(json).length) args.push('--config-json', JSON.stringify(json));
  return args;
}

// Start the test server (lib/server-main.mjs in a child process). Options (all described at the top
// of lib/server.mjs and in README.md, "The server"): tls, issuerPath, hostname, accessTokenTTL,
// clientCredentialsTTL, refreshTokenTTL, deviceCodeTTL, idTokenTTL, rotateRefreshToken, ciSecret,
// confidentialSecret; shape ('merchant' | 'marketing'), merchant, marketing, discovery,
// refreshExpiresIn, databricks, tokenExchange, ci, idp, extraClients, assertionMaxLifetime,
// resources, grantResources, hang. Resolves to a handle with what the server printed (issuer,
// origin, port, ca, ciSecret, confidentialSecret, endpoints, and per shape merchant, marketing,
// databricks, tokenExchange, idp, ci, resources) and methods requests(endpoint), reset(),
// fault(spec), whoami(token, {basicUser}), introspect(token, {mount, clientId, secret}),
// userinfo(token, {mount}), scimMe(token), addClient(metadata, {mount}), info(), stderr(), stop();
// with an identity provider idp.mint(claims, options); with tokenExchange
// tokenExchange.configure({policies, targets, ttl}); with ci ci.configure({github, azure}).
export function startServer(options = {}) {
  const args = serverArgs(options);
  const child = spawn(process.execPath, [SERVER_MAIN, '--stop-on-stdin-eof', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`test server not ready in ${READY_TIMEOUT_MS} ms:\n${stderr}`));
    }, READY_TIMEOUT_MS);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`test server exited (${code}) before READY:\n${stderr}`));
    };
    child.once('exit', onExit);
    child.stdout.on('data', (c) => {
      stdout += c;
      const line = stdout.split('\n').find((l) => l.startsWith('READY '));
      if (!line) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve(makeHandle(child, JSON.parse(line.slice(6)), () => stderr));
    });
  });
}

function makeHandle(child, info, stderr) {
  const hook = async (method, p, body) => {
    const res = await httpRequest(`${info.origin}${p}`, {
      method, ca: info.ca, body, headers: body ? { 'content-type': 'application/json' } : {},
    });
    if (res.status !== 200) throw new Error(`${method} ${p}: ${res.status} ${res.text}`);
    return res.json();
  };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const mountUrls = (mount = 'main') => {
    if (mount === 'main') return info.endpoints;
    if (mount === 'databricks-workspace') return info.databricks.workspace;
    if (mount === 'databricks-account') return info.databricks.account;
    throw new Error(`no mount ${mount}`);
  };
  const handle = {
    ...info,
    child,
    stderr,
    // Recorded requests, oldest first; `endpoint` filters ("token", "revocation", ...).
    requests: (endpoint) => hook('GET', `/__test/requests${endpoint ? `?endpoint=${endpoint}` : ''}`),
    reset: () => hook('POST', '/__test/reset', '{}'),
    fault: (spec) => hook('POST', '/__test/fault', JSON.stringify(spec)),
    info: () => hook('GET', '/__test/info'),
    // Call /api/whoami with the token as Bearer, or as Basic password for `basicUser`.
    whoami: (token, { basicUser } = {}) => httpRequest(`${info.origin}/api/whoami`, {
      ca: info.ca,
      headers: {
        authorization: basicUser !== undefined
          ? `Basic ${Buffer.from(`${basicUser}:${token}`).toString('base64')}` : `Bearer ${token}`,
      },
    }),
    // RFC 7662 introspection at an issuer's endpoint (mount 'main', 'databricks-workspace',
    // 'databricks-account'), as `clientId` (default tokenctl, public: it sees its own tokens; with
    // `secret`, HTTP Basic). Resolves to the parsed answer.
    async introspect(token, { mount = 'main', clientId = 'tokenctl', secret } = {}) {
      const params = { token };
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      if (secret === undefined) params.client_id = clientId;
      else headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
      const res = await httpRequest(mountUrls(mount).introspection_endpoint, {
        method: 'POST', ca: info.ca, headers, body: new URLSearchParams(params).toString(),
      });
      if (res.status !== 200) throw new Error(`introspection: ${res.status} ${res.text}`);
      return res.json();
    },
    // GET the OpenID userinfo endpoint with the token; resolves to {status, headers, text, json()}.
    userinfo: (token, { mount = 'main' } = {}) => httpRequest(mountUrls(mount).userinfo_endpoint,
      { ca: info.ca, headers: bearer(token) }),
    // GET {origin}/api/2.0/preview/scim/v2/Me (Databricks); resolves to {status, headers, text, json()}.
    scimMe: (token) => httpRequest(`${info.origin}/api/2.0/preview/scim/v2/Me`, { ca: info.ca, headers: bearer(token) }),
    // Register a client at run time (e.g. private_key_jwt with `jwks`); rejects with the server's
    // error_description when the metadata is invalid.
    addClient: (client, { mount = 'main' } = {}) => hook('POST', '/__test/clients', JSON.stringify({ client, mount })),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  if (info.idp) {
    // Sign an identity token with the test identity provider: claims (iss, sub, aud, exp, ...;
    // null leaves one out), options {untrusted, alg: 'none', kid, typ, header}. Resolves to the JWT.
    handle.idp = { ...info.idp, mint: async (claims = {}, options = {}) => (await hook('POST', '/__test/idp/mint', JSON.stringify({ claims, options }))).token };
  }
  if (info.tokenExchange) {
    handle.tokenExchange = {
      ...info.tokenExchange,
      configure: (patch) => hook('POST', '/__test/token-exchange', JSON.stringify(patch)),
    };
  }
  if (info.ci) handle.ci = { ...info.ci, configure: (patch) => hook('POST', '/__test/ci', JSON.stringify(patch)) };
  return handle;
}

// Stop a server from startServer (same as server.stop()).
export function stopServer(server) {
  return server ? server.stop() : Promise.resolve();
}

// A fresh environment: temp HOME and XDG_CONFIG_HOME (not created yet), no TOKENCTL_* and no
// variable of SCRUBBED, BROWSER set to the stand-in, the test CA trusted by node children, and
// TEST_BROWSER_LOG in the temp HOME, TEST_BROWSER_RECORD when recording. `extra` is merged last.
export function freshEnv(server, extra = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-home-'));
  tempDirs.add(home);
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TOKENCTL_') && !SCRUBBED.includes(key)) env[key] = value;
  }
  Object.assign(env, {
    HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), BROWSER,
    TEST_BROWSER_LOG: path.join(home, 'browser-log.json'), LC_ALL: 'C.UTF-8',
  });
  if (server?.ca) env.NODE_EXTRA_CA_CERTS = server.ca;
  if (RECORD_DIR) env.TEST_BROWSER_RECORD = RECORD_DIR;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = String(value);
  }
  registerHome(home, env);
  return env;
}

// Path of the config file tokenctl reads in `env`.
export function configPath(env) {
  return env.TOKENCTL_CONFIG || path.join(env.XDG_CONFIG_HOME, 'tokenctl', 'config.toml');
}

// Path of the token cache tokenctl writes in `env`.
export function cachePath(env) {
  return env.TOKENCTL_TOKEN_CACHE || path.join(env.XDG_CONFIG_HOME, 'tokenctl', 'token-cache.json');
}

// Write the config as a user would: folder 0755 and file 0644 (tokenctl must tighten what holds tokens).
export function writeConfig(env, tomlText) {
  const file = configPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(file), 0o755);
  fs.writeFileSync(file, tomlText, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  return file;
}

// TOML for one profile of `server`: host, client_id, scopes, ca_file (unless caFile is false).
export function profileToml(server, {
  name = 'dev', clientId = 'tokenctl', scopes = ['openid', 'offline_access', 'profile'],
  caFile = true, host = server.issuer, extra = '',
} = {}) {
  const lines = [`[profiles.${name}]`, `host = ${JSON.stringify(host)}`,
    `client_id = ${JSON.stringify(clientId)}`, `scopes = ${JSON.stringify(scopes)}`];
  if (caFile && server.ca) lines.push(`ca_file = ${JSON.stringify(server.ca)}`);
  if (extra) lines.push(extra.trim());
  return `${lines.join('\n')}\n`;
}

function tokenctlBinary() {
  const bin = process.env.TOKENCTL_BIN;
  if (!bin) {
    throw new Error('TOKENCTL_BIN is not set: run the e2e tests with ctest, or set '
      + 'TOKENCTL_BIN=/path/to/build/tokenctl');
  }
  fs.accessSync(bin, fs.constants.X_OK);
  return bin;
}

// Start tokenctl with `args` and leave it running; returns {child, stdin, waitForStderr(regex,
// timeoutMs) -> match, done: Promise<{code, signal, stdout, stderr, ms, timedOut}>}. Options:
// env (default: process.env), stdin ('ignore' for /dev/null, the default, or 'pipe'), timeoutMs
// (default 60 s, then SIGKILL), umask (run under this umask, via /bin/sh), uid and gid (run as
// this user; the test process must be root), cwd (the working folder; default the test's).
export function startTokenctl(args, {
  env = process.env, stdin = 'ignore', timeoutMs = 60000, umask, uid, gid, cwd,
} = {}) {
  const bin = tokenctlBinary();
  const [file, argv] = umask === undefined ? [bin, args]
    : ['/bin/sh', ['-c', `umask ${umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, bin, ...args]];
  const started = Date.now();
  const options = { env, stdio: [stdin, 'pipe', 'pipe'] };
  if (uid !== undefined) options.uid = uid;
  if (gid !== undefined) options.gid = gid;
  if (cwd !== undefined) options.cwd = cwd;
  const child = spawn(file, argv, options);
  if (child.stdin) child.stdin.on('error', () => {});
  const out = { stdout: '', stderr: '' };
  const record = trackRun(bin, args, env, child, out);
  const waiters = new Set();
  child.stdout.on('data', (c) => { out.stdout += c; });
  child.stderr.on('data', (c) => {
    out.stderr += c;
    for (const w of waiters) w();
  });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  const done = new Promise((resolve, reject) => {
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters) w(true);
      record.flush(false, { code, signal, timedOut });
      resolve({ code, signal, stdout: out.stdout, stderr: out.stderr, ms: Date.now() - started, timedOut });
    });
  });
  const waitForStderr = (regex, waitMs = 20000) => new Promise((resolve, reject) => {
    const check = (closed) => {
      const m = out.stderr.match(regex);
      if (m || closed || Date.now() - since > waitMs) {
        waiters.delete(check);
        clearTimeout(t);
        if (m) resolve(m);
        else reject(new Error(`tokenctl stderr never matched ${regex}:\n${out.stderr}`));
      }
    };
    const since = Date.now();
    const t = setTimeout(() => check(true), waitMs);
    waiters.add(check);
    check(child.exitCode !== null);
  });
  return { child, stdin: child.stdin, waitForStderr, done };
}

// Run tokenctl with `args` to its end; resolves to {code, signal, stdout, stderr, ms, timedOut}.
// Options: env, input (stdin text; else /dev/null), timeoutMs, umask, uid, gid, cwd, as for startTokenctl.
export function runTokenctl(args, { env = process.env, input, timeoutMs = 60000, umask, uid, gid, cwd } = {}) {
  const run = startTokenctl(args, {
    env, stdin: input === undefined ? 'ignore' : 'pipe', timeoutMs, umask, uid, gid, cwd,
  });
  if (input !== undefined) run.stdin.end(input);
  return run.done;
}

// Run the BROWSER stand-in on `url` as tokenctl would, with `env` added to this process's
// environment; resolves to {code, stdout, stderr, log} (log parsed when written as JSON).
export function runBrowser(url, { env = {}, logFile, timeoutMs = 60000 } = {}) {
  const childEnv = { ...process.env, ...env };
  if (logFile) childEnv.TEST_BROWSER_LOG = logFile;
  const child = spawn(process.execPath, [BROWSER, url], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      let log = null;
      const file = childEnv.TEST_BROWSER_LOG;
      if (file && fs.existsSync(file)) {
        const text = fs.readFileSync(file, 'utf8');
        try { log = JSON.parse(text); } catch { log = text; }
      }
      resolve({ code, stdout, stderr, log });
    });
  });
}

// Permission bits of `file` (e.g. 0o600), without following a final symlink.
export function fileMode(file) {
  return fs.lstatSync(file).mode & 0o777;
}

// The token cache of `env`, parsed.
export function readCache(env) {
  return JSON.parse(fs.readFileSync(cachePath(env), 'utf8'));
}

// The BROWSER stand-in's log in `env`, once the stand-in has finished (waits up to timeoutMs).
export async function readBrowserLog(env, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const log = JSON.parse(fs.readFileSync(env.TEST_BROWSER_LOG, 'utf8'));
      if (log.done) return log;
    } catch { /* not written yet */ }
    if (Date.now() > deadline) throw new Error(`no finished browser log at ${env.TEST_BROWSER_LOG}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
