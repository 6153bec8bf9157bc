// Attackers for abuse.test.mjs: raw TCP clients that misbehave towards tokenctl's loopback
// listener (junk floods, slow-loris clients, huge request lines, raced callbacks), and probes of
// the running tokenctl (peak memory from /proc) and of its port once it has exited.
//
// Why raw sockets and not http.request: the attacks are about bytes a browser would never send
// (garbage, a request cut short, a byte a second), and about when connections open and close;
// node's HTTP client would tidy exactly that away.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// Connect to 127.0.0.1:port; resolves to the connected socket, rejects on error or after timeoutMs.
export function connect(port, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const fail = (err) => { clearTimeout(timer); socket.destroy(); reject(err); };
    const timer = setTimeout(() => fail(new Error(`no connection to port ${port} in ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.on('error', () => {}); // later resets are outcomes, read from collectResponse
      resolve(socket);
    });
  });
}

// Read what the listener sends back on `socket` until one whole response has arrived (then close
// it, as a browser does), the listener closes, or timeoutMs passes. Resolves to {status (0: no
// response), head, body, how ('response', 'end', 'error ECODE', 'timeout'), ms}.
export function collectResponse(socket, timeoutMs = 10000) {
  const started = Date.now();
  let data = Buffer.alloc(0);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (how) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      resolve({
        status: m && end >= 0 ? Number(m[1]) : 0, head: end >= 0 ? text.slice(0, end + 2) : '',
        body: end >= 0 ? text.slice(end + 4) : '', how, ms: Date.now() - started,
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\nContent-Length: (\d+)\r\n/i.exec(text.slice(0, end + 2));
      if (end >= 0 && length && data.length >= end + 4 + Number(length[1])) finish('response');
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (err) => finish(`error ${err.code}`));
    socket.on('close', () => finish('end'));
  });
}

// A GET of `target` (path and query) as a browser sends it to the listener on `port`.
export function getRequest(target, port) {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: abuse-test\r\n`
    + 'Accept: text/html\r\nConnection: keep-alive\r\n\r\n';
}

// One request on a fresh connection; resolves to collectResponse's result (plus connectMs).
export async function exchange(port, request, timeoutMs = 10000) {
  const started = Date.now();
  const socket = await connect(port, timeoutMs);
  const connectMs = Date.now() - started;
  const response = collectResponse(socket, timeoutMs);
  socket.write(request);
  return { ...(await response), connectMs, ms: Date.now() - started };
}

// What one junk client sends, by its number: mostly garbage that is closed at once; every tenth
// connects and stays silent (kept open until release()).
function junkKind(i, port) {
  const ours = `127.0.0.1:${port}`;
  switch (i % 10) {
    case 0: return { silent: true };
    case 1: return { bytes: crypto.randomBytes(64 + (i % 4000)) };
    case 2: return { bytes: crypto.randomBytes(512), reset: true };
    case 3: return { bytes: `GET /favicon.ico HTTP/1.1\r\nHost: ${ours}\r\n\r\n` };
    case 4: return { bytes: 'GET /callback?code=junk HTTP/1.1\r\nHost: evil.example\r\n\r\n' };
    case 5: return { bytes: `POST /callback HTTP/1.1\r\nHost: ${ours}\r\nContent-Length: 5\r\n\r\nhello` };
    case 6: return { bytes: '' };
    case 7: return { bytes: 'GET /callb' };
    case 8: return { bytes: Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), crypto.randomBytes(300)]) };
    default: return { bytes: '', reset: true };
  }
}

// Open `count` junk connections to `port`: all at once, or in `waves` equal waves waveGapMs
// apart. Resolves when every one has ended (or timeoutMs passed for it; a silent one still open
// after 2 s counts as held) to {ms, lastEndedMs (when the last non-silent one ended), closed
// (ended gracefully), reset (the listener dropped it: a reset, maybe before node saw it connect),
// held, timedOut, failed (any other error, e.g. refused), errors: {CODE: n}, release()}.
export async function junkFlood(port, { count = 1000, timeoutMs = 20000, waves = 1, waveGapMs = 0 } = {}) {
  const started = Date.now();
  const stats = { closed: 0, reset: 0, held: 0, timedOut: 0, failed: 0, errors: {}, lastEndedMs: 0 };
  const silent = [];
  const one = (i) => new Promise((resolve) => {
    const kind = junkKind(i, port);
    const socket = net.connect({ host: '127.0.0.1', port });
    let error = null;
    const timer = setTimeout(() => {
      if (kind.silent && socket.readyState === 'open') stats.held += 1;
      else stats.timedOut += 1;
      resolve();
    }, kind.silent ? 2000 : timeoutMs);
    socket.on('error', (err) => {
      error = err.code;
      stats.errors[err.code] = (stats.errors[err.code] || 0) + 1;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!kind.silent) stats.lastEndedMs = Date.now() - started;
      if (!error) stats.closed += 1;
      else if (error === 'ECONNRESET' || error === 'EPIPE') stats.reset += 1;
      else stats.failed += 1;
      resolve();
    });
    socket.on('connect', () => {
      if (kind.silent) {
        socket.unref(); // a half-open one (the listener gone, our side unaware) must not keep node alive
        silent.push(socket);
      } else if (kind.reset) {
        if (kind.bytes.length) socket.write(kind.bytes);
        socket.resetAndDestroy();
      } else {
        socket.end(kind.bytes);
      }
    });
    socket.resume(); // discard the listener's answers
  });
  const pending = [];
  const perWave = Math.ceil(count / waves);
  for (let first = 0; first < count; first += perWave) {
    if (first > 0) await sleep(waveGapMs);
    for (let i = first; i < Math.min(count, first + perWave); i += 1) pending.push(one(i));
  }
  await Promise.all(pending);
  return {
    ...stats, ms: Date.now() - started,
    release: () => { for (const s of silent) s.destroy(); },
  };
}

// `clients` slow-loris connections to `port`, opened all at once: each sends the start of a GET of
// the redirect path, one byte every intervalMs, and never finishes. Resolves once every one has
// connected (or been dropped on the way) to {open(), closedAt: [ms since the start], stop()}.
export async function slowLoris(port, { clients = 8, intervalMs = 1000 } = {}) {
  const text = `GET /callback?code=${'s'.repeat(4000)}`;
  const started = Date.now();
  const closedAt = [];
  const sockets = [];
  const timers = [];
  await Promise.all(Array.from({ length: clients }, () => new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.unref(); // whatever becomes of the listener, these must not keep node alive
    sockets.push(socket);
    let sent = 0;
    const send = () => { if (!socket.destroyed) socket.write(text[sent++ % text.length]); };
    socket.on('error', () => {});
    socket.resume();
    socket.on('close', () => {
      closedAt.push(Date.now() - started);
      resolve();
    });
    socket.once('connect', () => {
      send();
      const timer = setInterval(send, intervalMs).unref();
      socket.on('close', () => clearInterval(timer));
      timers.push(timer);
      resolve();
    });
  })));
  return {
    open: () => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length,
    closedAt,
    stop: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

function statusKiB(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // gone
  }
}

// Sample VmHWM (peak resident set) of process `pid` every everyMs while it lives. Returns
// {now() -> KiB read just now (or the last one), peak() -> the highest seen, stop() -> peak}.
export function watchMemory(pid, everyMs = 20) {
  let peak = 0;
  const read = () => {
    const kib = statusKiB(pid, 'VmHWM');
    if (kib !== null) peak = Math.max(peak, kib);
    return peak;
  };
  read();
  const timer = setInterval(read, everyMs);
  return { now: read, peak: () => peak, stop: () => { clearInterval(timer); return peak; } };
}

// After tokenctl has exited: is anything still listening on `port`? Resolves to {refused (a
// connection is refused), bindable (a new listener can take the port)}.
export async function probePort(port) {
  const refused = await new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
  const bindable = await new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
  return { refused, bindable };
}
