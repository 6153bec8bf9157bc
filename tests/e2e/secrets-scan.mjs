#!/usr/bin/env node
// The whole-run secrets scan: every token the test servers issued during the e2e
// run must be absent from everything tokenctl wrote where a token does not belong.
//
//   node secrets-scan.mjs [RECORD]     scan the record (default: $TOKENCTL_E2E_RECORD)
//   node secrets-scan.mjs --self-test  plant secrets in made-up records and see the scan catch them
//
// Why a scan at the end rather than asserts in each test: a token leaks where nobody looks (a -v
// line, an error message, a lock file, a browser's argv), and only the union of all tokens against
// the union of all outputs catches a token of one test showing up anywhere. CTest runs this as the
// cleanup of the fixture every e2e test requires ("e2e: secrets"), after "e2e: record" emptied the
// folder. The record (written by lib/recorder.mjs for the harness, lib/server.mjs, browser.mjs):
//   issued-PID.jsonl   {issuer, source, secrets: [{kind, value}]}: access, refresh and id tokens,
//                      device codes, client secrets, as each server handed them out
//   runs-PID.jsonl     {test, seq, argv, stdout, stderr, code, ...}: every tokenctl run of the harness
//   files-PID.jsonl    {test, home, path, content (base64) | secret: true | skipped}: the files of
//                      every test home when the test process exits
//   browser-PID.jsonl  {argv}: every start of the BROWSER stand-in (tokenctl passes it the URL)
// Secrets: the whole values, and the signature part of each JWT (with the claims, which `show`
// prints decoded, it would rebuild the token). Places scanned: every argv (tokenctl's, hence exec's
// COMMAND, and the browser's), every stderr, every stdout but the intended ones
// (stdoutCarriesSecrets in lib/recorder.mjs: token, databricks auth token, show --reveal, netrc without --write,
// git-credential get, exec), every recorded file but the token cache, the netrc file and their
// temporaries. A hit is reported by test file, run, argv (secrets in it replaced by their kind)
// and stream or file, never with the secret itself. The scan fails on an empty record, a record
// without issued tokens, or when no intended output holds an issued token (then the outputs and
// the tokens were not recorded from the same run, and a clean result would prove nothing) and no
// token cache or netrc file does either.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { stdoutCarriesSecrets } from './lib/recorder.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Shorter values are not scanned: they could occur by chance. Every issued token is far longer.
const MIN_SECRET = 16;
const TOKEN_KINDS = new Set(['access_token', 'refresh_token', 'id_token']);

// Read the record folder: {issued, runs, files, browsers, problems}.
export function readRecord(dir) {
  const out = { issued: [], runs: [], files: [], browsers: [], problems: [] };
  const lists = { issued: out.issued, runs: out.runs, files: out.files, browser: out.browsers };
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();
  } catch (err) {
    out.problems.push(`cannot read the record folder ${dir}: ${err.code || err.message}`);
    return out;
  }
  for (const name of names) {
    const list = lists[name.replace(/-\d+\.jsonl$/, '')];
    if (!list) {
      out.problems.push(`unknown record file ${name}`);
      continue;
    }
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      try {
        list.push({ ...JSON.parse(line), recordFile: name });
      } catch {
        out.problems.push(`${name}:${i + 1}: not a JSON line (a recorder died while writing?)`);
      }
    });
  }
  return out;
}

// The secrets to look for: Map value -> {kind, label} (kind "refresh_token", "id_token signature", ...;
// label "refresh_token of https://127.0.0.1:PORT").
export function secretsOf(issued) {
  const secrets = new Map();
  const add = (value, kind, issuer) => {
    if (typeof value === 'string' && value.length >= MIN_SECRET && !secrets.has(value)) {
      secrets.set(value, { kind, label: `${kind} of ${issuer}` });
    }
  };
  for (const entry of issued) {
    for (const { kind, value } of entry.secrets || []) {
      add(value, kind, entry.issuer);
      const parts = typeof value === 'string' ? value.split('.') : [];
      if (parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) {
        add(parts[2], `${kind} signature`, entry.issuer);
      }
    }
  }
  return secrets;
}

// Finds every secret in a text, through an index of the secrets' first MIN_SECRET characters.
export class Finder {
  constructor(secrets) {
    this.secrets = secrets;
    this.byPrefix = new Map();
    for (const value of secrets.keys()) {
      const key = value.slice(0, MIN_SECRET);
      if (!this.byPrefix.has(key)) this.byPrefix.set(key, []);
      this.byPrefix.get(key).push(value);
    }
  }

  // Every hit in `text`: [{offset, length, label}], by offset.
  find(text) {
    const hits = [];
    if (this.byPrefix.size === 0) return hits;
    for (let i = 0; i + MIN_SECRET <= text.length; i += 1) {
      const candidates = this.byPrefix.get(text.slice(i, i + MIN_SECRET));
      if (!candidates) continue;
      for (const value of candidates) {
        if (text.startsWith(value, i)) hits.push({ offset: i, length: value.length, label: this.secrets.get(value).label });
      }
    }
    return hits;
  }

  // `text` with every secret in it replaced by <its label>.
  redact(text) {
    let out = '';
    let at = 0;
    for (const hit of this.find(text)) {
      if (hit.offset < at) continue;
      out += `${text.slice(at, hit.offset)}<${hit.label}>`;
      at = hit.offset + hit.length;
    }
    return out + text.slice(at);
  }
}

function describeRun(run, finder) {
  const argv = run.argv.map((a, i) => (i === 0 ? 'tokenctl' : JSON.stringify(finder.redact(String(a)))));
  return `${run.test} run #${run.seq} (${argv.join(' ')})`;
}

// Scan the record in `dir`: {ok, summary, details, leaks: [text], problems: [text]}.
export function scanRecord(dir) {
  const record = readRecord(dir);
  const problems = [...record.problems];
  const secrets = secretsOf(record.issued);
  const finder = new Finder(secrets);
  const leaks = [];
  const check = (text, where) => {
    for (const hit of finder.find(text)) leaks.push(`${where}: ${hit.label} at byte ${hit.offset}`);
  };
  let intendedOutputs = 0;
  let intendedWithToken = 0;
  for (const run of record.runs) {
    const where = describeRun(run, finder);
    check(run.argv.map(String).join('\0'), `${where}: argv`);
    check(run.stderr || '', `${where}: stderr`);
    if (stdoutCarriesSecrets(run.argv.slice(1), run.argv[0]) === null) check(run.stdout || '', `${where}: stdout`);
    else {
      intendedOutputs += 1;
      if (finder.find(run.stdout || '').length > 0) intendedWithToken += 1;
    }
  }
  let scannedFiles = 0;
  let secretFiles = 0;
  let skippedFolders = 0;
  let secretFilesWithToken = 0;
  for (const file of record.files) {
    const where = `${file.test}: file ~/${finder.redact(file.path)}`;
    check(file.path, `${where} (its name)`);
    if (file.skipped) skippedFolders += 1;
    else if (file.secret) {
      secretFiles += 1;
      if (finder.find(Buffer.from(file.content || '', 'base64').toString('latin1')).length > 0) secretFilesWithToken += 1;
    } else {
      scannedFiles += 1;
      check(Buffer.from(file.content || '', 'base64').toString('latin1'), where);
    }
  }
  for (const browser of record.browsers) {
    check((browser.argv || []).map(String).join('\0'), `browser ${browser.recordFile} (mode ${browser.mode}): argv`);
  }
  const tokens = [...secrets.values()].filter((s) => TOKEN_KINDS.has(s.kind)).length;
  const servers = new Set(record.issued.map((e) => `${e.recordFile}`)).size;
  if (record.runs.length === 0 && record.files.length === 0 && record.issued.length === 0) {
    problems.push(`the record in ${dir} is empty: no e2e test recorded anything (a scan of nothing proves nothing)`);
  } else if (record.runs.length === 0) {
    problems.push('no tokenctl run was recorded');
  } else if (tokens === 0) {
    problems.push(`no token was issued during the recorded run (${record.runs.length} tokenctl runs): nothing to look for`);
  } else if (intendedWithToken + secretFilesWithToken === 0) {
    problems.push(`none of the ${intendedOutputs} intended outputs (tokenctl token, ...) and none of the `
      + `${secretFiles} token caches and netrc files holds an issued token: the outputs, the files and the `
      + 'tokens do not come from the same run');
  }
  const unfinished = record.runs.filter((r) => r.unfinished).length;
  return {
    ok: leaks.length === 0 && problems.length === 0,
    summary: `secrets: ${tokens} tokens issued, ${record.runs.length} runs, ${scannedFiles} files, ${leaks.length} leaks`,
    details: `${secrets.size} values looked for (tokens, JWT signatures, device codes, client secrets) from `
      + `${servers} servers; ${intendedOutputs} intended outputs not scanned (${intendedWithToken} hold a token); `
      + `${secretFiles} cache/netrc files not scanned (${secretFilesWithToken} hold a token); `
      + `${unfinished} runs unfinished at exit; ${record.browsers.length} browser starts; `
      + `${skippedFolders} test folders skipped`,
    leaks,
    problems,
  };
}

// Exit 77 (CTest's skip) when the e2e tests themselves skip, as run.mjs decides.
function skipWhenE2eSkips() {
  const pkg = path.join(HERE, 'node_modules', 'oidc-provider', 'package.json');
  let reason = null;
  if (!fs.existsSync(pkg)) reason = 'the e2e test packages are not installed (`npm ci --prefix tests/e2e`)';
  else if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) reason = 'no `openssl` command';
  if (reason) {
    process.stdout.write(`SKIPPED: ${reason}, so the e2e tests recorded nothing\n`);
    process.exit(77);
  }
}

function main(dir) {
  if (!dir) {
    process.stderr.write('usage: node secrets-scan.mjs RECORD_DIR (or set TOKENCTL_E2E_RECORD) | --self-test\n');
    process.exit(2);
  }
  if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) skipWhenE2eSkips();
  const result = scanRecord(dir);
  if (result.leaks.length === 0 && result.problems.length === 1 && /^no token was issued/.test(result.problems[0])) {
    // A selection of tests that never logs in (ctest -R 'e2e: cli'): nothing to look for is a skip.
    process.stdout.write(`SKIPPED: ${result.problems[0]}\n${result.summary}\n`);
    process.exit(77);
  }
  for (const leak of result.leaks) process.stdout.write(`LEAK: ${leak}\n`);
  for (const problem of result.problems) process.stdout.write(`FAILED: ${problem}\n`);
  process.stdout.write(`${result.summary}\n${result.details}\n`);
  process.exit(result.ok ? 0 : 1);
}

// ---- the self-test: the scan must catch what is planted ----

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS1pZC10b2tlbi1mb3ItdGVzdHM';
const ACCESS = 'AccessTokenForTheSelfTest_0123456789abcdefghij';
const REFRESH = 'RefreshTokenForTheSelfTest-0123456789abcdefghij';
const BIN = '/build/tokenctl';

function writeRecord(dir, { issued = true, runs = [], files = [], browsers = [] }) {
  fs.mkdirSync(dir, { recursive: true });
  const lines = (list) => list.map((x) => `${JSON.stringify(x)}\n`).join('');
  if (issued) {
    fs.writeFileSync(path.join(dir, 'issued-1.jsonl'), lines([{
      issuer: 'https://127.0.0.1:1', source: 'token authorization_code',
      secrets: [{ kind: 'access_token', value: ACCESS }, { kind: 'refresh_token', value: REFRESH },
        { kind: 'id_token', value: JWT }],
    }]));
  }
  const withDefaults = runs.map((r, i) => ({ test: 'self.test.mjs', seq: i + 1, stdout: '', stderr: '', code: 0, ...r }));
  if (runs.length) fs.writeFileSync(path.join(dir, 'runs-2.jsonl'), lines(withDefaults));
  if (files.length) fs.writeFileSync(path.join(dir, 'files-2.jsonl'), lines(files.map((f) => ({ test: 'self.test.mjs', ...f }))));
  if (browsers.length) fs.writeFileSync(path.join(dir, 'browser-3.jsonl'), lines(browsers));
}

// A clean run: `token` printed the access token, as it should.
const CLEAN_RUNS = [
  { argv: [BIN, 'login', '-p', 'dev'], stderr: 'Logged in as alice.\n' },
  { argv: [BIN, 'token', '-p', 'dev'], stdout: `${ACCESS}\n` },
];
const file = (rel, text, extra = {}) => ({ path: rel, secret: false, content: Buffer.from(text).toString('base64'), ...extra });

async function selfTest() {
  const { test } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-secrets-self-test-'));
  process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const scan = (record) => {
    const dir = path.join(root, String((n += 1)));
    writeRecord(dir, record);
    return scanRecord(dir);
  };
  const leaksIn = (extra) => scan({ ...extra, runs: [...CLEAN_RUNS, ...(extra.runs || [])] }).leaks;

  test('a clean record passes, with the summary line', () => {
    const r = scan({ runs: CLEAN_RUNS, files: [file('.config/tokenctl/config.toml', '[profiles.dev]\n'),
      file('.config/tokenctl/token-cache.json', '', { secret: true, content: undefined })],
    browsers: [{ argv: ['node', 'browser.mjs', 'https://127.0.0.1:1/auth?client_id=tokenctl'] }] });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.leaks, []);
    assert.equal(r.ok, true);
    assert.equal(r.summary, 'secrets: 3 tokens issued, 2 runs, 1 files, 0 leaks');
  });

  test('intended outputs may hold tokens: token, show --reveal, netrc, git-credential get, exec', () => {
    const outs = [['token', '--header'], ['-o', 'json', 'show', '--reveal'], ['netrc', '--all'],
      ['git-credential', 'get'], ['exec', '--', 'cat', 'f'], ['token', '--exec-credential'],
      ['databricks', 'auth', 'token', '--profile', 'dbx', '--force-refresh']];
    assert.deepEqual(leaksIn({ runs: outs.map((a) => ({ argv: [BIN, ...a], stdout: `${ACCESS} ${REFRESH}` })) }), []);
    // The same program run as `databricks` (LIBDIR/tokenctl/databricks, a link) answers `auth token`.
    assert.deepEqual(leaksIn({ runs: [{ argv: ['/usr/lib/tokenctl/databricks', 'auth', 'token', '--host', 'https://x'],
      stdout: `{"access_token": "${ACCESS}"}` }] }), []);
  });

  test('a token on any other stdout is a leak, named by test, run and stream', () => {
    const outs = [['login'], ['show'], ['-p', 'token', 'show'], ['netrc', '--write'], ['git-credential', 'store'],
      ['token', '--help'], ['list', '-o', 'json'], ['refresh'], ['databricks', 'version'],
      ['databricks', 'auth', 'token', '--help']];
    const leaks = leaksIn({ runs: [...outs.map((a) => ({ argv: [BIN, ...a], stdout: `x ${REFRESH} y` })),
      { argv: ['/usr/lib/tokenctl/databricks', 'version', '--output', 'json'], stdout: `x ${REFRESH} y` }] });
    assert.equal(leaks.length, outs.length + 1, leaks.join('\n'));
    assert.match(leaks[0], /^self\.test\.mjs run #3 \(tokenctl "login"\): stdout: refresh_token of https:\/\/127\.0\.0\.1:1 at byte 2$/);
  });

  test('a token, or only a JWT signature, on stderr (-v output, error messages) is a leak', () => {
    const sig = JWT.split('.')[2];
    const leaks = leaksIn({ runs: [
      { argv: [BIN, 'token', '-v'], stdout: `${ACCESS}\n`, stderr: `> Authorization: Bearer ${ACCESS}\n` },
      { argv: [BIN, 'refresh'], stderr: `tokenctl: error: bad token ...${sig}\n`, code: 1 },
    ] });
    assert.deepEqual(leaks.map((l) => l.replace(/ at byte \d+$/, '')), [
      'self.test.mjs run #3 (tokenctl "token" "-v"): stderr: access_token of https://127.0.0.1:1',
      'self.test.mjs run #4 (tokenctl "refresh"): stderr: id_token signature of https://127.0.0.1:1',
    ]);
  });

  test('a token in argv (tokenctl and its COMMAND, the browser) is a leak, and the report redacts it', () => {
    const leaks = leaksIn({
      runs: [{ argv: [BIN, 'exec', '--', 'curl', '-H', `Authorization: Bearer ${ACCESS}`], stdout: 'ok' }],
      browsers: [{ argv: ['node', 'browser.mjs', `https://x/auth?t=${REFRESH}`], mode: 'login' }],
    });
    assert.equal(leaks.length, 2, leaks.join('\n'));
    assert.match(leaks[0], /"Authorization: Bearer <access_token of https:\/\/127\.0\.0\.1:1>"\): argv: /);
    assert.match(leaks[1], /^browser browser-3\.jsonl \(mode login\): argv: refresh_token/);
    for (const leak of leaks) assert.equal(leak.includes(ACCESS) || leak.includes(REFRESH), false);
  });

  test('a token in a file other than the cache and netrc is a leak; in those it is not', () => {
    const leaks = leaksIn({ files: [
      file('.config/tokenctl/config.toml', `# ${REFRESH}\n`),
      file('.config/tokenctl/token-cache.json.lock', `${ACCESS}`),
      file('.netrc', `password ${ACCESS}\n`, { secret: true }),
    ] });
    assert.equal(leaks.length, 2, leaks.join('\n'));
    assert.match(leaks[0], /^self\.test\.mjs: file ~\/\.config\/tokenctl\/config\.toml: refresh_token/);
  });

  test('an empty record, a record without tokens or without a token in any intended output fails', () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    assert.match(scanRecord(empty).problems.join(), /is empty/);
    assert.match(scanRecord(path.join(root, 'missing')).problems.join(), /cannot read the record folder/);
    assert.match(scan({ issued: false, runs: CLEAN_RUNS }).problems.join(), /no token was issued/);
    assert.match(scan({ runs: [CLEAN_RUNS[0]] }).problems.join(), /none of the 0 intended outputs/);
    const cache = file('.config/tokenctl/token-cache.json', `{"access_token":"${ACCESS}"}`, { secret: true });
    assert.deepEqual(scan({ runs: [CLEAN_RUNS[0]], files: [cache] }).problems, [], 'a cache holding a token will do');
    assert.equal(scan({ issued: false, runs: CLEAN_RUNS }).ok, false);
  });

  test('the program exits 1 on a leak and never prints the token', () => {
    const dir = path.join(root, 'cli');
    writeRecord(dir, { runs: [...CLEAN_RUNS, { argv: [BIN, 'login'], stderr: `code ${ACCESS}` }] });
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), dir], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^LEAK: self\.test\.mjs run #3 \(tokenctl "login"\): stderr: access_token/m);
    assert.match(r.stdout, /^secrets: 3 tokens issued, 3 runs, 0 files, 1 leaks$/m);
    assert.equal(r.stdout.includes(ACCESS), false);
  });
}

const invoked = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked && process.argv[2] === '--self-test') await selfTest();
else if (invoked) main(process.argv[2] || process.env.TOKENCTL_E2E_RECORD);
