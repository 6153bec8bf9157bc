// Injected failures for the e2e test server: the next N requests to a path fail in a chosen way
// before they reach the authorization server.
//
// Why: tokenctl promises an exit status and a one-line message, never a crash, a hang or a lost
// token, when a server answers 5xx, 429 with Retry-After, HTML, garbage, half a document, a huge
// body, a redirect, or nothing at all. A real provider never does these things on demand, so the
// test server does them in front of it.

export const FAULT_MODES = new Set(
  ['500', '429', '503', 'html', 'truncated', 'hang', 'huge', 'garbage', 'redirect']);

const HUGE_BYTES = 50 * 1024 * 1024;

// Validate a fault request ({path, mode, count, retryAfter, status, location}); returns the fault
// with defaults filled in, or throws an Error whose message says what is wrong.
export function parseFault(spec) {
  if (!spec || typeof spec !== 'object') throw new Error('fault must be a JSON object');
  if (typeof spec.path !== 'string' || !spec.path.startsWith('/')) {
    throw new Error('fault.path must be a path starting with "/"');
  }
  if (!FAULT_MODES.has(String(spec.mode))) {
    throw new Error(`fault.mode must be one of ${[...FAULT_MODES].join(', ')}`);
  }
  const count = spec.count === undefined ? 1 : Number(spec.count);
  if (!Number.isInteger(count) || count < 0) throw new Error('fault.count must be a whole number');
  return {
    path: spec.path,
    mode: String(spec.mode),
    count,
    retryAfter: spec.retryAfter === undefined ? undefined : String(spec.retryAfter),
    status: spec.status === undefined ? undefined : Number(spec.status),
    location: spec.location,
  };
}

// The set of armed faults, keyed by path.
export class FaultTable {
  #faults = new Map();
  #hung = new Set();

  // Arm `fault` (as returned by parseFault), replacing any fault for the same path.
  arm(fault) {
    if (fault.count === 0) this.#faults.delete(fault.path);
    else this.#faults.set(fault.path, { ...fault });
  }

  // Take one use of the fault matching any of `paths`; returns the fault or undefined.
  take(paths) {
    for (const p of paths) {
      const fault = this.#faults.get(p);
      if (!fault) continue;
      fault.count -= 1;
      if (fault.count <= 0) this.#faults.delete(p);
      return fault;
    }
    return undefined;
  }

  // Disarm every fault and drop every hung connection.
  reset() {
    this.#faults.clear();
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
  }

  // Answer `res` the way `fault` says. `origin` is the server's own origin (for redirects).
  serve(fault, res, origin) {
    const json = { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store' };
    const retry = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
    const error = (status, code) => {
      res.writeHead(fault.status || status, { ...json, ...retry });
      res.end(JSON.stringify({ error: code, error_description: `injected fault: ${fault.mode}` }));
    };
    switch (fault.mode) {
      case '500': return error(500, 'server_error');
      case '429': return error(429, 'temporarily_unavailable');
      case '503': return error(503, 'temporarily_unavailable');
      case 'html':
        res.writeHead(fault.status || 200, { 'content-type': 'text/html;charset=utf-8', ...retry });
        return res.end('<!DOCTYPE html>\n<html><head><title>Sign in to the corporate proxy</title>'
          + '</head><body><h1>Proxy authentication required</h1><form method="post">'
          + '<input name="user"></form></body></html>\n');
      case 'garbage':
        res.writeHead(fault.status || 200, json);
        return res.end(Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x61, 0x89, 0x0a, 0x5d, 0x7d,
          0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xc3, 0x28, 0x00, 0x22, 0x3a]));
      case 'truncated': return serveTruncated(res, fault, json);
      case 'huge': return serveHuge(res, fault, json);
      case 'redirect':
        res.writeHead(fault.status || 307, {
          location: fault.location || `${origin}/__test/redirected`,
          'content-type': 'text/plain',
        });
        return res.end('moved\n');
      case 'hang':
        this.#hung.add(res);
        res.on('close', () => this.#hung.delete(res));
        return undefined;
      default:
        throw new Error(`unknown fault mode ${fault.mode}`);
    }
  }
}

function serveTruncated(res, fault, headers) {
  const doc = JSON.stringify({
    access_token: 'truncated-access-token-that-must-never-be-used',
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: 'truncated-refresh-token-that-must-never-be-used',
    scope: 'openid offline_access',
  });
  const half = Buffer.from(doc.slice(0, Math.floor(doc.length / 2)));
  res.writeHead(fault.status || 200, { ...headers, 'content-length': String(Buffer.byteLength(doc)) });
  res.write(half, () => {
    // Close the connection with the body half sent: the client sees a short read.
    setTimeout(() => res.socket?.destroy(), 50);
  });
}

function serveHuge(res, fault, headers) {
  res.writeHead(fault.status || 200, headers);
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let sent = 0;
  let closed = false;
  res.on('close', () => { closed = true; });
  const pump = () => {
    if (sent === 0) {
      res.write('{"access_token":"');
      sent += 17;
    }
    while (!closed && sent < HUGE_BYTES) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end('","token_type":"Bearer","expires_in":3600}');
  };
  pump();
}
