#!/usr/bin/env node
// The Databricks SDK for JavaScript (@databricks/sdk-experimental, pinned in package.json beside
// this file) asks "who am I" with auth_type = databricks-cli: it runs the program named by
// --cli-path as `databricks version` and `databricks auth token --profile NAME` (or
// `--host URL`), then calls GET {host}/api/2.0/preview/scim/v2/Me with that token. For
// databricks.test.mjs, which points it at tokenctl.
//
// Usage:
//   node me.mjs --host URL --cli-path PATH [--profile NAME] [--config-file FILE] [--calls N]
// Prints the userName of each of N (default 1) currentUser.me() calls made by one client, one a
// line; on failure the SDK's error message on stderr and exit 1. The token itself is never
// printed.
//
// TLS: the SDK verifies certificates only when skipVerify is false (left unset, it verifies
// nothing: tests/e2e/clients/README.md), against node's trust store: the test CA must be in
// NODE_EXTRA_CA_CERTS in this process's environment when node starts.
import { parseArgs } from 'node:util';

import sdk from '@databricks/sdk-experimental';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    'cli-path': { type: 'string' },
    profile: { type: 'string' },
    'config-file': { type: 'string' },
    calls: { type: 'string', default: '1' },
  },
});

try {
  const client = new sdk.WorkspaceClient({
    host: values.host,
    profile: values.profile,
    configFile: values['config-file'],
    authType: 'databricks-cli',
    databricksCliPath: values['cli-path'],
    skipVerify: false,
  });
  for (let i = 0; i < Number(values.calls); i += 1) {
    const me = await client.currentUser.me();
    process.stdout.write(`${me.userName}\n`);
  }
} catch (err) {
  process.stderr.write(`me.mjs: ${err?.message ?? err}\n`);
  process.exit(1);
}
