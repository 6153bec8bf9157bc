#!/usr/bin/env node
// Do what databricks-sdk-go does with auth_type = "databricks-cli", and say what it concluded.
//
// Written in node (standard library only, node 18+), not in Go: Debian 12's golang-go (1.19)
// installs ~453 MB, over this project's budget for a test client (see README.md beside this
// file). It follows the public source of databricks/databricks-sdk-go line by line:
//   config/cli_token_source.go  findDatabricksCli, findInPath, validateCliPath (1 MiB check),
//                               getCliVersion, parseCliVersion, resolveCliCommand,
//                               buildCliCommand, buildCoreCliCommand, buildHostCommand,
//                               execCliCommand, parseExpiry
//   config/auth_u2m.go          Configure (one Token() call to decide, then a cached source)
//   config/experimental/auth/cache.go   expiry and async-refresh window
//   golang.org/x/mod/semver     IsValid, Compare (ported below)
//   time.Parse(time.RFC3339Nano / time.RFC3339 / "2006-01-02 15:04:05[.9...]")  (ported below)
//
// Usage:
//   node databricks_sdk_go_client.mjs [--cli-path PATH] [--host URL] [--account-id ID]
//                                     [--profile NAME] [--account-host]
// Defaults: DATABRICKS_CLI_PATH, DATABRICKS_HOST, DATABRICKS_ACCOUNT_ID, DATABRICKS_CONFIG_PROFILE.
// --account-host makes the host count as an account host whatever its name (the SDK only does so
// for https://accounts.* hosts); it lets loopback tests exercise `--account-id`.
//
// Prints one JSON line on stdout, exit 0 when a token was obtained, 1 otherwise:
//   {"ok": true, "access_token_len": N, "token_type": "Bearer", "expiry_raw": "...",
//    "expiry_utc": "...Z", "expiry_epoch_s": S, "valid": true, "async_refresh_after_utc": "...Z",
//    "argv": [...], "version_argv": [...], "cli_version": "v0.296.0", "cli_path": "..."}
//   {"ok": false, "error": "...", "not_applicable": false, "argv": [...] or null, ...}
// "not_applicable" marks the failures that earlier SDK releases (config/auth_databricks_cli.go)
// turn into "try the next auth type": CLI not found, legacy CLI, "databricks OAuth is not".
// The access token itself is never printed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATABRICKS_CLI_MIN_SIZE = 1024 * 1024;
export const ERR_CLI_NOT_FOUND = 'databricks CLI not found';
export const ERR_LEGACY_CLI = 'legacy databricks CLI detected; upgrade to >= 0.100.0';
const CLI_VERSION_FOR_PROFILE = 'v0.207.1'; // databricks/cli#855
const CLI_VERSION_FOR_FORCE_REFRESH = 'v0.296.0'; // databricks/cli#4767
const DEV_BUILD_VERSION_PREFIX = 'v0.0.0-dev';
const MAX_ASYNC_REFRESH_LEAD_NS = 20n * 60n * 1000000000n;

class GoError extends Error {
  constructor(message, { notApplicable = false } = {}) {
    super(message);
    this.notApplicable = notApplicable;
  }
}

// --- golang.org/x/mod/semver -------------------------------------------------------------------

function semverParse(v) {
  const p = { major: '', minor: '', patch: '', prerelease: '', build: '' };
  if (!v || v[0] !== 'v') return null;
  const parseInt_ = (s) => {
    if (!s || s[0] < '0' || s[0] > '9') return null;
    let i = 1;
    while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
    if (s[0] === '0' && i !== 1) return null;
    return [s.slice(0, i), s.slice(i)];
  };
  const isIdentChar = (c) => /[0-9A-Za-z-]/.test(c);
  const isBadNum = (s) => /^[0-9]+$/.test(s) && s.length > 1 && s[0] === '0';
  let r = parseInt_(v.slice(1));
  if (!r) return null;
  [p.major, v] = r;
  if (v === '') { p.minor = '0'; p.patch = '0'; return p; }
  if (v[0] !== '.') return null;
  r = parseInt_(v.slice(1));
  if (!r) return null;
  [p.minor, v] = r;
  if (v === '') { p.patch = '0'; return p; }
  if (v[0] !== '.') return null;
  r = parseInt_(v.slice(1));
  if (!r) return null;
  [p.patch, v] = r;
  if (v.length > 0 && v[0] === '-') {
    let i = 1;
    let start = 1;
    while (i < v.length && v[i] !== '+') {
      if (!isIdentChar(v[i]) && v[i] !== '.') return null;
      if (v[i] === '.') {
        if (start === i || isBadNum(v.slice(start, i))) return null;
        start = i + 1;
      }
      i++;
    }
    if (start === i || isBadNum(v.slice(start, i))) return null;
    p.prerelease = v.slice(0, i);
    v = v.slice(i);
  }
  if (v.length > 0 && v[0] === '+') {
    let i = 1;
    let start = 1;
    while (i < v.length) {
      if (!isIdentChar(v[i]) && v[i] !== '.') return null;
      if (v[i] === '.') {
        if (start === i) return null;
        start = i + 1;
      }
      i++;
    }
    if (start === i) return null;
    p.build = v.slice(0, i);
    v = v.slice(i);
  }
  if (v !== '') return null;
  return p;
}

export function semverIsValid(v) {
  return semverParse(v) !== null;
}

export function semverCompare(v, w) {
  const pv = semverParse(v);
  const pw = semverParse(w);
  if (!pv && !pw) return 0;
  if (!pv) return -1;
  if (!pw) return 1;
  const cmpInt = (x, y) => {
    if (x === y) return 0;
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    return x < y ? -1 : 1;
  };
  for (const k of ['major', 'minor', 'patch']) {
    const c = cmpInt(pv[k], pw[k]);
    if (c !== 0) return c;
  }
  let x = pv.prerelease;
  let y = pw.prerelease;
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  const isNum = (s) => /^[0-9]+$/.test(s);
  const nextIdent = (s) => {
    let i = 0;
    while (i < s.length && s[i] !== '.') i++;
    return [s.slice(0, i), s.slice(i)];
  };
  while (x !== '' && y !== '') {
    x = x.slice(1);
    y = y.slice(1);
    let dx;
    let dy;
    [dx, x] = nextIdent(x);
    [dy, y] = nextIdent(y);
    if (dx !== dy) {
      const ix = isNum(dx);
      const iy = isNum(dy);
      if (ix !== iy) return ix ? -1 : 1;
      if (ix && dx.length !== dy.length) return dx.length < dy.length ? -1 : 1;
      return dx < dy ? -1 : 1;
    }
  }
  return x === '' ? -1 : 1;
}

// --- time.Parse ------------------------------------------------------------------------------

function daysIn(month, year) {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// The instant (nanoseconds since the epoch, as a BigInt) of a date-time text, or null.
function goParseParts(m, offsetMinutes) {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return BigInt(ms) * 1000000n + BigInt(frac || '0') - BigInt(offsetMinutes) * 60000000000n;
}

// time.Parse(time.RFC3339Nano, s) and time.Parse(time.RFC3339, s): Go's parser takes a 1- or
// 2-digit hour, a fraction after "." or "," of any length (9 digits kept) even where the layout
// has none, and "Z" or a numeric ±hh:mm offset. The letters T and Z are case-sensitive.
function parseRFC3339(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return null;
  let offset = 0;
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    offset = sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  }
  return goParseParts(m, offset);
}

// time.Parse("2006-01-02 15:04:05[.9…]", s): no zone in the layout, so the result is UTC.
function parseSpaceSeparated(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?$/.exec(s);
  if (!m) return null;
  return goParseParts(m, 0);
}

// config/cli_token_source.go parseExpiry.
export function parseExpiry(expiry) {
  const ns = parseRFC3339(expiry) ?? parseSpaceSeparated(expiry);
  if (ns === null) throw new GoError(`cannot parse expiry ${goQuote(expiry)}`);
  return ns;
}

function goQuote(s) {
  return JSON.stringify(s);
}

// time.Time.UTC().Format(time.RFC3339Nano)
export function formatRFC3339NanoUTC(ns) {
  const sec = ns / 1000000000n;
  const frac = ns % 1000000000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${f}Z`;
}

// --- config/cli_token_source.go -----------------------------------------------------------------

function validateCliPath(p) {
  let st;
  try {
    st = fs.statSync(p); // os.Stat follows symbolic links: the size is the target's
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw new GoError(ERR_CLI_NOT_FOUND, { notApplicable: true });
    throw new GoError(`cannot stat CLI path: stat ${p}: ${e.message}`);
  }
  if (st.isDirectory()) throw new GoError(ERR_CLI_NOT_FOUND, { notApplicable: true });
  if (st.size < DATABRICKS_CLI_MIN_SIZE) throw new GoError(ERR_LEGACY_CLI, { notApplicable: true });
  return p;
}

function findInPath(name) {
  const pathEnv = process.env.PATH ?? '';
  if (pathEnv === '') throw new GoError(ERR_CLI_NOT_FOUND, { notApplicable: true });
  let lastErr = new GoError(ERR_CLI_NOT_FOUND, { notApplicable: true });
  for (const dir of pathEnv.split(path.delimiter)) {
    try {
      return validateCliPath(dir === '' ? name : path.join(dir, name));
    } catch (e) {
      if (e.message === ERR_LEGACY_CLI) lastErr = e;
    }
  }
  throw lastErr;
}

export function findDatabricksCli(cliPath) {
  if (!cliPath) return findInPath('databricks');
  if (cliPath.includes('/')) return validateCliPath(cliPath);
  return findInPath(cliPath);
}

function goExecError(file, r) {
  // What exec.Cmd.Output() returns.
  if (r.error) {
    const msg = r.error.code === 'ENOENT' ? 'no such file or directory'
      : r.error.code === 'EACCES' ? 'permission denied' : r.error.message;
    return { exitError: false, text: `fork/exec ${file}: ${msg}` };
  }
  if (r.signal) return { exitError: true, text: `signal: ${r.signal === 'SIGKILL' ? 'killed' : r.signal}` };
  return { exitError: true, text: `exit status ${r.status}` };
}

function run(argv) {
  return spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

export function parseCliVersion(s) {
  const v = s.startsWith('Databricks CLI ') ? s.slice('Databricks CLI '.length) : s;
  if (!semverIsValid(v)) throw new GoError(`cannot parse CLI version ${goQuote(s)}`);
  return v;
}

function getCliVersion(cliPath) {
  const r = run([cliPath, 'version']);
  if (r.error || r.status !== 0 || r.signal) {
    throw new GoError(`cannot get CLI version: ${goExecError(cliPath, r).text}`);
  }
  return parseCliVersion(r.stdout.toString('utf8').trim());
}

function isAccountHost(cfg) {
  return cfg.accountHost || cfg.host.startsWith('https://accounts.') || cfg.host.startsWith('https://accounts-dod.');
}

function buildHostCommand(cliPath, cfg) {
  if (!cfg.host) throw new GoError('host is not set');
  const cmd = [cliPath, 'auth', 'token', '--host', cfg.host];
  if (isAccountHost(cfg)) cmd.push('--account-id', cfg.accountId ?? '');
  return cmd;
}

const displayVersion = (ver) => (ver === '' ? 'unknown' : ver);

function buildCoreCliCommand(cliPath, cfg, ver, notes) {
  if (!cfg.profile) {
    try {
      return buildHostCommand(cliPath, cfg);
    } catch (e) {
      throw new GoError(`neither profile nor host is configured: ${e.message}`);
    }
  }
  if (semverCompare(ver, CLI_VERSION_FOR_PROFILE) < 0) {
    notes.push(`Databricks CLI ${displayVersion(ver)} does not support --profile (requires >= ${CLI_VERSION_FOR_PROFILE}). Falling back to --host.`);
    try {
      return buildHostCommand(cliPath, cfg);
    } catch (e) {
      throw new GoError(`databricks CLI ${displayVersion(ver)} does not support --profile (requires >= ${CLI_VERSION_FOR_PROFILE}) and no host fallback is configured: ${e.message}`);
    }
  }
  return [cliPath, 'auth', 'token', '--profile', cfg.profile];
}

export function buildCliCommand(cliPath, cfg, ver, notes = []) {
  const cmd = buildCoreCliCommand(cliPath, cfg, ver, notes);
  if (semverCompare(ver, CLI_VERSION_FOR_FORCE_REFRESH) >= 0) cmd.push('--force-refresh');
  else notes.push(`Databricks CLI ${displayVersion(ver)} does not support --force-refresh (requires >= ${CLI_VERSION_FOR_FORCE_REFRESH}). The CLI's token cache may provide stale tokens.`);
  return cmd;
}

// resolveCliCommand: a failed version probe is not fatal.
function resolveCliCommand(cliPath, cfg, notes, out) {
  let ver;
  try {
    ver = getCliVersion(cliPath);
  } catch (e) {
    notes.push(`Failed to detect Databricks CLI version: ${e.message}. Falling back to conservative flag set.`);
    ver = '';
  }
  if (ver.startsWith(DEV_BUILD_VERSION_PREFIX)) notes.push(`Databricks CLI ${ver} is a development build; feature detection will use conservative fallbacks.`);
  out.cli_version = ver;
  try {
    return buildCliCommand(cliPath, cfg, ver, notes);
  } catch (e) {
    throw new GoError(`cannot configure CLI token source: ${e.message}`);
  }
}

// encoding/json into struct {AccessToken `json:"access_token"`; TokenType; Expiry string}: keys
// match exactly or case-insensitively, the last match wins, extra keys are ignored.
function unmarshalCliTokenResponse(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new GoError(`cannot parse CLI response: ${e.message}`);
  }
  const kind = (x) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x === 'boolean' ? 'bool' : typeof x);
  const resp = { access_token: '', token_type: '', expiry: '' };
  if (v === null) return resp;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new GoError(`cannot parse CLI response: json: cannot unmarshal ${kind(v)} into Go value of type config.cliTokenResponse`);
  }
  for (const [k, val] of Object.entries(v)) {
    const field = Object.keys(resp).find((f) => f === k || f.toLowerCase() === k.toLowerCase());
    if (!field || val === null) continue;
    if (typeof val !== 'string') {
      throw new GoError(`cannot parse CLI response: json: cannot unmarshal ${kind(val)} into Go struct field cliTokenResponse.${k} of type string`);
    }
    resp[field] = val;
  }
  return resp;
}

function execCliCommand(argv) {
  const r = run(argv);
  if (r.error || r.status !== 0 || r.signal) {
    const e = goExecError(argv[0], r);
    if (e.exitError) {
      throw new GoError(`cannot get access token: ${r.stderr.toString('utf8').trim()}: ${e.text}`);
    }
    throw new GoError(`cannot get access token: ${e.text}`);
  }
  const resp = unmarshalCliTokenResponse(r.stdout.toString('utf8'));
  let expiryNs;
  try {
    expiryNs = parseExpiry(resp.expiry);
  } catch (e) {
    throw new GoError(`cannot parse token expiry: ${e.message}`);
  }
  return { ...resp, expiryNs };
}

function fixHost(host) {
  // Config.fixHostIfNeeded: https:// when the scheme is missing; keep scheme://host[:port].
  if (!host) return host;
  const withScheme = host.includes('://') ? host : `https://${host}`;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(withScheme);
  return m ? `${m[1]}://${m[2]}` : host;
}

export function runClient(cfgIn) {
  const cfg = { ...cfgIn, host: fixHost(cfgIn.host ?? '') || '' };
  const out = { ok: false, argv: null, version_argv: null, cli_path: null, cli_version: null };
  const notes = [];
  let secret = null;
  try {
    // u2mCredentials.Configure
    if (!cfg.host) throw new GoError('host is required');
    const cliPath = findDatabricksCli(cfg.cliPath);
    out.cli_path = cliPath;
    out.version_argv = [cliPath, 'version'];
    const argv = resolveCliCommand(cliPath, cfg, notes, out);
    out.argv = argv;
    const t = execCliCommand(argv);
    secret = t.access_token || null;
    const nowNs = BigInt(Date.now()) * 1000000n;
    const ttl = t.expiryNs - nowNs;
    let lead = ttl <= 0n ? 0n : ttl / 2n;
    if (lead > MAX_ASYNC_REFRESH_LEAD_NS) lead = MAX_ASYNC_REFRESH_LEAD_NS;
    Object.assign(out, {
      ok: true,
      access_token_len: Buffer.byteLength(t.access_token),
      token_type: t.token_type,
      expiry_raw: t.expiry,
      expiry_utc: formatRFC3339NanoUTC(t.expiryNs),
      expiry_epoch_s: Number(t.expiryNs) / 1e9,
      // cachedTokenSource: expired once now is after Expiry; async refresh from
      // Expiry - min(TTL/2, 20 min).
      valid: !(nowNs > t.expiryNs),
      async_refresh_after_utc: formatRFC3339NanoUTC(t.expiryNs - lead),
    });
  } catch (e) {
    if (!(e instanceof GoError)) throw e;
    const notApplicable = e.notApplicable || e.message.includes('databricks OAuth is not');
    Object.assign(out, { error: e.message, not_applicable: notApplicable });
  }
  if (notes.length) out.notes = notes;
  let text = JSON.stringify(out);
  if (secret) text = text.split(secret).join('[REDACTED]');
  return { code: out.ok ? 0 : 1, text, result: JSON.parse(text) };
}

function parseArgs(argv) {
  const cfg = {
    cliPath: process.env.DATABRICKS_CLI_PATH || '',
    host: process.env.DATABRICKS_HOST || '',
    accountId: process.env.DATABRICKS_ACCOUNT_ID || '',
    profile: process.env.DATABRICKS_CONFIG_PROFILE || '',
    accountHost: false,
  };
  const names = { '--cli-path': 'cliPath', '--host': 'host', '--account-id': 'accountId', '--profile': 'profile' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--account-host') { cfg.accountHost = true; continue; }
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!(flag in names)) {
      process.stderr.write(`usage: databricks_sdk_go_client.mjs [--cli-path PATH] [--host URL] [--account-id ID] [--profile NAME] [--account-host]\n`);
      process.exit(2);
    }
    cfg[names[flag]] = eq > 0 ? a.slice(eq + 1) : argv[++i] ?? '';
  }
  return cfg;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { code, text } = runClient(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${text}\n`);
  process.exitCode = code;
}
