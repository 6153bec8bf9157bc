#!/usr/bin/env node
// Run the e2e authorization server as a program (the harness starts it this way; you can too, to
// try tokenctl by hand). Prints one line `READY {json}` on stdout once listening, with the
// issuer, port, CA file and client secrets; stops cleanly on SIGTERM or SIGINT.
//
//   node lib/server-main.mjs [--no-tls] [--issuer-path /realms/corp] [--port N]
//        [--hostname 127.0.0.1|localhost] [--access-token-ttl S] [--client-credentials-ttl S]
//        [--refresh-token-ttl S] [--device-code-ttl S] [--rotate-refresh-token true|false|default]
//        [--ci-secret S] [--confidential-secret S] [--id-token-ttl S] [--stop-on-stdin-eof]
//        [--shape merchant|marketing] [--no-discovery] [--refresh-expires-in FIELD]
//        [--databricks] [--token-exchange] [--ci] [--resources] [--config-json JSON | @FILE]
// --config-json: the options of lib/server.mjs as one JSON object (or @FILE holding it), merged
// over the flags; the harness passes the object options (databricks, tokenExchange, ci,
// extraClients, resources, ...) this way. The options are described at the top of lib/server.mjs.
// --stop-on-stdin-eof: stop when standard input reaches its end, so that a server started by a
// test process that dies (and with it the pipe's other end) does not outlive it.

import * as fs from 'node:fs';

import { startTestServer } from './server.mjs';

const NUMBERS = {
  '--port': 'port', '--access-token-ttl': 'accessTokenTTL',
  '--client-credentials-ttl': 'clientCredentialsTTL', '--refresh-token-ttl': 'refreshTokenTTL',
  '--device-code-ttl': 'deviceCodeTTL', '--id-token-ttl': 'idTokenTTL',
};
const STRINGS = {
  '--issuer-path': 'issuerPath', '--hostname': 'hostname', '--ci-secret': 'ciSecret',
  '--confidential-secret': 'confidentialSecret', '--shape': 'shape',
  '--refresh-expires-in': 'refreshExpiresIn',
};
const SWITCHES = {
  '--no-discovery': ['discovery', false], '--databricks': ['databricks', true],
  '--token-exchange': ['tokenExchange', true], '--ci': ['ci', true], '--resources': ['resources', true],
};

function parseJsonOption(value) {
  const text = value.startsWith('@') ? fs.readFileSync(value.slice(1), 'utf8') : value;
  const parsed = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('--config-json must be a JSON object');
  return parsed;
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--no-tls') options.tls = false;
    else if (arg === '--stop-on-stdin-eof') options.stopOnStdinEof = true;
    else if (arg === '--tls') options.tls = true;
    else if (arg in SWITCHES) options[SWITCHES[arg][0]] = SWITCHES[arg][1];
    else if (arg === '--config-json' && value !== undefined) {
      Object.assign(options, parseJsonOption(value));
      i += 1;
    }
    else if (arg in NUMBERS && value !== undefined && /^\d+$/.test(value)) {
      options[NUMBERS[arg]] = Number(value);
      i += 1;
    } else if (arg in STRINGS && value !== undefined) {
      options[STRINGS[arg]] = value;
      i += 1;
    } else if (arg === '--rotate-refresh-token' && ['true', 'false', 'default'].includes(value)) {
      options.rotateRefreshToken = value === 'default' ? 'default' : value === 'true';
      i += 1;
    } else {
      throw new Error(`bad argument: ${arg}${value !== undefined ? ` ${value}` : ''}`);
    }
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`server-main: ${err.message}`);
    process.exit(2);
  }
  const { stopOnStdinEof, ...serverOptions } = options;
  const server = await startTestServer(serverOptions);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (stopOnStdinEof) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(`READY ${JSON.stringify(server.info())}\n`);
}

main().catch((err) => {
  console.error(`server-main: ${err.stack || err}`);
  process.exit(1);
});
