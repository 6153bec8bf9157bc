// The secrets recorder, fed by harness.mjs and read by ../secrets-scan.mjs.
//
// Why: "no token where it does not belong" can only be checked against the whole run: every token
// any test server issued, against everything tokenctl wrote in any test. When TOKENCTL_E2E_RECORD
// names a folder (CTest sets it for every e2e test), each tokenctl run of the harness is appended
// to RECORD/runs-PID.jsonl as it ends (argv, stdout, stderr, exit; unfinished runs at exit), and
// when the test process exits, the files of every freshEnv home go to RECORD/files-PID.jsonl,
// before harness.mjs deletes the homes. The server records what it issues (server.mjs) and the
// BROWSER stand-in its argv (browser.mjs, via TEST_BROWSER_RECORD: tokenctl's environment has no
// TOKENCTL_* variable). Which stdout may hold a token: stdoutCarriesSecrets. Which files:
// recordHome's rules. Everything else must be token-free.

import * as fs from 'node:fs';
import * as path from 'node:path';

// The recorder's folder, or null when nothing is recorded.
export const RECORD_DIR = process.env.TOKENCTL_E2E_RECORD ? path.resolve(process.env.TOKENCTL_E2E_RECORD) : null;
const TEST_FILE = path.basename(process.argv[1] || 'unknown');
const MAX_RECORDED_FILE = 16 * 1024 * 1024;
const MAX_RECORDED_SECRET_FILE = 1024 * 1024;

// Per freshEnv home: its env and the files that hold tokens by design (token cache, netrc, exec's
// token file) as tokenctl was told by the harness's runs.
const homes = new Map();
// tokenctl runs not yet ended (recorded as unfinished if the test process exits first).
const pendingRuns = new Set();
let runSeq = 0;

// Append one JSON line to RECORD/KIND-PID.jsonl (nothing when not recording).
function appendRecord(kind, record) {
  if (!RECORD_DIR) return;
  fs.mkdirSync(RECORD_DIR, { recursive: true });
  fs.appendFileSync(path.join(RECORD_DIR, `${kind}-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
}

// tokenctl options that take a value (global and per command), for parseTokenctlArgs.
const VALUE_OPTIONS = new Set(['-p', '--profile', '--config', '--token-cache', '-o', '--output',
  '--min-ttl', '--file', '--login', '--host', '--client-id', '--scopes', '--account-id', '--port',
  '--timeout']);

// tokenctl's `args` (without the program) as {command, operation, flags: Set, values: {option: value}};
// parsing stops at `--` (exec's COMMAND follows it).
export function parseTokenctlArgs(args) {
  const out = { command: null, operation: null, flags: new Set(), values: {} };
  for (let i = 0; i < args.length; i += 1) {
    const arg = String(args[i]);
    if (arg === '--') break;
    if (arg.startsWith('-') && arg !== '-') {
      const eq = arg.indexOf('=');
      if (arg.startsWith('--') && eq > 0) out.values[arg.slice(0, eq)] = arg.slice(eq + 1);
      else if (VALUE_OPTIONS.has(arg)) {
        out.values[arg] = args[i + 1] === undefined ? undefined : String(args[i + 1]);
        i += 1;
      } else out.flags.add(arg);
    } else if (out.command === null) out.command = arg;
    else if (out.operation === null) out.operation = arg;
  }
  return out;
}

// Whether tokenctl's stdout for `args` carries a token by design: the reason (a string), or null
// when its stdout must be token-free. By design: `token` (any form: --header, -o json,
// --exec-credential), `databricks auth token` (its JSON answer), `show --reveal`, `netrc` without
// --write, `git-credential get`, and `exec` (whose stdout is COMMAND's). Never with --help or
// --version. stderr is never a place for a token. `program` is argv[0]: run under the name
// `databricks` (a link to tokenctl) the program answers as `tokenctl databricks ARGS`.
export function stdoutCarriesSecrets(args, program = 'tokenctl') {
  const a = parseTokenctlArgs(path.basename(String(program)) === 'databricks' ? ['databricks', ...args] : args);
  if (a.flags.has('-h') || a.flags.has('--help') || a.flags.has('--version')) return null;
  if (a.command === 'token') return 'token prints the access token';
  if (a.command === 'databricks' && a.operation === 'auth' && args.map(String).includes('token')) {
    return 'databricks auth token prints the access token';
  }
  if (a.command === 'show' && a.flags.has('--reveal')) return 'show --reveal prints the tokens';
  if (a.command === 'netrc' && !a.flags.has('--write')) return 'netrc prints the entries';
  if (a.command === 'git-credential' && a.operation === 'get') return 'git-credential get answers the password';
  if (a.command === 'exec') return "exec's stdout is its command's";
  return null;
}

// Remember a home made by freshEnv, with its env, for recordAtExit.
export function registerHome(home, env) {
  homes.set(path.resolve(home), { env, files: new Set() });
}

// Note the files that hold tokens by design for a run of `args` in `env`: the token cache (from
// --token-cache, TOKENCTL_TOKEN_CACHE, or beside --config / TOKENCTL_CONFIG / the default config),
// the netrc file ($NETRC, ~/.netrc, netrc --file), exec's BEARER_TOKEN_FILE under XDG_RUNTIME_DIR
// (pid: tokenctl's), and the Databricks profile file ($DATABRICKS_CONFIG_FILE, ~/.databrickscfg),
// which holds an M2M profile's client_secret by design (tokenctl only reads it). Only for
// registered homes.
function noteSecretFiles(args, env, pid) {
  const files = env.HOME ? homes.get(path.resolve(env.HOME))?.files : undefined;
  if (!files) return;
  const a = parseTokenctlArgs(args);
  const config = a.values['--config'] || env.TOKENCTL_CONFIG
    || path.join(env.XDG_CONFIG_HOME || path.join(env.HOME, '.config'), 'tokenctl', 'config.toml');
  files.add(path.resolve(a.values['--token-cache'] || env.TOKENCTL_TOKEN_CACHE
    || path.join(path.dirname(config), 'token-cache.json')));
  files.add(path.resolve(env.NETRC || path.join(env.HOME, '.netrc')));
  files.add(path.resolve(env.DATABRICKS_CONFIG_FILE || path.join(env.HOME, '.databrickscfg')));
  if (a.command === 'netrc' && a.values['--file']) files.add(path.resolve(a.values['--file']));
  if (a.command === 'exec' && env.XDG_RUNTIME_DIR?.startsWith('/') && pid) {
    files.add(path.join(env.XDG_RUNTIME_DIR, 'tokenctl', `bearer-token-${pid}`));
  }
}

// Track a started tokenctl run (`out` collects its stdout and stderr); returns {flush(unfinished,
// {code, signal, timedOut})}, which records it once.
export function trackRun(bin, args, env, child, out) {
  const run = {
    seq: (runSeq += 1), pid: child.pid, started: Date.now(),
    flush(unfinished, result = {}) {
      if (!pendingRuns.delete(run)) return;
      appendRecord('runs', {
        test: TEST_FILE, seq: run.seq, pid: run.pid, argv: [bin, ...args],
        stdoutSecret: stdoutCarriesSecrets(args, bin), code: result.code ?? null, signal: result.signal ?? null,
        timedOut: result.timedOut ?? false, unfinished, ms: Date.now() - run.started,
        stdout: out.stdout, stderr: out.stderr,
      });
    },
  };
  noteSecretFiles(args, env, child.pid);
  if (RECORD_DIR) pendingRuns.add(run);
  return run;
}

// Whether `file` is, or is a temporary of (".NAME.tmp-*", src/sys/files.cpp), one of `secrets`.
function isSecretFile(file, secrets) {
  for (const s of secrets) {
    if (file === s) return true;
    const prefix = `.${path.basename(s).slice(0, 100)}.tmp-`;
    if (path.dirname(file) === path.dirname(s) && path.basename(file).startsWith(prefix)) return true;
  }
  return false;
}

function recordFile(home, file, secret) {
  const rel = path.relative(home, file);
  const size = fs.statSync(file).size;
  if (secret) {
    // Kept (when small) only for the scan's check that the record holds the issued tokens.
    const content = size <= MAX_RECORDED_SECRET_FILE ? fs.readFileSync(file).toString('base64') : undefined;
    appendRecord('files', { test: TEST_FILE, home, path: rel, secret: true, size, content });
    return;
  }
  const bytes = fs.readFileSync(file);
  appendRecord('files', {
    test: TEST_FILE, home, path: rel, secret: false, size: bytes.length, truncated: bytes.length > MAX_RECORDED_FILE,
    content: bytes.subarray(0, MAX_RECORDED_FILE).toString('base64'),
  });
}

// Record every file of one home. Rules: symlinks are not followed (a target in the home is
// recorded where it lies); the token cache, the netrc file, exec's token file, .databrickscfg
// and their temporaries are marked secret; a visible folder directly in the home that tokenctl was not
// told to write into is the test's own (exec.test.mjs's `work`, where its command saves the tokens
// it read) and only named; everything else (.config, .cache, .local, ..., files in the home) is
// recorded whole.
function recordHome(home, { env, files }) {
  noteSecretFiles([], env); // the env's defaults too: tests may run tokenctl without the harness
  const secrets = new Set();
  for (const f of files) {
    secrets.add(f);
    try { secrets.add(fs.realpathSync(f)); } catch { /* not there */ }
  }
  const toldToWrite = (dir) => [...secrets].some((s) => s.startsWith(`${dir}${path.sep}`));
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && dir === home && !entry.name.startsWith('.') && !toldToWrite(file)) {
        appendRecord('files', { test: TEST_FILE, home, path: entry.name, skipped: "the test's own folder" });
      } else if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) recordFile(home, file, isSecretFile(file, secrets));
    }
  };
  walk(home);
}

// At the test process's exit: record the unfinished runs and every registered home still there.
export function recordAtExit() {
  if (!RECORD_DIR) return;
  for (const run of pendingRuns) run.flush(true);
  for (const [home, entry] of homes) if (fs.existsSync(home)) recordHome(home, entry);
}
