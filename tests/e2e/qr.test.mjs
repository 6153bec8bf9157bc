// End-to-end tests of what `login` draws on a terminal (the man page "Tokens shaped for the consumer"):
// the device flow's verification address as a QR code, and the countdown while login waits.
//
// tokenctl runs on a pty under `script -qfec CMD /dev/null` (util-linux), the size set with
// `stty cols N rows M` first. What the terminal received is read back: the half blocks of the QR
// code become a bitmap again (one character: two modules, one above the other), written as a PBM
// and decoded by `zbarimg` (Debian zbar-tools), which must read exactly the
// verification_uri_complete the server sent. The same run without a pty (plain pipes) must show
// neither a QR code nor a countdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  freshEnv, httpRequest, profileToml, readBrowserLog, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';

const HAVE_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const HAVE_ZBARIMG = spawnSync('zbarimg', ['--version'], { stdio: 'ignore' }).status === 0;
const HAVE_QRENCODE = ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig'].some((cmd) => {
  const r = spawnSync(cmd, ['-p'], { encoding: 'utf8' });
  return r.status === 0 && /\blibqrencode\.so\.4\b/.test(r.stdout);
});
const SKIP_PTY = HAVE_SCRIPT ? false : 'the `script` command (util-linux) is needed for a pty';
const SKIP_QR = SKIP_PTY
  || (HAVE_QRENCODE ? false : 'libqrencode.so.4 (Debian libqrencode4) is needed to draw the QR code')
  || (HAVE_ZBARIMG ? false : 'zbarimg (Debian zbar-tools) is needed to read the QR code back');

const ESC = '\x1b';
const CLEAR = `\r${ESC}[K`;
const BLOCKS = { ' ': [false, false], '\u2580': [true, false], '\u2584': [false, true], '\u2588': [true, true] };

let server;
let workDir;
before(async () => {
  if (!SKIP_PTY) server = await startServer();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-qr-'));
});
after(async () => {
  await server?.stop();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

const quote = (word) => `'${String(word).replace(/'/g, "'\\''")}'`;

// Run `tokenctl ARGS` on a pty of `cols` by `rows`; resolves to {code, output, ms}: what the
// terminal received (stdout, stderr; \r\n as \n, a lone \r kept).
function onTerminal(args, env, { cols = 80, rows = 50, timeoutMs = 60000 } = {}) {
  const bin = process.env.TOKENCTL_BIN;
  assert.ok(bin, 'TOKENCTL_BIN is set');
  const command = `stty cols ${cols} rows ${rows} && exec ${[bin, ...args].map(quote).join(' ')}`;
  const started = Date.now();
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {}); // kept open: script ends its session when its input ends
  let output = '';
  child.stdout.on('data', (c) => { output += c; });
  child.stderr.on('data', (c) => { output += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r\n/g, '\n'), ms: Date.now() - started });
    });
  });
}

// A terminal's environment: a terminal type that takes escape codes, no NO_COLOR.
function terminalEnv(mode, extra = {}) {
  const env = freshEnv(server, {
    TEST_BROWSER_MODE: mode, TERM: 'xterm-256color', COLORTERM: undefined, NO_COLOR: undefined, ...extra,
  });
  writeConfig(env, profileToml(server));
  return env;
}

async function deviceAuthorization() {
  const sent = await server.requests('device_authorization');
  assert.equal(sent.length, 1, 'one device authorization request');
  return JSON.parse(sent[0].response);
}

// The QR code in `output`: its lines (the index of the first and last in output.split('\n')) and
// its style, or null. Colored lines are white on black (ESC[38;5;231;48;5;16m from the 256-colour
// cube, or ESC[37;40m), blocks, ESC[0m; plain ones blocks alone.
const STYLES = {
  colors256: new RegExp(`^${ESC}\\[38;5;231;48;5;16m([ \u2580\u2584\u2588]+)${ESC}\\[0m$`),
  colors8: new RegExp(`^${ESC}\\[37;40m([ \u2580\u2584\u2588]+)${ESC}\\[0m$`),
  plain: /^([ \u2580\u2584\u2588]*[\u2580\u2584\u2588][ \u2580\u2584\u2588]*)$/,
};
function findQr(output) {
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const style = Object.keys(STYLES).find((name) => STYLES[name].test(lines[i]));
    if (!style) continue;
    const body = [];
    let j = i;
    for (; j < lines.length; j += 1) {
      const m = lines[j].match(STYLES[style]);
      if (!m) break;
      body.push(m[1]);
    }
    return { style, body, first: i, last: j - 1, lines };
  }
  return null;
}

// The half blocks back into modules: rows of booleans, true where the character shows ink
// (the foreground colour) in the upper or the lower half of its cell.
function inkRows(body) {
  const rows = [];
  for (const line of body) {
    const cells = [...line];
    rows.push(cells.map((c) => BLOCKS[c][0]), cells.map((c) => BLOCKS[c][1]));
  }
  return rows;
}

// Write rows of pixels (true: black) as a PBM, each pixel `scale` by `scale`, with `border` light
// pixels around; return the file.
let pbmCount = 0;
function writePbm(rows, { scale = 4, border = 0 } = {}) {
  const width = rows[0].length + 2 * border;
  const padded = [
    ...Array.from({ length: border }, () => new Array(width).fill(false)),
    ...rows.map((r) => [...new Array(border).fill(false), ...r, ...new Array(border).fill(false)]),
    ...Array.from({ length: border }, () => new Array(width).fill(false)),
  ];
  const out = [`P1\n${width * scale} ${padded.length * scale}\n`];
  for (const row of padded) {
    const line = row.flatMap((black) => new Array(scale).fill(black ? '1' : '0')).join(' ');
    for (let k = 0; k < scale; k += 1) out.push(`${line}\n`);
  }
  pbmCount += 1;
  const file = path.join(workDir, `qr-${pbmCount}.pbm`);
  fs.writeFileSync(file, out.join(''));
  return file;
}

// What zbarimg reads in `file` (null when it finds no code); `inverted` also tries light on dark.
function zbar(file, { inverted = false } = {}) {
  const args = ['--nodbus', '-q', '--raw', ...(inverted ? ['-Stest-inverted'] : []), file];
  const r = spawnSync('zbarimg', args, { encoding: 'utf8' });
  if (r.status === 4) return null; // no symbol found
  assert.equal(r.status, 0, `zbarimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

// The ink is shown in the foreground colour on the background one: white on black when tokenctl
// sets them (any theme), else the theme's own (light text on dark, or dark on light). Returns the
// pixels as a camera sees them (true: black).
function asShown(rows, style, theme) {
  const inkIsBlack = style === 'plain' && theme === 'light';
  return rows.map((r) => r.map((ink) => (inkIsBlack ? ink : !ink)));
}

// The drawing as a terminal whose font leaves a gap of `gap` pixels (in the background colour) at
// the top and the bottom of each 8 x 16 cell, as some fonts' block characters do; pixel rows.
function withGaps(body, { inkIsBlack, gap }) {
  const W = 8;
  const H = 16;
  const pixels = [];
  for (const line of body) {
    const cells = [...line];
    for (let y = 0; y < H; y += 1) {
      const half = y < H / 2 ? 0 : 1;
      const inGap = y < gap || y >= H - gap;
      pixels.push(cells.flatMap((c) => new Array(W).fill(!inGap && BLOCKS[c][half] ? inkIsBlack : !inkIsBlack)));
    }
  }
  return pixels;
}

// The width, in characters, of each line of the QR code.
const widths = (qr) => new Set(qr.body.map((l) => [...l].length));

// A device login that nobody completes, on a pty: --timeout 3s ends it (exit 1).
async function idleDeviceLogin({ cols = 80, rows = 50, extraArgs = [], extraEnv = {} } = {}) {
  await server.reset();
  const env = terminalEnv('idle', extraEnv);
  const r = await onTerminal(['login', '--device', '-p', 'dev', '--timeout', '3s', ...extraArgs], env, { cols, rows });
  assert.equal(r.code, 1, r.output);
  return { r, device: await deviceAuthorization() };
}

test('80 columns: a white-on-black QR code that zbarimg reads as the address with the code; the login completes',
  { skip: SKIP_QR }, async (t) => {
    await server.reset();
    const env = terminalEnv('device');
    const r = await onTerminal(['login', '--device', '-p', 'dev'], env, { cols: 80, rows: 50, timeoutMs: 90000 });
    assert.equal(r.code, 0, r.output);
    const device = await deviceAuthorization();
    assert.ok(device.verification_uri_complete, 'the server sent verification_uri_complete');
    const qr = findQr(r.output);
    assert.ok(qr, `no QR code drawn:\n${r.output}`);
    assert.equal(qr.style, 'colors256', 'TERM=xterm-256color: the colour cube\'s white and black');
    const [width] = widths(qr);
    assert.equal(widths(qr).size, 1, 'every line as wide');
    assert.ok(width <= 80, `${width} columns`);
    // Level M fits 80 columns: 33 modules (version 4) and the quiet zone, for this ~50-byte address.
    assert.equal(width, 41, 'level M: version 4 and 2 x 4 modules of quiet zone');
    assert.equal(qr.body.length, Math.ceil(width / 2));
    const rows = inkRows(qr.body);
    // The quiet zone: 4 modules of light (ink) all around.
    for (const [y, row] of rows.entries()) {
      for (const [x, ink] of row.entries()) {
        if (x < 4 || x >= width - 4 || y < 4 || y >= width - 4) assert.equal(ink, true, `quiet zone at ${x},${y}`);
      }
    }
    for (const theme of ['dark', 'light']) {
      assert.equal(zbar(writePbm(asShown(rows, qr.style, theme))), device.verification_uri_complete, theme);
    }
    // A font that leaves 1 or 2 pixels of each 16-pixel line blank: the gaps cross the light
    // modules with dark lines, and it still scans. Had the dark modules been the ink (black on
    // white), light lines would cross the dark modules: zbarimg then reads nothing (reported only).
    for (const gap of [1, 2]) {
      assert.equal(zbar(writePbm(withGaps(qr.body, { inkIsBlack: false, gap }), { scale: 1, border: 32 })),
        device.verification_uri_complete, `gap ${gap}`);
      const inverse = qr.body.map((l) => [...l].map((c) => ({ ' ': '\u2588', '\u2580': '\u2584', '\u2584': '\u2580', '\u2588': ' ' })[c]).join(''));
      const other = zbar(writePbm(withGaps(inverse, { inkIsBlack: true, gap }), { scale: 1, border: 32 }));
      t.diagnostic(`gap ${gap}px of 16: dark modules as black ink on white: ${other === null ? 'not read' : 'read'}`);
    }
    // The addresses stay text, under the QR code.
    const text = qr.lines.slice(qr.last + 1).join('\n');
    assert.ok(text.includes(`To sign in, open ${device.verification_uri} in a browser and enter the code:\n\n  `
      + `${device.user_code}\n`), r.output);
    assert.ok(text.includes(`  ${device.verification_uri_complete}\n`), r.output);
    assert.doesNotMatch(qr.lines.slice(0, qr.first).join('\n'), /To sign in/);
    // Polling waited at least one interval: the countdown was drawn, and cleared before the end.
    assert.match(r.output, /\rWaiting for the sign-in: \d+m \d+s left \(Ctrl-C to cancel\)\x1b\[K/);
    assert.ok(r.output.includes(`${ESC}[K${CLEAR}Logged in to profile "dev" as alice`), JSON.stringify(r.output.slice(-400)));
  });

test('40 columns: level M does not fit, level L (37 columns) does, and scans; TERM=xterm: 8 colours', { skip: SKIP_QR }, async () => {
  const { r, device } = await idleDeviceLogin({ cols: 40, extraEnv: { TERM: 'xterm', COLORTERM: undefined } });
  const qr = findQr(r.output);
  assert.ok(qr, `no QR code drawn:\n${r.output}`);
  assert.equal(qr.style, 'colors8');
  assert.deepEqual([...widths(qr)], [37], 'version 3 at level L, with its quiet zone');
  assert.equal(zbar(writePbm(asShown(inkRows(qr.body), qr.style, 'light'))), device.verification_uri_complete);
  assert.doesNotMatch(r.output, /The QR code needs/);
});

test('30 columns: no QR code, one line that says how wide it needs to be; the addresses as text', { skip: SKIP_QR }, async () => {
  const { r, device } = await idleDeviceLogin({ cols: 30 });
  assert.equal(findQr(r.output), null, r.output);
  assert.doesNotMatch(r.output, /[\u2580\u2584\u2588]/);
  const lines = r.output.split('\n');
  const note = lines.findIndex((l) => l === 'The QR code needs 37 columns; widen the terminal or open the address below.');
  assert.ok(note >= 0, r.output);
  assert.ok(lines.findIndex((l) => l.startsWith('To sign in, open ')) > note, 'the note comes before the addresses');
  assert.ok(r.output.includes(`  ${device.user_code}\n`));
  assert.ok(r.output.includes(`  ${device.verification_uri_complete}\n`));
});

test('a terminal too short for the QR code: one line that says how many lines it needs', { skip: SKIP_QR }, async () => {
  const { r } = await idleDeviceLogin({ cols: 80, rows: 15 });
  assert.equal(findQr(r.output), null, r.output);
  // Level L (19 lines) is the smallest; 15 rows cannot show it whole.
  assert.ok(r.output.split('\n').includes('The QR code needs 19 lines; make the terminal taller or open the address below.'),
    r.output);
});

test('--no-qr: no QR code and no note; the addresses as text', { skip: SKIP_PTY }, async () => {
  const { r, device } = await idleDeviceLogin({ extraArgs: ['--no-qr'] });
  assert.equal(findQr(r.output), null, r.output);
  assert.doesNotMatch(r.output, /QR code|[\u2580\u2584\u2588]|\x1b\[(?:37|38)/);
  assert.ok(r.output.includes(`  ${device.verification_uri_complete}\n`));
});

test('NO_COLOR: no escape codes, the light modules as blocks: it scans as a dark theme shows it', { skip: SKIP_QR }, async () => {
  const { r, device } = await idleDeviceLogin({ extraEnv: { NO_COLOR: '1' } });
  const qr = findQr(r.output);
  assert.ok(qr, `no QR code drawn:\n${r.output}`);
  assert.equal(qr.style, 'plain');
  assert.doesNotMatch(qr.lines.slice(qr.first, qr.last + 1).join('\n'), /\x1b/);
  const rows = inkRows(qr.body);
  assert.ok(rows[0].every((ink) => ink), 'the quiet zone is drawn as blocks');
  // A dark theme shows the ink light: dark modules on a light ground, as a scanner wants.
  assert.equal(zbar(writePbm(asShown(rows, 'plain', 'dark'))), device.verification_uri_complete);
  // A light theme shows it inverted: plain zbarimg finds nothing, only when told to try inverted
  // codes (as most phone cameras do). That is why the default sets black on white itself.
  const light = writePbm(asShown(rows, 'plain', 'light'), { border: 4 });
  assert.equal(zbar(light), null);
  assert.equal(zbar(light, { inverted: true }), device.verification_uri_complete);
});

test('without a terminal: no QR code, no note, no countdown, no escape codes', { skip: SKIP_PTY }, async () => {
  await server.reset();
  const env = terminalEnv('idle');
  const device = await runTokenctl(['login', '--device', '-p', 'dev', '--timeout', '3s'], { env, timeoutMs: 30000 });
  assert.equal(device.code, 1, device.stderr);
  assert.ok(device.stderr.includes((await deviceAuthorization()).verification_uri_complete));
  await server.reset();
  const code = await runTokenctl(['login', '-p', 'dev', '--timeout', '2s'], { env, timeoutMs: 30000 });
  assert.equal(code.code, 1, code.stderr);
  assert.match(code.stderr, /no answer from the browser within 2s/);
  for (const r of [device, code]) {
    assert.doesNotMatch(r.stderr, /QR code|[\u2580\u2584\u2588]|\x1b|\r|left \(Ctrl-C/, r.stderr);
  }
});

test('the countdown on a terminal: rewritten in place every second, cleared before the error', { skip: SKIP_PTY }, async () => {
  await server.reset();
  const env = terminalEnv('idle');
  const r = await onTerminal(['login', '-p', 'dev', '--timeout', '4s'], env);
  assert.equal(r.code, 1, r.output);
  const shown = [...r.output.matchAll(/\rWaiting for the browser: (\d+)s left \(Ctrl-C to cancel\)\x1b\[K/g)]
    .map((m) => Number(m[1]));
  assert.ok(shown.length >= 3, JSON.stringify(r.output));
  assert.equal(shown[0], 4);
  assert.equal(shown.at(-1), 1);
  for (let i = 1; i < shown.length; i += 1) assert.equal(shown[i], shown[i - 1] - 1, `${shown}`);
  // No newline between the rewrites: one line, rewritten.
  const first = r.output.indexOf('\rWaiting for the browser');
  const cleared = r.output.lastIndexOf(CLEAR);
  assert.ok(cleared > first);
  assert.doesNotMatch(r.output.slice(first, cleared), /\n/);
  // Cleared, then the error on a clean line; nothing after it but the hint.
  assert.match(r.output.slice(cleared), /^\r\x1b\[Ktokenctl: error: no answer from the browser within 4s; run tokenctl login again\n$/);
});

test('a forged callback during the countdown: the line is cleared for the warning, then drawn again', { skip: SKIP_PTY }, async () => {
  await server.reset();
  const env = terminalEnv('idle');
  const run = onTerminal(['login', '-p', 'dev', '--timeout', '6s'], env);
  // The browser stand-in was started with the one-time start address, on the listener's port.
  const browser = await readBrowserLog(env);
  assert.equal(browser.result, 'ok', JSON.stringify(browser));
  const { port } = new URL(browser.url);
  await new Promise((resolve) => { setTimeout(resolve, 1500); });
  const forged = await httpRequest(`http://127.0.0.1:${port}/callback?code=forged&state=forged-by-the-test`);
  assert.equal(forged.status, 400);
  const r = await run;
  assert.equal(r.code, 1, r.output);
  const warning = 'tokenctl: warning: ignored a callback whose state does not match this login (a forged or stale '
    + 'redirect); still waiting for the browser\n';
  const at = r.output.indexOf(warning);
  assert.ok(at > 0, r.output);
  assert.match(r.output.slice(0, at), /left \(Ctrl-C to cancel\)\x1b\[K\r\x1b\[K$/, 'cleared just before the warning');
  assert.match(r.output.slice(at + warning.length), /^\rWaiting for the browser: \ds left \(Ctrl-C to cancel\)\x1b\[K/,
    'drawn again at once');
});
