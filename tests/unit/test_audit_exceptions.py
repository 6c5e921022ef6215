"""security/audit-exceptions.toml is well-formed and current; `make audit` uses it as it says (no network here)."""

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

PINS = audit.pinned_versions()
NPM_LOCKED = audit.locked_npm_versions()


def problems(entry: dict) -> list[str]:
    """What is wrong with one [[exception]] table (nothing: [])."""
    found = [f"missing or empty {field}" for field in audit.FIELDS if entry.get(field) in (None, "")]
    found += [f"unknown field {field}" for field in entry if field not in audit.FIELDS]
    if found:
        return found
    if not audit.ID_PATTERN.match(str(entry["id"])):
        found.append(f"id {entry['id']!r} is not a GHSA, PYSEC or CVE id")
    if entry["ecosystem"] == "pypi":
        pinned = PINS.get(audit.normalise(entry["package"]))
        if pinned is None:
            found.append(f"{entry['package']} is not pinned in constraints.txt")
        elif pinned != entry["version"]:
            found.append(f"{entry['package']} is pinned at {pinned}, not {entry['version']}: review the exception")
    elif entry["ecosystem"] == "npm":
        locked = NPM_LOCKED.get(entry["package"])
        if locked is None:
            found.append(f"{entry['package']} is not in package-lock.json")
        elif entry["version"] not in locked:
            found.append(f"{entry['package']} is locked at {sorted(locked)}, not {entry['version']}: review it")
    else:
        found.append(f"ecosystem {entry['ecosystem']!r} is not one of {audit.ECOSYSTEMS}")
    if len(str(entry["reason"]).split()) < 8:
        found.append("the reason is too short to say why the advisory cannot hurt us")
    if not isinstance(entry["review"], dt.date) or isinstance(entry["review"], dt.datetime):
        found.append(f"review {entry['review']!r} is not a date (write it unquoted: 2027-03-01)")
    return found


def test_every_exception_is_complete_and_matches_the_locked_version():
    exceptions = audit.load_exceptions()
    assert isinstance(exceptions, list)
    report = {f"{e.get('id')} ({e.get('package')})": problems(e) for e in exceptions}
    assert {key: found for key, found in report.items() if found} == {}
    ids = [(e["ecosystem"], e["id"], e["package"]) for e in exceptions]
    assert len(ids) == len(set(ids)), "an advisory is listed twice"


GOOD = {
    "id": "GHSA-2m57-hf25-phgg",
    "ecosystem": "pypi",
    "package": "tensorflow",
    "version": PINS["tensorflow"],
    "reason": "Rasa 3.6 requires tensorflow<2.13; we only ever load the models we train ourselves.",
    "review": dt.date(2027, 3, 1),
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, None),
        ({"package": "TensorFlow"}, None),  # names compare as PEP 503 names
        ({"version": "2.11.0"}, "pinned at"),  # a stale exception is noticed when the pin moves
        ({"package": "not-a-dependency"}, "not pinned"),
        ({"id": "TF-2023-1"}, "not a GHSA"),
        ({"reason": ""}, "missing or empty reason"),
        ({"reason": "accepted"}, "too short"),
        ({"review": "2027-03-01"}, "not a date"),
        ({"ecosystem": "npm", "package": "socket.io-client", "version": "4.8.1"}, None),
        ({"ecosystem": "npm", "package": "socket.io-client", "version": "4.7.0"}, "locked at"),
        ({"ecosystem": "cargo"}, "not one of"),
        ({"severity": "low"}, "unknown field"),
    ],
)
def test_the_check_catches_each_kind_of_bad_entry(change, expected):
    found = problems({**GOOD, **change})
    if expected is None:
        assert found == []
    else:
        assert any(expected in problem for problem in found), found


def test_an_entry_without_an_id_is_refused():
    assert problems({key: value for key, value in GOOD.items() if key != "id"}) == ["missing or empty id"]


def test_pip_audit_gets_exactly_the_pins_and_every_python_exception_as_ignore_vuln():
    exceptions = [GOOD, {**GOOD, "id": "PYSEC-2023-1"}, {**GOOD, "ecosystem": "npm", "id": "GHSA-3h5v-q93c-6h6q"}]
    command = audit.pip_audit_command(exceptions, Path("out.json"))
    assert command[command.index("--requirement") + 1] == str(ROOT / "constraints.txt")
    for flag in ("--no-deps", "--disable-pip", "--strict"):
        assert flag in command
    ignored = [command[i + 1] for i, arg in enumerate(command) if arg == "--ignore-vuln"]
    assert ignored == ["GHSA-2m57-hf25-phgg", "PYSEC-2023-1"]


def test_a_new_python_advisory_fails_and_an_unauditable_package_is_not_skipped_silently():
    report = {
        "dependencies": [
            {"name": "rasa", "version": "3.6.21", "vulns": []},
            {"name": "yarl", "version": "1.25.1", "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["1.26"]}]},
        ]
    }
    assert audit.pip_findings(report) == ["yarl 1.25.1: PYSEC-2099-1, fixed in 1.26"]
    report["dependencies"].append({"name": "absl-py", "skip_reason": "Dependency not found on PyPI"})
    with pytest.raises(audit.AuditError, match="could not audit absl-py"):
        audit.pip_findings(report)


def test_npm_findings_keep_only_unlisted_advisories_and_an_unreachable_service_fails():
    via = {"url": "https://github.com/advisories/GHSA-3h5v-q93c-6h6q", "severity": "high", "title": "DoS"}
    report = {
        "vulnerabilities": {
            "ws": {"range": "8.0.0 - 8.17.0", "via": [via], "fixAvailable": True},
            "engine.io-client": {"range": "*", "via": ["ws"], "fixAvailable": True},
        }
    }
    assert len(audit.npm_findings(report, ignored=[])) == 1
    assert "GHSA-3h5v-q93c-6h6q" in audit.npm_findings(report, ignored=[])[0]
    assert audit.npm_findings(report, ignored=["GHSA-3h5v-q93c-6h6q"]) == []
    refused = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk"}
    with pytest.raises(audit.AuditError, match="cannot be reached"):
        audit.npm_findings(refused, ignored=[])


def test_the_audit_tool_is_pinned_exactly():
    lines = [
        line.strip()
        for line in (ROOT / "security" / "pip-audit-requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in line for line in lines), lines
    assert any(audit.normalise(line.split("==")[0]) == "pip-audit" for line in lines)
