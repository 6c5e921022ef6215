"""The dependency audit (scripts/audit.py): OSV ranges read right, exceptions enforced, the real pins pass against
the vendored snapshot, and the vendored copy holds every advisory of the pinned packages (no network here)."""

import datetime as dt
import filecmp
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SHARED_SNAPSHOT = ROOT.parent / "shared" / "advisories" / "pypa"

_spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = audit  # its dataclasses look their module up there
_spec.loader.exec_module(audit)

PINS = audit.pinned_versions()


def advisory(vuln_id: str, events: list[dict] | None = None, versions: list[str] = (), **fields) -> dict:
    """A small OSV document for the package "demo-pkg" (its name written another way, as PyPA sometimes does)."""
    ranges = [{"type": "GIT", "repo": "https://example.invalid/demo", "events": [{"introduced": "0"}]}]
    if events is not None:
        ranges.append({"type": "ECOSYSTEM", "events": events})
    affected = {"package": {"name": "Demo_Pkg", "ecosystem": "PyPI"}, "ranges": ranges, "versions": list(versions)}
    return {"id": vuln_id, "details": f"{vuln_id} details", "affected": [affected], **fields}


def findings(pin: str, *documents: dict) -> list:
    return audit.snapshot_findings("demo-pkg", pin, [(d["id"], d) for d in documents])


INTRODUCED_FIXED = advisory("PYSEC-2099-1", [{"introduced": "1.0"}, {"fixed": "1.5"}], aliases=["CVE-2099-10001"])
TWO_BRANCHES = advisory(
    "PYSEC-2099-2", [{"introduced": "0"}, {"fixed": "1.2.3"}, {"introduced": "2.0"}, {"fixed": "2.1"}]
)
LAST_AFFECTED = advisory("PYSEC-2099-3", [{"introduced": "1.0"}, {"last_affected": "1.3"}])
VERSIONS_ONLY = advisory("PYSEC-2099-4", versions=["0.5", "0.7"])


@pytest.mark.parametrize(
    ("document", "pin", "fixed"),
    [
        (INTRODUCED_FIXED, "0.9", "unaffected"),
        (INTRODUCED_FIXED, "1.0", "1.5"),
        (INTRODUCED_FIXED, "1.4.9", "1.5"),
        (INTRODUCED_FIXED, "1.5", "unaffected"),
        (INTRODUCED_FIXED, "1.5.0.post1", "unaffected"),
        (TWO_BRANCHES, "0a1", "1.2.3"),  # introduced "0" means every version, even one sorting below 0
        (TWO_BRANCHES, "0.1", "1.2.3"),
        (TWO_BRANCHES, "1.9", "unaffected"),
        (TWO_BRANCHES, "2.0.5", "2.1"),
        (TWO_BRANCHES, "2.1", "unaffected"),
        (LAST_AFFECTED, "1.3", None),
        (LAST_AFFECTED, "1.3.1", "unaffected"),
        (VERSIONS_ONLY, "0.5.0", None),  # listed as 0.5: the same PEP 440 version
        (VERSIONS_ONLY, "0.6", "unaffected"),
    ],
)
def test_osv_ranges_and_versions_decide_whether_a_pin_is_affected_and_what_fixes_it(document, pin, fixed):
    found = findings(pin, document)
    if fixed == "unaffected":
        assert found == []
    else:
        assert [(f.id, f.version, f.fixed) for f in found] == [(document["id"], pin, fixed)]


def test_a_fix_that_is_itself_affected_again_is_not_offered():
    regressed = advisory(
        "PYSEC-2099-5", [{"introduced": "0"}, {"fixed": "1.1"}, {"introduced": "1.1"}, {"fixed": "1.3"}]
    )
    assert [f.fixed for f in findings("1.0", regressed)] == ["1.3"]


def test_withdrawn_advisories_and_other_packages_entries_are_not_findings():
    withdrawn = advisory("PYSEC-2099-6", [{"introduced": "0"}], withdrawn="2099-01-01T00:00:00Z")
    other = advisory("PYSEC-2099-7", [{"introduced": "0"}])
    other["affected"][0]["package"]["name"] = "demo-pkg-extras"
    found = findings("1.0", withdrawn, other)
    assert [(f.id, f.withdrawn) for f in found] == [("PYSEC-2099-6", True)]


def test_an_event_the_audit_does_not_understand_stops_it_rather_than_guessing():
    with pytest.raises(audit.AuditError, match="not one this audit understands"):
        findings("1.0", advisory("PYSEC-2099-8", [{"introduced": "0"}, {"limit": "2.0"}]))


def write_snapshot(root: Path, *documents: dict) -> Path:
    folder = root / "vulns" / "Demo_Pkg"  # folder names are matched as PEP 503 names too
    folder.mkdir(parents=True)
    for document in documents:
        (folder / f"{document['id']}.yaml").write_text(yaml.safe_dump(document))
    return root


PIN = {"demo-pkg": "1.2", "other": "3.0"}
EXCEPTION = {
    "id": "CVE-2099-10001",  # an alias of PYSEC-2099-1
    "package": "demo-pkg",
    "version": "1.2",
    "reason": "The demo parser runs only in the training job, on files we write ourselves; no visitor input.",
    "review": dt.date(2099, 3, 1),
}
NO_REQUIREMENTS = list
INFO = {"date": dt.date(2024, 10, 10), "commit": "3" * 40, "advisories": 1, "packages": 1}


def test_a_finding_accepted_by_an_exception_passes(tmp_path):
    result = audit.audit(PIN, [EXCEPTION], write_snapshot(tmp_path, INTRODUCED_FIXED), requirements=NO_REQUIREMENTS)
    assert [(f.id, exception["id"]) for f, _, exception in result.findings] == [("PYSEC-2099-1", "CVE-2099-10001")]
    assert result.passed and result.stale == [] and result.bad_exceptions == []


def test_a_new_finding_without_an_exception_fails_and_is_shown_with_its_fix_and_what_forces_the_pin(tmp_path):
    def requirements() -> list[tuple[str, Requirement]]:
        return [("rasa 3.6.21", Requirement("demo-pkg<1.3")), ("tensorflow 2.12", Requirement("Demo.Pkg>=1"))]

    result = audit.audit(PIN, [], write_snapshot(tmp_path, INTRODUCED_FIXED), requirements=requirements)
    assert not result.passed
    assert [f.id for f in result.new] == ["PYSEC-2099-1"]
    assert result.findings[0][1] == ["rasa 3.6.21 requires demo-pkg<1.3"]
    text = "\n".join(audit.report(result, INFO, PIN, "newer source: not asked", dt.date(2099, 1, 1)))
    for expected in ("PYSEC-2099-1 demo-pkg 1.2, fixed in 1.5", "pin forced: rasa 3.6.21", "NEW", "2024-10-10"):
        assert expected in text
    assert "npm" in text and "not covered" in text
    assert text.splitlines()[-1].startswith("FAIL")


def test_an_exception_without_a_reason_fails_the_audit_even_when_it_matches(tmp_path):
    exceptions = [{**EXCEPTION, "reason": "  "}]
    result = audit.audit(PIN, exceptions, write_snapshot(tmp_path, INTRODUCED_FIXED), requirements=NO_REQUIREMENTS)
    assert result.new == []
    assert result.bad_exceptions == ["CVE-2099-10001 (demo-pkg): missing or empty reason"]
    assert not result.passed


def test_an_exception_that_matches_no_finding_is_reported_stale(tmp_path):
    moved = {**EXCEPTION, "package": "other", "version": "3.0"}
    result = audit.audit(
        PIN, [EXCEPTION, moved], write_snapshot(tmp_path, INTRODUCED_FIXED), requirements=NO_REQUIREMENTS
    )
    assert result.stale == [moved]
    lines = audit.report(result, INFO, PIN, "", dt.date(2099, 1, 1))
    assert any("stale exception: CVE-2099-10001 (other 3.0)" in line for line in lines)


GOOD = {**EXCEPTION, "package": "tensorflow", "version": PINS["tensorflow"]}


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
        ({"ecosystem": "pypi"}, "unknown field"),
    ],
)
def test_the_check_catches_each_kind_of_bad_exception(change, expected):
    found = audit.exception_problems({**GOOD, **change}, PINS)
    if expected is None:
        assert found == []
    else:
        assert any(expected in problem for problem in found), found


def test_forced_by_names_each_requirement_that_excludes_the_fixed_release():
    requirements = [
        ("rasa 3.6.21", Requirement("tensorflow==2.12.0")),
        ("tensorflow-text 2.12.0", Requirement("tensorflow<2.13,>=2.12.0")),
        ("keras-demo 1.0", Requirement("tensorflow>=2")),
        ("rasa 3.6.21", Requirement("numpy<1.24")),
    ]
    assert audit.forced_by("tensorflow", "2.12.1", requirements) == ["rasa 3.6.21 requires tensorflow==2.12.0"]
    assert len(audit.forced_by("tensorflow", "2.13.0", requirements)) == 2
    assert audit.forced_by("tensorflow", None, requirements) == []


def test_the_installed_requirements_are_rasas_and_ours_with_our_dev_extra():
    requirements = [(owner.split()[0], requirement.name) for owner, requirement in audit.installed_requirements()]
    assert ("rasa", "tensorflow") in requirements
    assert ("ijm-bot", "pytest") in requirements  # our dev extra, which make setup installs
    assert ("rasa", "spacy") not in requirements  # an extra of Rasa's that nothing asks for


def test_the_newer_source_is_asked_once_and_skipped_when_unreachable():
    asked = []

    def unreachable(url: str) -> dict:
        asked.append(url)
        raise OSError("HTTP Error 404: Not Found")

    found, line = audit.pypi_findings({"aiohttp": "3.9.5", "rasa": "3.6.21"}, get=unreachable)
    assert found == [] and asked == ["https://pypi.org/pypi/rasa/3.6.21/json"]
    assert line.startswith("newer source: not reachable, snapshot only")


def test_the_newer_sources_findings_are_added_unless_the_snapshot_has_them_under_another_id():
    answers = {
        "rasa": {"vulnerabilities": []},
        "demo-pkg": {
            "vulnerabilities": [
                {"id": "GHSA-2222-3333-4444", "aliases": ["CVE-2099-10001"], "fixed_in": ["1.5"], "details": "same"},
                {"id": "GHSA-5555-6666-7777", "aliases": [], "fixed_in": ["1.1", "1.9", "2.0"], "details": "new"},
            ]
        },
    }
    found, line = audit.pypi_findings(
        {"rasa": "3.6.21", "demo-pkg": "1.2", "gone": "1.0"}, get=lambda url: answers[url.split("/")[4]]
    )
    assert "2 of 3 pins answered; snapshot only for gone" in line
    snapshot = findings("1.2", INTRODUCED_FIXED)
    merged = audit.merge(snapshot, found)
    assert [(f.id, f.fixed, f.source) for f in merged] == [
        ("PYSEC-2099-1", "1.5", "snapshot"),
        ("GHSA-5555-6666-7777", "1.9", "PyPI"),
    ]


def test_the_real_pins_pass_against_the_vendored_snapshot_with_the_exceptions():
    exceptions = audit.load_exceptions()
    result = audit.audit(PINS, exceptions)
    assert result.bad_exceptions == []
    assert [f"{f.package} {f.id}" for f in result.new] == []
    assert result.stale == [], "an exception matches no finding any more: remove it"
    info = audit.snapshot_info()
    assert info["commit"] == "3ccb612573e2511ab5cad7dafecd838605c80cda" or info["date"] > dt.date(2024, 10, 10)
    assert info["advisories"] > 0


def test_every_dependency_of_our_wheel_is_pinned_and_so_audited():
    assert audit.own_dependencies() - set(PINS) == set()
    assert {"rasa", "rasa-sdk", "sanic", "pytest"} <= audit.own_dependencies()


@pytest.mark.skipif(not SHARED_SNAPSHOT.is_dir(), reason="no ../shared/advisories/pypa beside this clone")
def test_the_vendored_advisories_are_exactly_the_pinned_packages_ones_in_the_shared_snapshot():
    vendored = audit.ADVISORIES / "vulns"
    expected = {
        folder.name: sorted(path.name for path in folder.glob("*.yaml"))
        for folder in (SHARED_SNAPSHOT / "vulns").iterdir()
        if folder.is_dir() and audit.normalise(folder.name) in PINS
    }
    have = {folder.name: sorted(path.name for path in folder.glob("*.yaml")) for folder in vendored.iterdir()}
    assert have == expected, "run make audit-data SNAPSHOT=../shared/advisories/pypa COMMIT=... DATE=..."
    changed = [
        f"{name}/{file}"
        for name, files in expected.items()
        for file in files
        if not filecmp.cmp(SHARED_SNAPSHOT / "vulns" / name / file, vendored / name / file, shallow=False)
    ]
    assert changed == [], "the shared snapshot is newer: run make audit-data"


def test_refreshing_copies_only_the_pinned_packages_and_records_the_snapshot(tmp_path):
    snapshot = write_snapshot(tmp_path / "full", INTRODUCED_FIXED)
    (snapshot / "vulns" / "unpinned").mkdir()
    (snapshot / "vulns" / "unpinned" / "PYSEC-2099-9.yaml").write_text(yaml.safe_dump(TWO_BRANCHES))
    (snapshot / "LICENSE").write_text("Attribution 4.0 International")
    target = tmp_path / "vendored"
    copied = audit.refresh(snapshot, "a" * 40, dt.date(2099, 1, 2), {"demo-pkg": "1.2"}, root=target)
    assert copied == 1
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*.yaml")) == [
        "vulns/Demo_Pkg/PYSEC-2099-1.yaml"
    ]
    info = audit.snapshot_info(target)
    assert (info["commit"], info["date"], info["advisories"]) == ("a" * 40, dt.date(2099, 1, 2), 1)
    assert "a" * 40 in (target / "README.md").read_text()
    assert [f.id for f in audit.audit({"demo-pkg": "1.2"}, [], target, requirements=NO_REQUIREMENTS).new] == [
        "PYSEC-2099-1"
    ]
