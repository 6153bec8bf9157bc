// A throw-away certificate authority for the e2e test server.
//
// Why: tokenctl must verify the server's certificate, so the tests need a CA that tokenctl can be
// told about (profile key ca_file) and that the system does not trust (so that "no ca_file" fails
// verification). The CA and the server certificate are made with the `openssl` command at run
// time in a temporary folder; nothing is checked in and nothing outlives the server.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function openssl(args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const detail = err.stderr ? err.stderr.toString().trim() : err.message;
    throw new Error(`openssl ${args[0]} failed: ${detail}`);
  }
}

// Create ca.pem, server.pem and server-key.pem in `dir` (EC P-256, valid two days). The server
// certificate names IP:127.0.0.1 and DNS:localhost. Returns the three paths.
export function createTestPki(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2',
    '-subj', '/O=tokenctl e2e/CN=tokenctl e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr',
    '-subj', '/O=tokenctl e2e/CN=localhost'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem',
    '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  return {
    caPath: path.join(dir, 'ca.pem'),
    certPath: path.join(dir, 'server.pem'),
    keyPath: path.join(dir, 'server-key.pem'),
  };
}
