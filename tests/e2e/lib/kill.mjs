// Kill tokenctl at random moments, for the crash loops (crash.test.mjs, keyring.test.mjs).

import { spawn } from 'node:child_process';

import { trackRun } from './recorder.mjs';

// Run tokenctl with `args` and SIGKILL it (or its whole process group) `delayMs` after the start
// (at once when negative);
// resolves when every process holding its output pipes has ended (so a refresh that outlives the
// killed command has finished too).
export function runAndKill(args, env, delayMs, { group = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.TOKENCTL_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    const out = { stdout: '', stderr: '' };
    const run = trackRun(process.env.TOKENCTL_BIN, args, env, child, out);  // for the secrets scan
    child.stdout.on('data', (c) => { out.stdout += c; });
    child.stderr.on('data', (c) => { out.stderr += c; });
    const kill = () => {
      try {
        if (group) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* already gone */ }
    };
    // A negative delay kills at once, as the process has just started.
    const timer = delayMs < 0 ? kill() : setTimeout(kill, delayMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      run.flush(false, { code, signal });
      resolve({ code, signal, stderr: out.stderr });
    });
  });
}

// A kill delay: one in six at once (as tokenctl starts, before it has read anything), one in four over the
// first tenth of an unkilled run (start-up: reading the config and the cache), the rest uniform
// over [0, 1.2 x the median of the recent unkilled runs].
export class KillClock {
  constructor() { this.samples = []; }
  add(ms) { this.samples.push(ms); if (this.samples.length > 21) this.samples.shift(); }
  next() {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const band = Math.random();
    if (band < 1 / 6) return -1;
    return Math.random() * median * (band < 5 / 12 ? 0.1 : 1.2);
  }
}
