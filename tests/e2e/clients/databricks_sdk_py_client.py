#!/usr/bin/env python3
"""Do what databricks-sdk-py does with auth_type = "databricks-cli", and say what it concluded.

A stand-in for the Python SDK (Python 3.11 standard library only), written from the public source
of databricks/databricks-sdk-py (databricks/sdk/credentials_provider.py: DatabricksCliTokenSource,
CliTokenSource, databricks_cli; databricks/sdk/oauth.py: Token.expired; tests/test_credentials_provider.py
for the version-probe rules of the current release line). See README.md beside this file.

Usage:
  databricks_sdk_py_client.py [--cli-path PATH] [--host URL] [--account-id ID] [--profile NAME]
                              [--account-host]
The values default to DATABRICKS_CLI_PATH, DATABRICKS_HOST, DATABRICKS_ACCOUNT_ID and
DATABRICKS_CONFIG_PROFILE, as the SDK's Config reads them. --account-host makes the host count as
an account host even when it does not start with https://accounts. (the SDK never does that; it
exists so that tests on a loopback host can exercise `--account-id`).

Prints one JSON line on stdout and exits 0 when a token was obtained, 1 otherwise:
  {"ok": true, "access_token_len": N, "token_type": "Bearer", "expiry_raw": "...",
   "expiry_local_naive": "...", "expiry_utc": "...Z", "expiry_epoch_s": S, "valid": true,
   "argv": [...], "version_argv": [...], "cli_version": [M, m, p], "cli_path": "..."}
  {"ok": false, "error": "...", "not_applicable": false, "argv": [...] or null, ...}
"not_applicable" is true where the SDK would skip this auth type and try the next one (no CLI
found, a legacy CLI, or "databricks OAuth is not" in the failure). The access token itself is
never printed.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import urllib.parse
from datetime import datetime, timedelta, timezone
from typing import List, Optional


# --- databricks/sdk/config.py (host normalisation, account hosts) --------------------------------

def fix_host_if_needed(host: Optional[str]) -> Optional[str]:
    """databricks/sdk/_base_client.py _fix_host_if_needed, as Config applies it: add https:// when
    there is no scheme, drop a trailing slash (a path is kept) and a :443 port."""
    if not host:
        return host
    if "://" not in host:
        host = "https://" + host
    o = urllib.parse.urlparse(host)
    path = o.path.rstrip("/")
    netloc = o.netloc
    if o.port == 443:
        netloc = netloc.split(":")[0]
    return urllib.parse.urlunparse((o.scheme, netloc, path, o.params, o.query, o.fragment))


def is_account_host(host: Optional[str]) -> bool:
    """Config.client_type is ACCOUNT for classic account hosts (unified hosts are not modelled)."""
    return bool(host) and (host.startswith("https://accounts.") or host.startswith("https://accounts-dod."))


# --- databricks/sdk/credentials_provider.py -------------------------------------------------------

@dataclasses.dataclass(order=True, frozen=True)
class CliVersion:
    """The CLI version the SDK gates flags on. (-1, -1, -1) means "could not tell"."""
    major: int = -1
    minor: int = -1
    patch: int = -1

    @property
    def is_default_dev_build(self) -> bool:
        return (self.major, self.minor, self.patch) == (0, 0, 0)


CLI_VERSION_FOR_PROFILE = CliVersion(0, 207, 1)        # databricks/cli#855
CLI_VERSION_FOR_FORCE_REFRESH = CliVersion(0, 296, 0)  # databricks/cli#4767
VERSION_PROBE_TIMEOUT_S = 5


class Skip(Exception):
    """The SDK returns None from the databricks-cli strategy: try the next auth type."""


def run_subprocess(argv: List[str], timeout=None) -> subprocess.CompletedProcess:
    # credentials_provider._run_subprocess: shell only on Windows; capture_output, check=True.
    return subprocess.run(argv, capture_output=True, timeout=timeout, check=True)


def find_executable(name: str) -> str:
    """DatabricksCliTokenSource._find_executable: PATH scan, symlinks resolved, 1 MiB size check."""
    err = FileNotFoundError("Most likely the Databricks CLI is not installed")
    for d in os.getenv("PATH", default="").split(os.path.pathsep):
        path = pathlib.Path(d).joinpath(name).resolve()
        if not path.is_file():
            continue
        # "The new Databricks CLI is a single binary with size > 1MB."
        if path.stat().st_size < (1024 * 1024):
            err = FileNotFoundError("Databricks CLI version <0.100.0 detected")
            continue
        return str(path)
    raise err


def parse_cli_version(output: str) -> CliVersion:
    """_parse_cli_version: Major/Minor/Patch of `databricks version --output json`, else unknown."""
    try:
        data = json.loads(output)
        parts = [data["Major"], data["Minor"], data["Patch"]]
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
            raise TypeError("non-integer version field")
        return CliVersion(*parts)
    except (ValueError, KeyError, TypeError):
        return CliVersion()


def get_cli_version(cli_path: str, notes: list) -> CliVersion:
    """_get_cli_version: `CLI version --output json`, 5 s; failures are not fatal (unknown)."""
    try:
        out = run_subprocess([cli_path, "version", "--output", "json"], timeout=VERSION_PROBE_TIMEOUT_S)
    except (subprocess.SubprocessError, OSError) as e:
        notes.append(f"Failed to detect Databricks CLI version: {e}. Falling back to conservative flag set.")
        return CliVersion()
    return parse_cli_version(out.stdout.decode())


def build_host_args(host: Optional[str], account_id: Optional[str], account_host: bool) -> List[str]:
    if not host:
        raise IOError("host is not set")
    args = ["auth", "token", "--host", host]
    if account_host:
        args += ["--account-id", account_id or ""]
    return args


def build_cli_command(cli_path: str, host, account_id, profile, account_host: bool,
                      version: CliVersion, notes: list) -> List[str]:
    """_build_cli_command: --profile from 0.207.1, else --host; --force-refresh from 0.296.0."""
    if not profile:
        try:
            cmd = [cli_path, *build_host_args(host, account_id, account_host)]
        except IOError as e:
            raise IOError(f"cannot configure CLI token source: neither profile nor host is configured: {e}")
    elif version >= CLI_VERSION_FOR_PROFILE:
        cmd = [cli_path, "auth", "token", "--profile", profile]
    else:
        if version == CliVersion() or version.is_default_dev_build:
            notes.append("Could not confirm --profile support. Falling back to --host.")
        else:
            notes.append("Databricks CLI does not support --profile (requires >= 0.207.1). Falling back to --host.")
        try:
            cmd = [cli_path, *build_host_args(host, account_id, account_host)]
        except IOError as e:
            raise IOError("cannot configure CLI token source: databricks CLI does not support --profile "
                          f"(requires >= 0.207.1) and no host fallback is configured: {e}")
    if version >= CLI_VERSION_FOR_FORCE_REFRESH:
        cmd.append("--force-refresh")
    elif version == CliVersion() or version.is_default_dev_build:
        notes.append("Could not confirm --force-refresh support.")
    else:
        notes.append("Databricks CLI does not support --force-refresh (requires >= 0.296.0).")
    return cmd


def parse_expiry(expiry: str) -> datetime:
    """CliTokenSource._parse_expiry, verbatim: strip a trailing Z, cut at the first '.', parse as a
    naive datetime (which the SDK then treats as local time)."""
    expiry = expiry.rstrip("Z").split(".")[0]
    last_e = None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(expiry, fmt)
        except ValueError as e:
            last_e = e
    raise last_e


def exec_cli_command(cmd: List[str]):
    """CliTokenSource._exec_cli_command."""
    try:
        out = run_subprocess(cmd)
        it = json.loads(out.stdout.decode())
        expires_on = parse_expiry(it["expiry"])
        return it["access_token"], it["token_type"], expires_on, it["expiry"]
    except ValueError as e:
        raise ValueError(f"cannot unmarshal CLI result: {e}")
    except subprocess.CalledProcessError as e:
        stdout = e.stdout.decode().strip()
        stderr = e.stderr.decode().strip()
        message = "\n".join(filter(None, [stdout, stderr]))
        raise IOError(f"cannot get access token: {message}") from e


def token_expired(expiry: datetime) -> bool:
    """oauth.Token.expired: 40 s early; the naive expiry is compared with naive local now."""
    potentially_expired = expiry - timedelta(seconds=40)
    now = datetime.now(tz=potentially_expired.tzinfo)
    return potentially_expired < now


# --- the client -------------------------------------------------------------------------------

def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli-path", default=os.environ.get("DATABRICKS_CLI_PATH") or None)
    ap.add_argument("--host", default=os.environ.get("DATABRICKS_HOST") or None)
    ap.add_argument("--account-id", default=os.environ.get("DATABRICKS_ACCOUNT_ID") or None)
    ap.add_argument("--profile", default=os.environ.get("DATABRICKS_CONFIG_PROFILE") or None)
    ap.add_argument("--account-host", action="store_true")
    args = ap.parse_args(argv)

    host = fix_host_if_needed(args.host)
    account_host = args.account_host or is_account_host(host)
    result = {"ok": False, "argv": None, "version_argv": None, "cli_path": None, "cli_version": None}
    notes: list = []
    secret = None

    def finish(code: int) -> int:
        if notes:
            result["notes"] = notes
        text = json.dumps(result)
        if secret:
            text = text.replace(secret, "[REDACTED]")
        sys.stdout.write(text + "\n")
        return code

    try:
        # DatabricksCliTokenSource.__init__: find the program.
        cli_path = args.cli_path
        try:
            if not cli_path:
                cli_path = find_executable("databricks")
            elif cli_path.count("/") == 0:
                cli_path = find_executable(cli_path)
        except FileNotFoundError as e:
            raise Skip(str(e))
        result["cli_path"] = cli_path
        result["version_argv"] = [cli_path, "version", "--output", "json"]
        version = get_cli_version(cli_path, notes)
        result["cli_version"] = [version.major, version.minor, version.patch]
        cmd = build_cli_command(cli_path, host, args.account_id, args.profile, account_host, version, notes)
        result["argv"] = cmd

        # databricks_cli(): the first token() decides whether the strategy applies.
        try:
            access_token, token_type, expiry, raw = exec_cli_command(cmd)
        except IOError as e:
            if "databricks OAuth is not" in str(e):
                raise Skip(f"OAuth not configured or not available: {e}")
            raise
        secret = access_token if isinstance(access_token, str) and access_token else None
        expiry_utc = expiry.astimezone(timezone.utc)  # a naive datetime is read as local time
        result.update({
            "ok": True,
            "access_token_len": len(access_token) if isinstance(access_token, str) else None,
            "token_type": token_type,
            "expiry_raw": raw,
            "expiry_local_naive": expiry.isoformat(),
            "expiry_utc": expiry_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expiry_epoch_s": expiry_utc.timestamp(),
            "valid": bool(access_token) and not token_expired(expiry),
        })
        return finish(0)
    except Skip as e:
        result.update({"error": str(e), "not_applicable": True})
        return finish(1)
    except Exception as e:  # what the SDK raises as "databricks-cli: ..." from DefaultCredentials
        result.update({"error": f"{type(e).__name__}: {e}", "not_applicable": False})
        return finish(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
