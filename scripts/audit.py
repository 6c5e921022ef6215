"""`make audit`: known vulnerabilities in the locked packages, less the accepted ones.

Python: pip-audit over the exact pins of constraints.txt (no resolving, no installing), against PyPI's
vulnerability data. npm: `npm audit --omit=dev` over package-lock.json. The accepted advisories are listed,
each with its reason and a review date, in security/audit-exceptions.toml; the Python ones become pip-audit's
--ignore-vuln options, the npm ones are filtered out of npm's answer. Fails on any other advisory, and fails
saying so when the vulnerability data cannot be fetched (never passes on an audit that could not be done).

Run by scripts/audit with the audit's own virtualenv (pip-audit and tomli); only the standard library and
tomli are needed to import this module (the unit tests do).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import tomli

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = ROOT / "security" / "audit-exceptions.toml"
CONSTRAINTS = ROOT / "constraints.txt"
PACKAGE_LOCK = ROOT / "package-lock.json"
REPORT_DIR = ROOT / "var" / "audit"

ECOSYSTEMS = ("pypi", "npm")
FIELDS = ("id", "ecosystem", "package", "version", "reason", "review")
ID_PATTERN = re.compile(r"^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|CVE-\d{4}-\d{4,})$")

SOCKET_TIMEOUT = 20  # seconds for one HTTP request (pip-audit's --timeout)
PIP_AUDIT_TIMEOUT = 600  # seconds for the whole pip-audit run
NPM_AUDIT_TIMEOUT = 120


class AuditError(Exception):
    """The audit could not be done (as opposed to: it was done and found something)."""


def normalise(name: str) -> str:
    """PEP 503 name: `ruamel.yaml` and `Ruamel_YAML` are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_exceptions(path: Path = EXCEPTIONS) -> list[dict]:
    with path.open("rb") as f:
        return tomli.load(f).get("exception", [])


def pinned_versions(path: Path = CONSTRAINTS) -> dict[str, str]:
    """{normalised name: version} of constraints.txt's `name==version` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalise(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def locked_npm_versions(path: Path = PACKAGE_LOCK) -> dict[str, set[str]]:
    """{name: versions} of package-lock.json (a package can be there in several versions)."""
    versions: dict[str, set[str]] = {}
    for key, entry in json.loads(path.read_text())["packages"].items():
        if key and "version" in entry:
            versions.setdefault(key.rsplit("node_modules/", 1)[-1], set()).add(entry["version"])
    return versions


def ignored_ids(exceptions: list[dict], ecosystem: str) -> list[str]:
    return sorted({e["id"] for e in exceptions if e.get("ecosystem") == ecosystem})


def pip_audit_command(exceptions: list[dict], output: Path) -> list[str]:
    """pip-audit on exactly the pins: --no-deps and --disable-pip (nothing resolved, nothing installed),
    --strict (a package it could not look up fails the audit instead of being skipped)."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(CONSTRAINTS),
        "--no-deps",
        "--disable-pip",
        "--strict",
        "--vulnerability-service",
        "pypi",
        "--timeout",
        str(SOCKET_TIMEOUT),
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--output",
        str(output),
    ]
    for vuln_id in ignored_ids(exceptions, "pypi"):
        command += ["--ignore-vuln", vuln_id]
    return command


def check_pypi_reachable(pins: dict[str, str]) -> None:
    """pip-audit reads https://pypi.org/pypi/NAME/VERSION/json. When that answers 404 for a release that
    exists, or not at all, pip-audit would only say each package "could not be audited"; say why instead."""
    import requests

    name, version = "rasa", pins.get("rasa", "3.6.21")
    url = f"https://pypi.org/pypi/{name}/{version}/json"
    try:
        response = requests.get(url, timeout=SOCKET_TIMEOUT)
    except requests.RequestException as error:
        raise AuditError(
            f"PyPI's vulnerability data cannot be reached from this machine (GET {url}: {error}).\n"
            "pip-audit needs network access to pypi.org's JSON API; nothing was audited."
        ) from error
    if response.status_code != 200 or "vulnerabilities" not in response.text:
        raise AuditError(
            f"PyPI's vulnerability data cannot be fetched from this machine: GET {url} answered "
            f"{response.status_code} for a release that exists (the package index itself may still work: "
            "pip installs, but the per-release JSON API that carries the advisories is not reachable).\n"
            "Nothing was audited; run `make audit` where pypi.org's JSON API is reachable."
        )


def run_pip_audit(exceptions: list[dict]) -> list[str]:
    """Findings not accepted, as lines `package version id (fixed in ...)`."""
    check_pypi_reachable(pinned_versions())
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    output = REPORT_DIR / "pip-audit.json"
    output.unlink(missing_ok=True)
    try:
        done = subprocess.run(
            pip_audit_command(exceptions, output), capture_output=True, text=True, timeout=PIP_AUDIT_TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        raise AuditError(f"pip-audit did not finish within {PIP_AUDIT_TIMEOUT} s; nothing was audited.") from error
    if not output.exists():  # pip-audit stopped before writing its report: it could not audit
        log = "\n".join(line for line in done.stderr.splitlines() if "hash their pinned" not in line)
        hint = ""
        if "could not be audited" in log or "Connection" in log or "ServiceError" in log:
            hint = "\nPyPI's vulnerability data could not be fetched for every package; nothing was audited."
        raise AuditError(f"pip-audit failed (exit {done.returncode}):\n{log.strip()[-3000:]}{hint}")
    return pip_findings(json.loads(output.read_text()))


def pip_findings(report: dict) -> list[str]:
    findings = []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            raise AuditError(f"pip-audit could not audit {dependency['name']}: {dependency['skip_reason']}")
        for vuln in dependency.get("vulns", []):
            aliases = ", ".join(vuln.get("aliases", []))
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            findings.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f", fixed in {fixed}"
            )
    return findings


def run_npm_audit(exceptions: list[dict]) -> list[str]:
    try:
        done = subprocess.run(
            ["npm", "audit", "--omit=dev", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=NPM_AUDIT_TIMEOUT,
        )
    except FileNotFoundError as error:
        raise AuditError("npm is missing (Debian: apt-get install npm); the npm packages were not audited.") from error
    except subprocess.TimeoutExpired as error:
        raise AuditError(f"npm audit did not finish within {NPM_AUDIT_TIMEOUT} s; nothing was audited.") from error
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise AuditError(
            f"npm audit gave no report (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}"
        ) from error
    return npm_findings(report, ignored_ids(exceptions, "npm"))


def npm_findings(report: dict, ignored: list[str]) -> list[str]:
    """Advisories in `npm audit --json`'s answer that are not accepted; AuditError when it is an error."""
    if "error" in report or "vulnerabilities" not in report:
        detail = report.get("message") or report.get("error", {}).get("summary") or json.dumps(report)[:500]
        raise AuditError(
            f"npm's advisory service cannot be reached from this machine ({detail}).\n"
            "npm audit POSTs package-lock.json's packages to the registry's bulk advisory endpoint; "
            "nothing was audited."
        )
    findings = []
    for name, entry in sorted(report["vulnerabilities"].items()):
        for via in entry.get("via", []):
            if not isinstance(via, dict):  # vulnerable only through another package, listed under that one
                continue
            vuln_id = via.get("url", "").rsplit("/", 1)[-1] or str(via.get("source"))
            if vuln_id in ignored:
                continue
            findings.append(
                f"{name} {entry.get('range', '')}: {vuln_id} ({via.get('severity')}: {via.get('title')}), "
                f"fix available: {bool(entry.get('fixAvailable'))}"
            )
    return findings


def overdue(exceptions: list[dict], today: dt.date | None = None) -> list[dict]:
    today = today or dt.date.today()
    return [e for e in exceptions if isinstance(e.get("review"), dt.date) and e["review"] <= today]


def main() -> int:
    exceptions = load_exceptions()
    failed = False
    for label, run in (("Python (constraints.txt)", run_pip_audit), ("npm (package-lock.json)", run_npm_audit)):
        try:
            findings = run(exceptions)
        except AuditError as error:
            print(f"AUDIT NOT DONE, {label}: {error}", file=sys.stderr)
            failed = True
            continue
        if findings:
            failed = True
            print(f"Known vulnerabilities in {label} not listed in security/audit-exceptions.toml:", file=sys.stderr)
            for finding in findings:
                print(f"  {finding}", file=sys.stderr)
        else:
            ecosystem = "pypi" if label.startswith("Python") else "npm"
            print(f"{label}: no known vulnerabilities besides {len(ignored_ids(exceptions, ecosystem))} accepted")
    for exception in overdue(exceptions):
        print(
            f"Review due ({exception['review']}): {exception['id']} in {exception['package']} "
            "(security/audit-exceptions.toml)",
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
