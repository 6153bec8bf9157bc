# Sourced by bench/token-latency.sh and scripts/hot-order.sh (needs node).
# A config and a cache with N profiles; tokens shaped like real ones (JWT access and id tokens).
make_fixture() { # DIR N
  node - "$1" "$2" <<'JS'
const fs = require('fs'); const path = require('path');
const [dir, n] = [process.argv[2], Number(process.argv[3])];
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (i, kind) => `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ iss: 'https://login.example.com/realms/corp',
  sub: `user-${i}`, aud: 'tokenctl', kind, scope: 'openid offline_access api', iat: 1795000000,
  exp: 4102444800, jti: `${kind}-${i}-`.padEnd(40, 'x') })}.${'s'.repeat(342)}`;
const tokens = {}; let toml = 'default_profile = "p0"\n';
for (let i = 0; i < n; i += 1) {
  toml += `\n[profiles.p${i}]\nhost = "https://login.example.com/realms/corp"\nclient_id = "tokenctl"\n`
    + 'scopes = ["openid", "offline_access", "api"]\n';
  tokens[`p${i}`] = { access_token: jwt(i, 'at'), token_type: 'Bearer', expiry: '2100-01-01T00:00:00Z',
    issued_at: '2026-01-01T00:00:00Z', refresh_token: `rt-${i}-`.padEnd(43, 'r'), id_token: jwt(i, 'id'),
    scopes: ['openid', 'offline_access', 'api'], client_id: 'tokenctl',
    endpoints: { issuer: 'https://login.example.com/realms/corp',
      authorization_endpoint: 'https://login.example.com/realms/corp/auth',
      token_endpoint: 'https://login.example.com/realms/corp/token' } };
}
fs.mkdirSync(path.join(dir, 'tokenctl'), { recursive: true, mode: 0o700 });
fs.writeFileSync(path.join(dir, 'tokenctl', 'config.toml'), toml);
fs.writeFileSync(path.join(dir, 'tokenctl', 'token-cache.json'), JSON.stringify({ version: 1, tokens }, null, 2), { mode: 0o600 });
JS
}
