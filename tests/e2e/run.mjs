// Run one e2e test file for CTest: `node run.mjs FILE` runs `node --test FILE`, or exits 77 (CTest
// SKIP_RETURN_CODE) with the reason when something the tests need is missing: node 18 or newer,
// the npm packages (`npm ci --prefix tests/e2e`), the `openssl` command. Written for node 14 and
// up, so that an old node gets the skip message rather than a syntax error.
//
// A file whose tests node:test skips, every one of them (`describe(..., { skip: reason })` when
// glewlwyd or Chromium is missing), also exits 77, with node's skip reasons: `node --test` exits
// 0 then, and CTest would say "Passed" for a file that tested nothing. A file with some tests
// skipped and others passed stays a pass. To see that, node also writes a TAP report to a
// temporary file (node 18.15 and newer; on an older node a file of skips is still a pass); the
// report on standard output is node's default one (spec on a terminal, TAP otherwise).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
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

// Return the skip reasons when a TAP report says that every test was skipped: nothing passed,
// failed, was cancelled or is todo, and at least one test or suite is marked SKIP. Else null.
function allSkipped(tap) {
  const summary = {};
  for (const [, name, count] of tap.matchAll(/^# (tests|suites|pass|fail|cancelled|skip|skipped|todo) (\d+)$/gm)) {
    summary[name] = Number(count);
  }
  if (summary.tests === undefined || summary.pass === undefined) return null;
  if (summary.pass + (summary.fail || 0) + (summary.cancelled || 0) + (summary.todo || 0) > 0) return null;
  const reasons = [];
  let skips = 0;
  for (const [, reason] of tap.matchAll(/^ *ok \d+ - .*?(?<!\\) # SKIP\b *(.*)$/gim)) {
    skips += 1;
    const text = reason.trim() || '(no reason given)';
    if (!reasons.includes(text)) reasons.push(text);
  }
  return skips > 0 ? reasons : null;
}

const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number);
const reporters = nodeMajor > 19 || (nodeMajor === 19 && nodeMinor >= 6) || (nodeMajor === 18 && nodeMinor >= 15);
const tapDir = reporters ? fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-e2e-report-')) : null;
const tapFile = tapDir ? path.join(tapDir, 'report.tap') : null;
const args = tapFile
  ? ['--test', `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, path.resolve(file)]
  : ['--test', path.resolve(file)];
let status;
try {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: here });
  if (result.error) process.stderr.write(`run.mjs: ${result.error.message}\n`);
  status = result.error || result.status === null ? 1 : result.status;
  if (status === 0 && tapFile && fs.existsSync(tapFile)) {
    const reasons = allSkipped(fs.readFileSync(tapFile, 'utf8'));
    if (reasons) {
      process.stdout.write(`SKIPPED: node:test skipped every test of ${path.basename(file)}: ${reasons.join('; ')}\n`);
      status = 77;
    }
  }
} finally {
  if (tapDir) fs.rmSync(tapDir, { recursive: true, force: true });
}
process.exit(status);
