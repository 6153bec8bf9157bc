// Run one e2e test file for CTest: `node run.mjs FILE` runs `node --test FILE`, or exits 77 (CTest
// SKIP_RETURN_CODE) with the reason when something the tests need is missing: node 18 or newer,
// the npm packages (`npm ci --prefix tests/e2e`), the `openssl` command. Written for node 14 and
// up, so that an old node gets the skip message rather than a syntax error.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2];

function skip(reason) {
  process.stdout.write(`SKIPPED: ${reason}\n`);
  process.exit(77);
}

if (!file) {
  process.stderr.write('usage: node run.mjs TEST_FILE\n');
  process.exit(2);
}
const major = Number(process.versions.node.split('.')[0]);
if (major < 18) skip(`node ${process.versions.node} is too old for the e2e tests (node:test needs 18 or newer)`);

const pkg = path.join(here, 'node_modules', 'oidc-provider', 'package.json');
if (!fs.existsSync(pkg)) {
  skip(`the e2e test packages are not installed: run \`npm ci --prefix tests/e2e\` in the source tree (looked for ${pkg})`);
}
const wanted = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies['oidc-provider'];
const installed = JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
if (installed !== wanted) {
  skip(`tests/e2e/node_modules has oidc-provider ${installed}, the tests pin ${wanted}: run \`npm ci --prefix tests/e2e\``);
}
if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) {
  skip('the `openssl` command is not installed (the tests make their CA with it)');
}

const result = spawnSync(process.execPath, ['--test', path.resolve(file)], { stdio: 'inherit', cwd: here });
if (result.error) {
  process.stderr.write(`run.mjs: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
