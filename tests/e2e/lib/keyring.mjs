// A private freedesktop.org Secret Service for the e2e tests of `storage = "keyring"`: its own
// session bus (dbus-daemon) and gnome-keyring-daemon on it, headless, in a temp folder that
// stands in for the user's HOME and XDG_RUNTIME_DIR. Nothing of the developer's own session bus
// or keyring is touched.
//
//   const kr = await startKeyring({ password });   // unlocked "login" keyring, the default one
//   runTokenctl(args, { env: freshEnv(server, kr.env) });
//   await kr.lookup({ application: 'tokenctl', profile: 'dev', issuer })   // Buffer or null
//   await kr.search({ application: 'tokenctl' })   // [{path, label, locked, attributes, ...}]
//   await kr.lock(); await kr.unlock();            // lock / unlock the default collection
//   kr.pause('keyring' | 'bus'); kr.resume(...)    // SIGSTOP / SIGCONT: a service that hangs
//   await kr.stop();
//
// Other set-ups: `startBus()` is a session bus with no Secret Service on it (and nothing it could
// start); `startKeyring({ collection: false })` a Secret Service with no default collection
// (creating one would need a prompt); `noBusEnv()` the variables that mean "no session bus at
// all". Every env here is meant to be merged last into a child's environment (freshEnv's
// `extra`): an `undefined` value there removes the variable (and node's spawn skips it).
//
// How the keyring is unlocked headless:
// - at start, `gnome-keyring-daemon --foreground --unlock --components=secrets` reads the
//   password on stdin and creates (first start) or unlocks the "login" keyring with it; the
//   daemon makes "login" the default collection.
// - unlock() later speaks to the running daemon's control socket ($XDG_RUNTIME_DIR/keyring/
//   control), as pam_gnome_keyring does at login: a credentials byte, then GKD_CONTROL_OP_UNLOCK
//   with the password. A second `gnome-keyring-daemon --unlock` would not do: it starts another
//   daemon, which takes over the control socket and fails to own the bus name.
// - lock() is the Secret Service's own Lock method (no prompt is involved in locking).
// The bus has no service folders (no D-Bus activation), so nothing can start a prompter
// (gcr-prompter) or a second keyring: a client that asks for a prompt gets a quick failure.
//
// Processes: each daemon runs under a small /bin/sh guard that kills it when its stdin (a pipe
// from this process) reaches end-of-file, so the daemons die with this process even on SIGKILL;
// stop() and the exit handler also kill them directly.

import { spawn, spawnSync, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_PASSWORD = 'tokenctl-test-keyring';
const READY_TIMEOUT_MS = 15000;
const SECRETS = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';

const live = new Set(); // guarded daemons: {guard, pid()}
const tempDirs = new Set();
process.on('exit', () => {
  for (const daemon of live) daemon.killNow();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

// Why the keyring tests cannot run here (a string), or null when they can.
export function keyringUnavailable() {
  const missing = [];
  const tools = [
    ['dbus-daemon', 'dbus-daemon'], ['gnome-keyring-daemon', 'gnome-keyring'],
    ['secret-tool', 'libsecret-tools'], ['gdbus', 'libglib2.0-bin'],
  ];
  for (const [command, pkg] of tools) {
    if (spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0) {
      missing.push(`${command} (Debian package ${pkg})`);
    }
  }
  return missing.length ? `not installed: ${missing.join(', ')}` : null;
}

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

// A runtime folder as logind makes it: owned by the user, mode 0700 (gnome-keyring insists).
function runtimeDir(root) {
  const dir = path.join(root, 'run');
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  return dir;
}

// The variables that mean "no session bus at all": no DBUS_SESSION_BUS_ADDRESS, and an
// XDG_RUNTIME_DIR without a `bus` socket (GLib and sd-bus would connect to $XDG_RUNTIME_DIR/bus).
export function noBusEnv() {
  const root = tempDir('tokenctl-nobus-');
  return {
    DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: runtimeDir(root),
    SECRET_SERVICE_BUS_NAME: undefined, DBUS_STARTER_ADDRESS: undefined, DBUS_STARTER_BUS_TYPE: undefined,
  };
}

// Run `command` under the guard. `input` (a string) goes to the daemon's stdin, then EOF.
function startGuarded(command, args, { env, input }) {
  const dir = tempDir('tokenctl-guard-');
  const pidFile = path.join(dir, 'pid');
  // The daemon's own stdin: the input file, or /dev/null (a background job's default).
  let stdinFile = '/dev/null';
  if (input !== undefined) {
    stdinFile = path.join(dir, 'input');
    fs.writeFileSync(stdinFile, input, { mode: 0o600 });
  }
  const script = '"$@" <"$GUARD_STDIN" & pid=$!; echo "$pid" >"$GUARD_PIDFILE"; '
    + 'cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0';
  const guard = spawn('/bin/sh', ['-c', script, 'guard', command, ...args], {
    env: { ...env, GUARD_STDIN: stdinFile, GUARD_PIDFILE: pidFile },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  guard.stdin.on('error', () => {});
  const out = { stdout: '', stderr: '' };
  guard.stdout.on('data', (c) => { out.stdout += c; });
  guard.stderr.on('data', (c) => { out.stderr += c; });
  const exited = new Promise((resolve) => guard.once('close', resolve));
  let daemonPid = null;
  const pid = () => {
    if (daemonPid === null && fs.existsSync(pidFile)) {
      const text = fs.readFileSync(pidFile, 'utf8').trim();
      if (text) daemonPid = Number(text);
    }
    return daemonPid;
  };
  const signal = (sig) => {
    const p = pid();
    if (p) {
      try { process.kill(p, sig); } catch { /* gone */ }
    }
  };
  const daemon = {
    guard, out, pid, signal, exited,
    running: () => guard.exitCode === null && guard.signalCode === null,
    killNow() {
      signal('SIGCONT');
      signal('SIGKILL');
      guard.stdin.destroy();
    },
    async stop() {
      if (!live.has(daemon)) return;
      signal('SIGCONT'); // a paused daemon cannot act on SIGTERM
      guard.stdin.end(); // the guard sends SIGTERM and waits
      const timer = setTimeout(() => signal('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      live.delete(daemon);
    },
  };
  live.add(daemon);
  return daemon;
}

async function waitFor(what, check, timeoutMs = READY_TIMEOUT_MS, diagnostics = () => '') {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`keyring harness: ${what} not ready in ${timeoutMs} ms\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(command, args, env, { input, timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env, encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, timedOut: !!err?.killed });
      });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

// ---- GVariant text (gdbus output) -------------------------------------------------------------

// Parse g_variant_print() text: tuples and arrays -> arrays, dicts -> objects, variants
// unwrapped, object paths and signatures -> strings, numbers -> numbers, b'..' -> Buffer.
export function parseGVariant(text) {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const expect = (c) => {
    ws();
    if (text[i] !== c) throw new Error(`GVariant text: expected ${c} at ${i}: ${text}`);
    i++;
  };
  const str = () => {
    const quote = text[i++];
    let out = '';
    while (text[i] !== quote) {
      if (i >= text.length) throw new Error(`GVariant text: unterminated string: ${text}`);
      let c = text[i++];
      if (c === '\\') {
        c = text[i++];
        const simple = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07' };
        if (c in simple) out += simple[c];
        else if (c === 'u') { out += String.fromCodePoint(parseInt(text.slice(i, i + 4), 16)); i += 4; }
        else if (c === 'U') { out += String.fromCodePoint(parseInt(text.slice(i, i + 8), 16)); i += 8; }
        else if (/[0-7]/.test(c)) {
          let oct = c;
          while (oct.length < 3 && /[0-7]/.test(text[i])) oct += text[i++];
          out += String.fromCharCode(parseInt(oct, 8));
        } else out += c;
      } else out += c;
    }
    i++;
    return out;
  };
  const list = (close) => {
    const items = [];
    for (;;) {
      ws();
      if (text[i] === close) { i++; return items; }
      items.push(value());
      ws();
      if (text[i] === ',') i++;
    }
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '(') { i++; return list(')'); }
    if (c === '[') { i++; return list(']'); }
    if (c === '<') { i++; const v = value(); expect('>'); return v; }
    if (c === '\'' || c === '"') return str();
    if (c === '@') { while (i < text.length && !/\s/.test(text[i])) i++; return value(); }
    if (c === '{') {
      i++;
      const obj = {};
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return obj; }
        const key = value();
        ws();
        if (text[i] !== ':' && text[i] !== ',') throw new Error(`GVariant text: bad dict at ${i}: ${text}`);
        i++;
        obj[key] = value();
        ws();
        if (text[i] === ',') i++;
      }
    }
    if (c === 'b' && (text[i + 1] === '\'' || text[i + 1] === '"')) { i++; return Buffer.from(str(), 'latin1'); }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      if (word[0] === 'true') return true;
      if (word[0] === 'false') return false;
      if (word[0] === 'nothing') return null;
      return value(); // a type keyword: objectpath, uint64, just, ...
    }
    const num = /^[-+]?(0x[0-9a-fA-F]+|[0-9.]+(e[-+]?[0-9]+)?|inf|nan)/.exec(text.slice(i));
    if (num) { i += num[0].length; return Number(num[0]); }
    throw new Error(`GVariant text: cannot parse at ${i}: ${text}`);
  };
  const v = value();
  return v;
}

// ---- A session bus ------------------------------------------------------------------------------

function busConfig(socket) {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

// Start a private session bus with nothing on it. Resolves to {env, address, root, home,
// runtimeDir, pid, gdbus(args), call(dest, path, method, ...args), pause(), resume(), stop()}.
// The socket is not $XDG_RUNTIME_DIR/bus, so that env minus DBUS_SESSION_BUS_ADDRESS is "no bus".
export async function startBus() {
  const root = tempDir('tokenctl-keyring-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  const runDir = runtimeDir(root);
  const busDir = path.join(root, 'bus');
  fs.mkdirSync(busDir, { mode: 0o700 });
  const socket = path.join(busDir, 'socket');
  const config = path.join(root, 'bus.conf');
  fs.writeFileSync(config, busConfig(socket));
  // The environment of the daemons: nothing of the developer's session.
  const daemonEnv = {
    PATH: process.env.PATH || '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runDir,
    XDG_DATA_HOME: path.join(home, '.local', 'share'), XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'), LC_ALL: 'C.UTF-8',
  };
  const bus = startGuarded('dbus-daemon', ['--config-file', config, '--nofork', '--print-address=1'],
    { env: daemonEnv });
  await waitFor('dbus-daemon', () => bus.out.stdout.includes('\n') || !bus.running(), READY_TIMEOUT_MS,
    () => bus.out.stderr);
  if (!bus.running()) throw new Error(`keyring harness: dbus-daemon exited:\n${bus.out.stderr}`);
  const address = `unix:path=${socket}`;
  const toolEnv = { ...daemonEnv, DBUS_SESSION_BUS_ADDRESS: address };
  const gdbus = (args, options) => run('gdbus', args, toolEnv, options);
  const call = async (dest, objectPath, method, ...args) => {
    const r = await gdbus(['call', '--session', '--dest', dest, '--object-path', objectPath, '--method', method,
      ...args]);
    if (r.code !== 0) {
      const err = new Error(`gdbus ${method}: ${r.stderr.toString().trim()}`);
      err.stderr = r.stderr.toString();
      throw err;
    }
    return parseGVariant(r.stdout.toString());
  };
  const handle = {
    address, root, home, runtimeDir: runDir, toolEnv, daemonEnv, gdbus, call,
    env: {
      DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runDir,
      SECRET_SERVICE_BUS_NAME: undefined, DBUS_STARTER_ADDRESS: undefined, DBUS_STARTER_BUS_TYPE: undefined,
    },
    pid: () => bus.pid(),
    // SIGSTOP the bus: connections are accepted by the kernel, then nothing answers.
    pause: () => bus.signal('SIGSTOP'),
    resume: () => bus.signal('SIGCONT'),
    stderr: () => bus.out.stderr,
    async stop() {
      await bus.stop();
    },
  };
  return handle;
}

// ---- The Secret Service -------------------------------------------------------------------------

// Start a session bus and gnome-keyring-daemon (secrets component only) on it. Options:
// password (the login keyring's), collection (false: no keyring at all, so no default
// collection). Resolves to the startBus() handle plus {password, lookup, search, store, clear,
// lock, unlock, locked, defaultCollection, pause(which), resume(which), stop}.
export async function startKeyring({ password = DEFAULT_PASSWORD, collection = true } = {}) {
  const bus = await startBus();
  const args = ['--foreground', '--components=secrets', '--control-directory', path.join(bus.runtimeDir, 'keyring')];
  if (collection) args.push('--unlock');
  const keyring = startGuarded('gnome-keyring-daemon', args,
    { env: { ...bus.daemonEnv, DBUS_SESSION_BUS_ADDRESS: bus.address }, input: collection ? password : undefined });
  const diagnostics = () => `gnome-keyring-daemon: ${keyring.out.stdout}${keyring.out.stderr}\ndbus-daemon: ${bus.stderr()}`;

  const nameOwned = async () => {
    try {
      const [owned] = await bus.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner',
        SECRETS);
      return owned === true;
    } catch {
      return false;
    }
  };
  const defaultCollection = async () => {
    const [objectPath] = await bus.call(SECRETS, SERVICE_PATH, 'org.freedesktop.Secret.Service.ReadAlias', 'default');
    return objectPath === '/' ? null : objectPath;
  };
  const locked = async (objectPath) => {
    const target = objectPath ?? await defaultCollection();
    if (!target) throw new Error('keyring harness: there is no default collection');
    const [value] = await bus.call(SECRETS, target, 'org.freedesktop.DBus.Properties.Get',
      'org.freedesktop.Secret.Collection', 'Locked');
    return value;
  };
  try {
    await waitFor('gnome-keyring-daemon on the bus', async () => {
      if (!keyring.running()) throw new Error(`keyring harness: gnome-keyring-daemon exited\n${diagnostics()}`);
      return nameOwned();
    }, READY_TIMEOUT_MS, diagnostics);
    if (collection) {
      await waitFor('the unlocked login keyring', async () => {
        const objectPath = await defaultCollection();
        return objectPath !== null && !(await locked(objectPath));
      }, READY_TIMEOUT_MS, diagnostics);
    }
  } catch (err) {
    await keyring.stop();
    await bus.stop();
    throw err;
  }

  const secretTool = (args, options) => run('secret-tool', args, bus.toolEnv, options);
  const attrArgs = (attrs) => Object.entries(attrs).flatMap(([k, v]) => [k, String(v)]);

  return {
    ...bus,
    password,
    defaultCollection,
    locked,
    keyringPid: () => keyring.pid(),
    keyringOutput: () => keyring.out,
    // `secret-tool lookup`: the secret of the first unlocked match as a Buffer, or null.
    // (secret-tool asks for a prompt on a locked match; on this bus the prompt fails at once.)
    async lookup(attrs) {
      const r = await secretTool(['lookup', ...attrArgs(attrs)]);
      return r.code === 0 ? r.stdout : null;
    },
    // Every item matching attrs, locked or not: [{path, label, locked, attributes, created,
    // modified}] (Secret Service SearchItems, then each item's properties; no secrets).
    async search(attrs) {
      const dict = `{${Object.entries(attrs).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(String(v))}`).join(', ')}}`;
      const [unlockedPaths, lockedPaths] = await bus.call(SECRETS, SERVICE_PATH,
        'org.freedesktop.Secret.Service.SearchItems', Object.keys(attrs).length ? dict : '@a{ss} {}');
      const items = [];
      for (const itemPath of [...unlockedPaths, ...lockedPaths]) {
        const [props] = await bus.call(SECRETS, itemPath, 'org.freedesktop.DBus.Properties.GetAll',
          'org.freedesktop.Secret.Item');
        items.push({
          path: itemPath, label: props.Label, locked: props.Locked, attributes: props.Attributes,
          created: props.Created, modified: props.Modified,
        });
      }
      return items;
    },
    // `secret-tool store` (an item the way another program would make it).
    async store(attrs, secret, label = 'harness item') {
      const r = await secretTool(['store', `--label=${label}`, ...attrArgs(attrs)], { input: secret });
      if (r.code !== 0) throw new Error(`secret-tool store: ${r.stderr.toString()}`);
    },
    // `secret-tool clear`: remove the unlocked items matching attrs.
    async clear(attrs) {
      await secretTool(['clear', ...attrArgs(attrs)]);
    },
    // Lock the default collection (Secret Service Lock: needs no prompt).
    async lock() {
      const target = await defaultCollection();
      const [lockedPaths, prompt] = await bus.call(SECRETS, SERVICE_PATH, 'org.freedesktop.Secret.Service.Lock',
        `['${target}']`);
      if (prompt !== '/' || !lockedPaths.includes(target) || !(await locked(target))) {
        throw new Error(`keyring harness: could not lock ${target}`);
      }
    },
    // Unlock the login keyring through gnome-keyring's control socket, with `withPassword`.
    // Resolves to true, or false when the daemon refused the password.
    async unlock(withPassword = password) {
      const result = await controlUnlock(path.join(bus.runtimeDir, 'keyring', 'control'), withPassword);
      if (result === 1) return false;
      if (result !== 0) throw new Error(`keyring harness: gnome-keyring control socket answered ${result}`);
      await waitFor('the unlocked login keyring', async () => !(await locked()), 5000, diagnostics);
      return true;
    },
    // SIGSTOP / SIGCONT gnome-keyring-daemon ('keyring', the default) or the bus ('bus').
    pause(which = 'keyring') {
      if (which === 'bus') bus.pause();
      else keyring.signal('SIGSTOP');
    },
    resume(which = 'keyring') {
      if (which === 'bus') bus.resume();
      else keyring.signal('SIGCONT');
    },
    // Stop gnome-keyring-daemon alone: the bus stays, with no Secret Service on it.
    async stopKeyring() {
      await keyring.stop();
    },
    async stop() {
      await keyring.stop();
      await bus.stop();
    },
  };
}

// GKD_CONTROL_OP_UNLOCK (what pam_gnome_keyring sends at login): one credentials byte (the
// daemon reads SO_PEERCRED), then big-endian u32 packet length, op 1, password length, password;
// the answer is [8][result]: 0 OK, 1 DENIED, 2 FAILED, 3 NO_DAEMON.
function controlUnlock(socketPath, password) {
  const secret = Buffer.from(password, 'utf8');
  const msg = Buffer.alloc(1 + 12 + secret.length);
  msg.writeUInt32BE(12 + secret.length, 1);
  msg.writeUInt32BE(1, 5);
  msg.writeUInt32BE(secret.length, 9);
  secret.copy(msg, 13);
  return new Promise((resolve, reject) => {
    let reply = Buffer.alloc(0);
    const sock = net.connect(socketPath, () => sock.write(msg));
    sock.setTimeout(5000, () => sock.destroy(new Error('gnome-keyring control socket: no answer in 5 s')));
    sock.on('data', (d) => {
      reply = Buffer.concat([reply, d]);
      if (reply.length >= 8) {
        sock.end();
        resolve(reply.readUInt32BE(4));
      }
    });
    sock.on('error', reject);
    sock.on('close', () => { if (reply.length < 8) reject(new Error('gnome-keyring control socket closed early')); });
  });
}
