// Which profile, and why (the man page "Choosing the profile: tokenctl status [--check], tokenctl use
// NAME"), against the real oidc-provider (with the Databricks issuers for SCIM /Me):
// - resolution, every step: -p beats TOKENCTL_PROFILE beats the nearest .tokenctl-profile (a
//   project tree inside HOME, tokenctl run from a subfolder) beats default_profile beats
//   "default"; `status` says which and why (text, and `-o json` `source`: flag, environment,
//   file, config, default), and `token` follows the same choice;
// - an unsafe .tokenctl-profile (group or world writable, another user's, not one name) is
//   ignored with a warning on stderr and the choice falls through to default_profile; one above
//   the home folder is not read when the working folder is inside it;
// - `use NAME`: default_profile set with every other byte of the config kept (comments, spacing,
//   CRLF), mode kept, nothing written when nothing changes; an unknown NAME is exit 5 and the
//   file untouched;
// - `status [--check]`: the JSON fields one by one; exit 0 / 3 from the files alone; --check asks
//   userinfo (Databricks workspaces: SCIM /Me): 0 accepted, 3 refused (revoked at the server),
//   4 unreachable (a hung userinfo within the 5 s limit; a stopped server); never a token printed.
// HOME is a folder inside the test's temporary folder here, so that "above the home folder"
// exists and belongs to the test.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  cachePath, freshEnv, profileToml, readCache, runTokenctl, startServer, writeConfig,
} from './lib/harness.mjs';
import { registerHome } from './lib/recorder.mjs';
import {
  assertNoneIn, expireNow, issuedTokens, login, patchCache, printedLine, revokeAtServer,
} from './lib/tokens.mjs';

const PROFILE_FILE = '.tokenctl-profile';
const AS_ROOT = process.getuid() === 0;
const STATUS_FIELDS = ['check', 'expiry', 'grant', 'host', 'profile', 'source', 'status', 'storage', 'user'];

// A fresh environment whose HOME (and XDG_CONFIG_HOME in it) is `TOP/user`, TOP being freshEnv's
// temporary folder, with a project tree HOME/work/proj/src/deep. The inner home is registered
// with the secrets recorder too, so that its token cache is known as such.
function nestedEnv(server, extra = {}) {
  const env = freshEnv(server, extra);
  const top = env.HOME;
  env.HOME = path.join(top, 'user');
  env.XDG_CONFIG_HOME = path.join(env.HOME, '.config');
  const deep = path.join(env.HOME, 'work', 'proj', 'src', 'deep');
  fs.mkdirSync(deep, { recursive: true });
  registerHome(env.HOME, env);
  return { env, top, deep };
}

// Write a .tokenctl-profile naming `name` in `folder`, 0644 (as a user's editor would).
function profileFile(folder, name, mode = 0o644) {
  const file = path.join(folder, PROFILE_FILE);
  fs.writeFileSync(file, `${name}\n`);
  fs.chmodSync(file, mode);
  return file;
}

// Parse `status -o json` output, checking it has exactly the contract's fields.
function statusJson(r) {
  assert.match(r.stdout, /^\{\n[\s\S]*\}\n$/, `one JSON object:\n${r.stdout}\n${r.stderr}`);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), STATUS_FIELDS);
  return j;
}

// The first line of `status` text output: "profile:        NAME (WHY)".
function statusProfileLine(r) {
  return r.stdout.split('\n')[0];
}

describe('which profile, and why', () => {
  let server;
  before(async () => { server = await startServer({ databricks: true }); });
  after(() => server?.stop());

  // Profiles flagp, envp, filep, cfg, default; default_profile = "cfg" unless `withDefault` is false.
  function ladderConfig(env, { withDefault = true } = {}) {
    const names = ['flagp', 'envp', 'filep', 'cfg', 'default'];
    const text = (withDefault ? 'default_profile = "cfg"\n\n' : '') + names.map((name) => profileToml(server, { name })).join('\n');
    return writeConfig(env, text);
  }

  test('every step: -p, TOKENCTL_PROFILE, the nearest .tokenctl-profile, default_profile, "default"; status says which and why', async () => {
    const { env, deep } = nestedEnv(server);
    ladderConfig(env);
    const proj = path.join(env.HOME, 'work', 'proj');
    const work = path.join(env.HOME, 'work');
    const projFile = profileFile(proj, 'filep');
    const workFile = profileFile(work, 'envp');
    const withEnv = { ...env, TOKENCTL_PROFILE: 'envp' };

    // One step: `status -o json` and `status` (text) from `cwd`, with `runEnv`.
    const step = async (args, runEnv, want, why) => {
      const j = statusJson(await runTokenctl(['status', '-o', 'json', ...args], { env: runEnv, cwd: deep }));
      assert.equal(j.profile, want.profile, `${why}: profile`);
      assert.equal(j.source, want.source, `${why}: source`);
      const text = await runTokenctl(['status', ...args], { env: runEnv, cwd: deep });
      assert.equal(text.code, 3, 'logged out');
      assert.equal(statusProfileLine(text), `profile:        ${want.profile} (${want.why})`, why);
      assert.equal(text.stderr, `tokenctl: error: profile "${want.profile}" is logged-out\n`
        + `tokenctl: hint: run: tokenctl login -p ${want.profile}\n`, `${why}: only the reason on stderr`);
    };

    await step(['-p', 'flagp'], withEnv, { profile: 'flagp', source: 'flag', why: 'named by -p' }, '-p beats all');
    // -p before the command name, too.
    const early = statusJson(await runTokenctl(['-p', 'flagp', 'status', '-o', 'json'], { env: withEnv, cwd: deep }));
    assert.deepEqual([early.profile, early.source], ['flagp', 'flag']);
    await step([], withEnv, { profile: 'envp', source: 'environment', why: 'named by TOKENCTL_PROFILE' }, 'TOKENCTL_PROFILE beats the file');
    await step([], env, { profile: 'filep', source: 'file', why: `named by ${projFile}` }, 'the nearest file beats default_profile');
    fs.rmSync(projFile);
    await step([], env, { profile: 'envp', source: 'file', why: `named by ${workFile}` }, 'the next file up');
    fs.rmSync(workFile);
    const homeFile = profileFile(env.HOME, 'flagp');
    await step([], env, { profile: 'flagp', source: 'file', why: `named by ${homeFile}` }, 'the home folder\'s own file is read');
    fs.rmSync(homeFile);
    await step([], env, { profile: 'cfg', source: 'config', why: 'default_profile in the config' }, 'default_profile');
    ladderConfig(env, { withDefault: false });
    await step([], env, { profile: 'default', source: 'default', why: 'no profile named: "default"' }, '"default" last');
    // Outside the project the file is not read (it is looked for upwards only).
    profileFile(proj, 'filep');
    const outside = statusJson(await runTokenctl(['status', '-o', 'json'], { env, cwd: env.HOME }));
    assert.deepEqual([outside.profile, outside.source], ['default', 'default']);
  });

  test('token follows the same choice: the file\'s profile in the project, default_profile elsewhere, -p and TOKENCTL_PROFILE over both', async () => {
    const { env, deep } = nestedEnv(server);
    ladderConfig(env);
    profileFile(path.join(env.HOME, 'work', 'proj'), 'filep');
    const filep = await login(env, 'filep');
    const cfg = await login(env, 'cfg');
    assert.notEqual(filep.access_token, cfg.access_token);
    const inProject = await runTokenctl(['token'], { env, cwd: deep });
    assert.equal(printedLine(inProject), filep.access_token);
    assert.equal(inProject.stderr, '');
    assert.equal(printedLine(await runTokenctl(['token'], { env, cwd: env.HOME })), cfg.access_token);
    assert.equal(printedLine(await runTokenctl(['token'], { env: { ...env, TOKENCTL_PROFILE: 'cfg' }, cwd: deep })), cfg.access_token);
    assert.equal(printedLine(await runTokenctl(['token', '-p', 'cfg'], { env, cwd: deep })), cfg.access_token);
    // A profile file naming a profile the config does not have: exit 5, named.
    profileFile(path.join(env.HOME, 'work', 'proj'), 'gone');
    const r = await runTokenctl(['token'], { env, cwd: deep });
    assert.equal(r.code, 5);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^tokenctl: error: no profile "gone" in /);
  });

  describe('an unsafe .tokenctl-profile is ignored with a warning; the choice falls through to default_profile', () => {
    async function expectIgnored(env, deep, file, reason) {
      const cfg = readCache(env).tokens.cfg.access_token;
      const warning = `tokenctl: warning: ignored ${file}: ${reason}\n`;
      const s = await runTokenctl(['status', '-o', 'json'], { env, cwd: deep });
      const j = statusJson(s);
      assert.deepEqual([j.profile, j.source], ['cfg', 'config'], `${reason}: default_profile, not the file (nor one further up)`);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stderr, warning, `${reason}: the warning on stderr, alone`);
      const t = await runTokenctl(['token'], { env, cwd: deep });
      assert.equal(printedLine(t), cfg, `${reason}: token prints default_profile's token`);
      assert.equal(t.stderr, warning);
      // With -p or TOKENCTL_PROFILE the file is not even looked at: no warning.
      for (const runEnv of [env, { ...env, TOKENCTL_PROFILE: 'cfg' }]) {
        const args = runEnv === env ? ['token', '-p', 'cfg'] : ['token'];
        const quiet = await runTokenctl(args, { env: runEnv, cwd: deep });
        assert.equal(printedLine(quiet), cfg);
        assert.equal(quiet.stderr, '', `${reason}: no warning when the profile is named`);
      }
    }

    async function setUp() {
      const { env, deep } = nestedEnv(server);
      ladderConfig(env);
      await login(env, 'cfg');
      // A safe file further up, naming another profile: an unsafe nearer one must not fall back to it.
      profileFile(path.join(env.HOME, 'work'), 'envp');
      return { env, deep, proj: path.join(env.HOME, 'work', 'proj') };
    }

    test('writable by group or others (0666, 0620), or not one profile name', async () => {
      const { env, deep, proj } = await setUp();
      for (const mode of [0o666, 0o620]) {
        const file = profileFile(proj, 'filep', mode);
        await expectIgnored(env, deep, file, `writable by group or others (mode 0${mode.toString(8)})`);
      }
      const file = profileFile(proj, 'filep envp');
      await expectIgnored(env, deep, file, 'it does not hold one profile name');
      fs.writeFileSync(file, 'filep\n');
      const ok = statusJson(await runTokenctl(['status', '-o', 'json'], { env, cwd: deep }));
      assert.deepEqual([ok.profile, ok.source], ['filep', 'file'], 'control: the same file, 0644 and one name, is read');
    });

    test('owned by another user (nobody)', { skip: !AS_ROOT && 'needs root to give the file to nobody' }, async () => {
      const { env, deep, proj } = await setUp();
      const file = profileFile(proj, 'filep');
      fs.chownSync(file, 65534, 65534);
      await expectIgnored(env, deep, file, 'owned by uid 65534, not by you');
    });
  });

  test('a .tokenctl-profile above the home folder is not read from inside it, but is from a folder outside', async () => {
    const { env, top, deep } = nestedEnv(server);
    ladderConfig(env);
    const above = profileFile(top, 'filep');
    for (const cwd of [deep, env.HOME]) {
      const r = await runTokenctl(['status', '-o', 'json'], { env, cwd });
      const j = statusJson(r);
      assert.deepEqual([j.profile, j.source], ['cfg', 'config'], `from ${cwd}: not past the home folder`);
      assert.equal(r.stderr.includes(PROFILE_FILE), false, 'not even looked at');
    }
    // Unsafe above the home folder: not read, so no warning either.
    fs.chmodSync(above, 0o666);
    const quiet = await runTokenctl(['status'], { env, cwd: deep });
    assert.equal(quiet.stderr.includes('warning'), false, quiet.stderr);
    fs.chmodSync(above, 0o644);
    // A working folder outside the home folder: the search goes up to the root and finds it.
    const elsewhere = path.join(top, 'elsewhere', 'x');
    fs.mkdirSync(elsewhere, { recursive: true });
    const r = await runTokenctl(['status'], { env, cwd: elsewhere });
    assert.equal(statusProfileLine(r), `profile:        filep (named by ${above})`);
  });

  describe('tokenctl use NAME', () => {
    const tempsOf = (file) => fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(`.${path.basename(file)}.tmp-`));

    test('adds default_profile before the first table, every other byte kept; then only that line changes', async () => {
      const { env, deep } = nestedEnv(server);
      const before = '# tokenctl config, kept by hand\n'
        + '#   (comments, blank lines and odd spacing must survive)\n\n'
        + '   # an indented comment   \n\n'
        + '# the team\'s server\n'
        + '[profiles.a]\n'
        + `host   =   "${server.issuer}"   # spaced\n`
        + 'client_id = \'tokenctl\'\n'
        + 'scopes = [ "openid",\n           "offline_access" ]\n'
        + `ca_file = ${JSON.stringify(server.ca)}\n\n`
        + '[profiles.b]   # the other one\n'
        + `host = "${server.issuer}"\n`
        + `ca_file = ${JSON.stringify(server.ca)}\n`
        + '# trailing comment, no newline at the end';
      const file = writeConfig(env, before);
      const r = await runTokenctl(['use', 'b'], { env, cwd: deep });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `The default profile is now "b" (${file}).\n`);
      const after = fs.readFileSync(file, 'utf8');
      const lines = after.split('\n');
      const at = lines.indexOf('default_profile = "b"');
      assert.ok(at >= 0, `a default_profile line:\n${after}`);
      assert.ok(at < lines.findIndex((l) => l.startsWith('[')), 'before the first table');
      assert.equal(after.replace(/^default_profile = "b"\n\n?/m, ''), before, 'nothing else changed');
      assert.equal(fs.statSync(file).mode & 0o777, 0o644, 'the mode is kept');
      assert.deepEqual(tempsOf(file), []);
      const j = statusJson(await runTokenctl(['status', '-o', 'json'], { env, cwd: deep }));
      assert.deepEqual([j.profile, j.source], ['b', 'config']);

      // Now there is one: `use a` changes its value and nothing else.
      const second = await runTokenctl(['use', 'a'], { env, cwd: deep });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(fs.readFileSync(file, 'utf8'), after.replace('default_profile = "b"', 'default_profile = "a"'));
    });

    test('an existing default_profile keeps its spacing and comment; CRLF files stay CRLF; the same name writes nothing', async () => {
      const { env, deep } = nestedEnv(server);
      const lf = 'default_profile   =   "a"   # the usual one\n\n' + profileToml(server, { name: 'a' }) + profileToml(server, { name: 'b' });
      const file = writeConfig(env, lf);
      assert.equal((await runTokenctl(['use', 'b'], { env, cwd: deep })).code, 0);
      assert.equal(fs.readFileSync(file, 'utf8'), lf.replace('"a"   # the usual one', '"b"   # the usual one'));

      const st = fs.statSync(file, { bigint: true });
      const same = await runTokenctl(['use', 'b'], { env, cwd: deep });
      assert.equal(same.code, 0, same.stderr);
      const st2 = fs.statSync(file, { bigint: true });
      assert.deepEqual([st2.ino, st2.mtimeNs], [st.ino, st.mtimeNs], 'already the default: the file is not rewritten');

      const crlf = ('# windows editor\n' + profileToml(server, { name: 'a' }) + profileToml(server, { name: 'b' })).replace(/\n/g, '\r\n');
      writeConfig(env, crlf);
      assert.equal((await runTokenctl(['use', 'a'], { env, cwd: deep })).code, 0);
      const got = fs.readFileSync(file, 'utf8');
      assert.equal(got.replace(/^default_profile = "a"\r\n(\r\n)?/m, ''), crlf, 'one line added, the rest as it was');
      assert.equal(/[^\r]\n/.test(got), false, `every line ends in CRLF:\n${JSON.stringify(got)}`);
    });

    test('an unknown NAME is exit 5 and the file is untouched; a name in effect elsewhere is said so', async () => {
      const { env, deep } = nestedEnv(server);
      const text = '# mine\ndefault_profile = "a"\n' + profileToml(server, { name: 'a' }) + profileToml(server, { name: 'b' });
      const file = writeConfig(env, text);
      const st = fs.statSync(file, { bigint: true });
      const r = await runTokenctl(['use', 'nope'], { env, cwd: deep });
      assert.equal(r.code, 5);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `tokenctl: error: no profile "nope" in ${file}\ntokenctl: hint: create it with: tokenctl login -p nope --host URL\n`);
      const st2 = fs.statSync(file, { bigint: true });
      assert.equal(fs.readFileSync(file, 'utf8'), text);
      assert.deepEqual([st2.ino, st2.mtimeNs], [st.ino, st.mtimeNs]);
      assert.deepEqual(tempsOf(file), []);
      const missing = await runTokenctl(['use'], { env, cwd: deep });
      assert.equal(missing.code, 2, 'NAME is required');
      assert.equal(missing.stdout, '');

      // `use b` where a .tokenctl-profile or TOKENCTL_PROFILE names another: done, and said so.
      const projFile = profileFile(path.join(env.HOME, 'work', 'proj'), 'a');
      const here = await runTokenctl(['use', 'b'], { env, cwd: deep });
      assert.equal(here.code, 0);
      assert.equal(here.stderr, `The default profile is now "b" (${file}).\n`
        + `tokenctl: warning: here, profile "a" stays in effect: ${projFile} names it\n`);
      const byEnv = await runTokenctl(['use', 'a'], { env: { ...env, TOKENCTL_PROFILE: 'b' }, cwd: env.HOME });
      assert.match(byEnv.stderr, /tokenctl: warning: here, profile "b" stays in effect: TOKENCTL_PROFILE names it\n$/);
      assert.match(fs.readFileSync(file, 'utf8'), /^default_profile = "a"$/m);
    });
  });

  describe('tokenctl status [--check]', () => {
    // Run tokenctl; whatever status printed holds none of the tokens in the cache (nor the ones the
    // server has issued since the last reset).
    const run = async (args, options) => {
      const r = await runTokenctl(args, options);
      const held = [];
      if (fs.existsSync(cachePath(options.env))) {
        for (const set of Object.values(readCache(options.env).tokens)) held.push(set.access_token, set.refresh_token, set.id_token);
      }
      const issued = await issuedTokens(server);
      assertNoneIn([...held, ...issued], [r.stdout, r.stderr], `a token in the output of ${args.join(' ')}`);
      return r;
    };

    test('from the files alone: exit 0 for valid and refreshable, 3 for expired and logged-out; the JSON fields one by one; no request', async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server) + profileToml(server, { name: 'other' }));
      const set = await login(env);
      await server.reset();
      let r = await run(['status', '-p', 'dev', '-o', 'json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(statusJson(r), {
        profile: 'dev', source: 'flag', host: server.issuer, grant: 'authorization_code', storage: 'file',
        status: 'valid', expiry: set.expiry, user: 'alice (Alice Example)', check: null,
      });
      r = await run(['status', '-p', 'dev'], { env });
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^profile: +dev \\(named by -p\\)\nhost: +${server.issuer.replace(/\./g, '\\.')}\n`
        + 'grant: +authorization_code\nstorage: +file\nstatus: +valid \\((59m \\d+s|1h)\\)\n'
        + 'user: +alice \\(Alice Example\\) \\(from the id token, not verified\\)\n$'));

      expireNow(env);
      r = await run(['status', '-p', 'dev', '-o', 'json'], { env });
      assert.equal(r.code, 0, 'refreshable is usable');
      assert.equal(statusJson(r).status, 'refreshable');

      patchCache(env, (c) => { delete c.tokens.dev.refresh_token; });
      r = await run(['status', '-p', 'dev', '-o', 'json'], { env });
      assert.equal(r.code, 3);
      assert.equal(statusJson(r).status, 'expired');
      assert.equal(r.stderr, 'tokenctl: error: profile "dev" is expired\ntokenctl: hint: run: tokenctl login -p dev\n');

      r = await run(['status', '-p', 'other', '-o', 'json'], { env });
      assert.equal(r.code, 3);
      assert.deepEqual(statusJson(r), {
        profile: 'other', source: 'flag', host: server.issuer, grant: 'authorization_code', storage: 'file',
        status: 'logged-out', expiry: null, user: null, check: null,
      });
      assert.equal(r.stderr, 'tokenctl: error: profile "other" is logged-out\ntokenctl: hint: run: tokenctl login -p other\n');
      assert.deepEqual(await server.requests(), [], 'status without --check reads the files only');
    });

    test('--check: accepted by userinfo (exit 0, the user as the server says); a refreshable token is refreshed first', async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server));
      const set = await login(env);
      await server.reset();
      let r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(statusJson(r), {
        profile: 'dev', source: 'flag', host: server.issuer, grant: 'authorization_code', storage: 'file',
        status: 'valid', expiry: set.expiry, user: 'alice (Alice Example)',
        check: { result: 'accepted', endpoint: server.endpoints.userinfo_endpoint, http_status: 200 },
      });
      const asked = await server.requests();
      assert.deepEqual(asked.map((q) => [q.endpoint, q.method, q.status]), [['userinfo', 'GET', 200]]);
      r = await run(['status', '-p', 'dev', '--check'], { env });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /\nuser: +alice \(Alice Example\) \(as the server says\)\n/);
      assert.match(r.stdout, new RegExp(`\ncheck: +accepted by ${server.endpoints.userinfo_endpoint.replace(/\./g, '\\.')}\n$`));

      const old = expireNow(env);
      await server.reset();
      r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env });
      assert.equal(r.code, 0, r.stderr);
      const j = statusJson(r);
      assert.equal(j.status, 'valid', 'refreshed first');
      assert.equal(j.check.result, 'accepted');
      assert.deepEqual((await server.requests()).map((q) => q.endpoint), ['token', 'userinfo']);
      assert.notEqual(readCache(env).tokens.dev.access_token, old.access_token);
      assert.equal(j.expiry, readCache(env).tokens.dev.expiry);
    });

    test('--check with a grant the server revoked: exit 3 and the login to run; without --check still 0 (files alone)', async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server));
      const set = await login(env);
      await revokeAtServer(server, set.refresh_token);
      let r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env });
      assert.equal(r.code, 3);
      const j = statusJson(r);
      assert.deepEqual(j.check, { result: 'rejected', endpoint: server.endpoints.userinfo_endpoint, http_status: 401 });
      assert.equal(j.status, 'valid', 'the files still say valid');
      assert.equal(r.stderr, 'tokenctl: error: the server does not accept the token of profile "dev"\n'
        + 'tokenctl: hint: run: tokenctl login -p dev\n');
      r = await run(['status', '-p', 'dev', '--check'], { env });
      assert.equal(r.code, 3);
      assert.match(r.stdout, /\ncheck: +rejected by \S+: the server does not accept the token \(HTTP 401\)\n$/);
      r = await run(['status', '-p', 'dev'], { env });
      assert.equal(r.code, 0, 'without --check only the files are read');

      // Not logged in at all: --check asks no one.
      const out = freshEnv(server);
      writeConfig(out, profileToml(server));
      await server.reset();
      r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env: out });
      assert.equal(r.code, 3);
      assert.equal(statusJson(r).status, 'logged-out');
      assert.deepEqual(await server.requests(), []);
    });

    test('--check when userinfo hangs: exit 4 after the 5 s limit (within ~7 s), check.result unreachable', async () => {
      const env = freshEnv(server);
      writeConfig(env, profileToml(server));
      await login(env);
      await server.fault({ path: '/me', mode: 'hang', count: 1 });
      try {
        const r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env, timeoutMs: 15000 });
        assert.equal(r.code, 4, r.stderr);
        assert.ok(r.ms >= 4500 && r.ms < 7500, `ended after ${r.ms} ms`);
        const j = statusJson(r);
        assert.deepEqual(j.check, { result: 'unreachable', endpoint: server.endpoints.userinfo_endpoint, http_status: null });
        assert.equal(j.status, 'valid');
        assert.equal(r.stderr, 'tokenctl: error: cannot ask the server about the token of profile "dev": '
          + `timed out after 5s waiting for ${server.endpoints.userinfo_endpoint}\n`);
      } finally {
        await server.reset();
      }
    });

    test('--check with the server stopped: exit 4 at once; without --check 0', async () => {
      const down = await startServer();
      try {
        const env = freshEnv(down);
        writeConfig(env, profileToml(down));
        await login(env);
        await down.stop();
        let r = await run(['status', '-p', 'dev', '--check', '-o', 'json'], { env, timeoutMs: 15000 });
        assert.equal(r.code, 4, r.stderr);
        assert.ok(r.ms < 4000, `a refused connection ends it at once (${r.ms} ms)`);
        assert.deepEqual(statusJson(r).check, { result: 'unreachable', endpoint: down.endpoints.userinfo_endpoint, http_status: null });
        assert.match(r.stderr, /^tokenctl: error: cannot ask the server about the token of profile "dev": .+\n$/);
        r = await run(['status', '-p', 'dev'], { env });
        assert.equal(r.code, 0, r.stderr);
      } finally {
        await down.stop();
      }
    });

    test('a Databricks workspace profile asks SCIM /Me, and the user is its userName', async () => {
      const env = freshEnv(server);
      writeConfig(env, `[profiles.ws]\nhost = "${server.origin}"\nprovider = "databricks"\nredirect_port = 0\n`
        + `ca_file = ${JSON.stringify(server.ca)}\n`);
      const set = await login(env, 'ws');
      await server.reset();
      const r = await run(['status', '-p', 'ws', '--check', '-o', 'json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(statusJson(r), {
        profile: 'ws', source: 'flag', host: server.origin, grant: 'authorization_code', storage: 'file',
        status: 'valid', expiry: set.expiry, user: 'alice@example.test',
        check: { result: 'accepted', endpoint: `${server.origin}/api/2.0/preview/scim/v2/Me`, http_status: 200 },
      });
      const asked = await server.requests();
      assert.deepEqual(asked.map((q) => [q.endpoint, q.status]), [['scim_me', 200]], 'SCIM /Me, not userinfo');
    });
  });
});
