"""`make audit`: known vulnerabilities in the exact pins of constraints.txt, less the accepted ones.

The data is a snapshot of the PyPA advisory database (OSV documents, one YAML file per advisory), vendored for
the pinned packages in security/advisories/pypa/ so that a clone on its own can run the audit offline. For each
pin, every advisory of that package is read and `packaging`'s Version decides whether the pin lies in one of its
ECOSYSTEM ranges (introduced / fixed / last_affected events) or in its list of affected versions. Each finding is
printed with its id, the release that fixes it and whether Rasa 3.6's (or any installed distribution's)
requirements forbid that release. `make audit` also asks PyPI's JSON API, a newer source, when it can be reached;
`make test` uses the snapshot only (`--snapshot-only`), so that its result does not depend on the network or on
the day. Fails on a finding not accepted in security/audit-exceptions.toml, on an exception that is incomplete
(a reason is required), and when the audit cannot be done. npm packages are not covered by this data.

`--refresh-from SNAPSHOT --commit C --date D` replaces the vendored subset with the pinned packages' advisories
from a full snapshot (`make audit-data`). Runs in the project's virtualenv (packaging, PyYAML, tomli).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import functools
import json
import re
import shutil
import sys
import urllib.request
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

import tomli
import yaml
from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE_LOCK = ROOT / "package-lock.json"
EXCEPTIONS = ROOT / "security" / "audit-exceptions.toml"
ADVISORIES = ROOT / "security" / "advisories" / "pypa"  # LICENSE, README.md, snapshot.toml, vulns/<package>/

FIELDS = ("id", "package", "version", "reason", "review")
ID_PATTERN = re.compile(r"^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|CVE-\d{4}-\d{4,})$")
MIN_REASON_WORDS = 8

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's is ten times faster on the big lists
PYPI_JSON = "https://pypi.org/pypi/{name}/{version}/json"  # its "vulnerabilities" list: PyPI's newer data
PYPI_TIMEOUT = 5  # seconds; the first request decides whether the newer source is used at all


class AuditError(Exception):
    """The audit could not be done (as opposed to: it was done and found something)."""


@dataclasses.dataclass(frozen=True)
class Finding:
    id: str
    aliases: tuple[str, ...]
    package: str  # PEP 503 name
    version: str  # our pin
    fixed: str | None  # the lowest release above the pin that is not affected; None: no fixed release
    summary: str
    source: str  # "snapshot" or "PyPI"
    withdrawn: bool = False  # the advisory was withdrawn: shown, never a failure

    @property
    def ids(self) -> set[str]:
        return {self.id, *self.aliases}


def normalise(name: str) -> str:
    """PEP 503 name: `ruamel.yaml` and `Ruamel_YAML` are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(path: Path = CONSTRAINTS) -> dict[str, str]:
    """{normalised name: version} of constraints.txt's `name==version` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalise(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def own_dependencies(path: Path = PYPROJECT) -> set[str]:
    """The normalised names our own wheel depends on, with every optional group (dev)."""
    project = tomli.loads(path.read_text())["project"]
    lines = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        lines += group
    return {normalise(Requirement(line).name) for line in lines}


# --- OSV ranges -------------------------------------------------------------------------------------------------


def _version(text: object, where: str) -> Version:
    try:
        return Version(str(text))
    except InvalidVersion as error:
        raise AuditError(f"{where}: {text!r} is not a PEP 440 version") from error


ZERO = Version("0")


def in_range(version: Version, events: list[dict], where: str = "range") -> bool:
    """OSV's rule for one ECOSYSTEM range: walk its events in version order; `introduced` at or below the version
    makes it affected, `fixed` at or below it or `last_affected` below it makes it not affected."""
    ordered = []
    for event in events:
        if len(event) != 1 or next(iter(event)) not in ("introduced", "fixed", "last_affected"):
            raise AuditError(f"{where}: event {event} is not one this audit understands")
        ((kind, at),) = event.items()
        ordered.append((_version(at, where), kind))
    affected = False
    for at, kind in sorted(ordered, key=lambda pair: pair[0]):
        if kind == "introduced" and (at == ZERO or version >= at):  # "0": every version, pre-releases too
            affected = True
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            affected = False
    return affected


def is_affected(version: Version, affected: dict, where: str = "affected") -> bool:
    """One `affected[]` entry: the version is listed in `versions` or lies in an ECOSYSTEM range (GIT ranges
    name commits, not releases, and are left to the ECOSYSTEM ranges and the versions list)."""
    for listed in affected.get("versions") or []:
        try:
            if Version(str(listed)) == version:
                return True
        except InvalidVersion:
            continue  # a legacy version string can't equal a PEP 440 pin
    return any(
        in_range(version, r.get("events", []), where) for r in affected.get("ranges", []) if r["type"] == "ECOSYSTEM"
    )


def fixed_version(version: Version, affected: list[dict], where: str = "advisory") -> Version | None:
    """The lowest `fixed` release above the version that none of the entries affects (None: no fixed release)."""
    candidates = {
        _version(event["fixed"], where)
        for entry in affected
        for r in entry.get("ranges", [])
        if r["type"] == "ECOSYSTEM"
        for event in r.get("events", [])
        if "fixed" in event
    }
    for candidate in sorted(c for c in candidates if c > version):
        if not any(is_affected(candidate, entry, where) for entry in affected):
            return candidate
    return None


def package_advisories(package: str, root: Path = ADVISORIES) -> list[tuple[str, dict]]:
    """(file, OSV document) of every advisory the snapshot has for a package (its folder name, PEP 503)."""
    vulns = root / "vulns"
    folders = [folder for folder in vulns.iterdir() if normalise(folder.name) == package] if vulns.is_dir() else []
    documents = []
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            try:
                documents.append((str(path.relative_to(root)), yaml.load(path.read_text(), Loader=YAML_LOADER)))
            except yaml.YAMLError as error:
                raise AuditError(f"{path} is not a readable OSV document: {error}") from error
    return documents


def _summary(document: dict) -> str:
    text = " ".join(str(document.get("summary") or document.get("details") or "").split())
    return text if len(text) <= 110 else text[:107] + "..."


def snapshot_findings(package: str, pin: str, documents: Iterable[tuple[str, dict]]) -> list[Finding]:
    version = _version(pin, f"{package} pin")
    findings = []
    for where, document in documents:
        entries = [
            entry
            for entry in document.get("affected", [])
            if entry["package"]["ecosystem"] == "PyPI" and normalise(entry["package"]["name"]) == package
        ]
        if any(is_affected(version, entry, where) for entry in entries):
            fixed = fixed_version(version, entries, where)
            findings.append(
                Finding(
                    id=document["id"],
                    aliases=tuple(document.get("aliases") or ()),
                    package=package,
                    version=pin,
                    fixed=str(fixed) if fixed else None,
                    summary=_summary(document),
                    source="snapshot",
                    withdrawn=bool(document.get("withdrawn")),
                )
            )
    return findings


# --- The newer source: PyPI's JSON API --------------------------------------------------------------------------


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=PYPI_TIMEOUT) as response:
        return json.load(response)


def pypi_findings(pins: dict[str, str], get: Callable[[str], dict] = _get_json) -> tuple[list[Finding], str]:
    """Findings from PyPI's per-release vulnerability lists, and a line saying what was asked. One request first
    (rasa's): if it fails, or answers without a `vulnerabilities` list, the newer source is not used at all."""

    def ask(name: str) -> list[Finding]:
        vulnerabilities = get(PYPI_JSON.format(name=name, version=pins[name]))["vulnerabilities"]
        version = Version(pins[name])
        findings = []
        for vuln in vulnerabilities:
            fixes = []
            for text in vuln.get("fixed_in") or []:
                try:
                    fixes.append(Version(text))
                except InvalidVersion:
                    continue
            fixed = min((v for v in fixes if v > version), default=None)
            findings.append(
                Finding(
                    id=vuln["id"],
                    aliases=tuple(vuln.get("aliases") or ()),
                    package=name,
                    version=pins[name],
                    fixed=str(fixed) if fixed else None,
                    summary=_summary(vuln),
                    source="PyPI",
                    withdrawn=bool(vuln.get("withdrawn")),
                )
            )
        return findings

    first, *rest = sorted(pins, key=lambda name: name != "rasa")
    try:
        findings = ask(first)
    except (OSError, ValueError, KeyError, TypeError) as error:
        url = PYPI_JSON.format(name=first, version=pins[first])
        return [], f"newer source: not reachable, snapshot only (GET {url}: {error})"
    unanswered = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for name, future in [(name, pool.submit(ask, name)) for name in rest]:
            try:
                findings += future.result()
            except (OSError, ValueError, KeyError, TypeError):
                unanswered.append(name)
    line = f"newer source: PyPI's JSON API, {len(pins) - len(unanswered)} of {len(pins)} pins answered"
    if unanswered:
        line += f"; snapshot only for {', '.join(unanswered)}"
    return findings, line


def merge(snapshot: list[Finding], newer: list[Finding]) -> list[Finding]:
    """The snapshot's findings plus those of the newer source that share no id or alias with one of them."""
    merged = list(snapshot)
    for finding in newer:
        if not any(finding.package == f.package and finding.ids & f.ids for f in merged):
            merged.append(finding)
    return merged


# --- Whether Rasa 3.6 (or another installed distribution) forbids the fixed release -----------------------------


@functools.lru_cache(maxsize=1)
def installed_requirements() -> tuple[tuple[str, Requirement], ...]:
    """(distribution, requirement) for every requirement of every installed distribution that applies here: its
    marker holds on this Python, for no extra or an extra that some installed distribution asks for (our dev)."""
    distributions = {normalise(d.metadata["Name"]): d for d in metadata.distributions()}
    parsed = {name: [Requirement(line) for line in d.requires or []] for name, d in distributions.items()}
    extras: dict[str, set[str]] = {name: {""} for name in distributions}
    extras.setdefault("ijm-bot", {""}).add("dev")

    def applies(owner: str, requirement: Requirement) -> bool:
        marker = requirement.marker
        return marker is None or any(marker.evaluate({"extra": extra}) for extra in extras.get(owner, {""}))

    changed = True
    while changed:  # an extra asked for (`foo[bar]`) brings in foo's `extra == "bar"` requirements
        changed = False
        for owner, requirements in parsed.items():
            for requirement in requirements:
                target = extras.setdefault(normalise(requirement.name), {""})
                if requirement.extras and applies(owner, requirement) and not requirement.extras <= target:
                    target |= requirement.extras
                    changed = True
    return tuple(
        (f"{distributions[owner].metadata['Name']} {distributions[owner].version}", requirement)
        for owner, requirements in parsed.items()
        for requirement in requirements
        if applies(owner, requirement)
    )


def forced_by(package: str, fixed: str | None, requirements: Iterable[tuple[str, Requirement]]) -> list[str]:
    """The installed distributions whose requirement on the package excludes the fixed release."""
    if fixed is None:
        return []
    return [
        f"{owner} requires {requirement.name}{requirement.specifier}"
        for owner, requirement in requirements
        if normalise(requirement.name) == package
        and not requirement.specifier.contains(Version(fixed), prereleases=True)
    ]


def check_installed(pins: dict[str, str]) -> None:
    """The requirements are read from the virtualenv: it must hold exactly the pins."""
    wrong = []
    for name, pin in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "nothing"
        if installed != pin:
            wrong.append(f"{name}: {installed} installed, {pin} pinned")
    if wrong:
        raise AuditError(f"the virtualenv is not at constraints.txt (make setup): {'; '.join(wrong[:5])}")


# --- Exceptions -------------------------------------------------------------------------------------------------


def load_exceptions(path: Path = EXCEPTIONS) -> list[dict]:
    with path.open("rb") as f:
        return tomli.load(f).get("exception", [])


def exception_problems(entry: dict, pins: dict[str, str]) -> list[str]:
    """What is wrong with one [[exception]] table (nothing: [])."""
    found = [f"missing or empty {field}" for field in FIELDS if str(entry.get(field) or "").strip() == ""]
    found += [f"unknown field {field}" for field in entry if field not in FIELDS]
    if found:
        return found
    if not ID_PATTERN.match(str(entry["id"])):
        found.append(f"id {entry['id']!r} is not a GHSA, PYSEC or CVE id")
    pinned = pins.get(normalise(entry["package"]))
    if pinned is None:
        found.append(f"{entry['package']} is not pinned in constraints.txt")
    elif pinned != entry["version"]:
        found.append(f"{entry['package']} is pinned at {pinned}, not {entry['version']}: review the exception")
    if len(str(entry["reason"]).split()) < MIN_REASON_WORDS:
        found.append("the reason is too short to say why the advisory does not reach us")
    if not isinstance(entry["review"], dt.date) or isinstance(entry["review"], dt.datetime):
        found.append(f"review {entry['review']!r} is not a date (write it unquoted: 2027-03-01)")
    return found


def accepting(finding: Finding, exceptions: list[dict]) -> dict | None:
    """The exception that accepts a finding: same package and pinned version, its id or one of its aliases."""
    for entry in exceptions:
        if (
            normalise(str(entry.get("package", ""))) == finding.package
            and entry.get("version") == finding.version
            and entry.get("id") in finding.ids
        ):
            return entry
    return None


# --- The audit --------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    findings: list[tuple[Finding, list[str], dict | None]]  # (finding, forced by, accepting exception)
    withdrawn: list[Finding]
    bad_exceptions: list[str]
    stale: list[dict]

    @property
    def new(self) -> list[Finding]:
        return [finding for finding, _, exception in self.findings if exception is None]

    @property
    def passed(self) -> bool:
        return not self.new and not self.bad_exceptions


def audit(
    pins: dict[str, str],
    exceptions: list[dict],
    root: Path = ADVISORIES,
    newer: Iterable[Finding] = (),
    requirements: Callable[[], Iterable[tuple[str, Requirement]]] = installed_requirements,
) -> Result:
    """Every pin against the snapshot (plus the newer source's findings), each finding with the distributions
    that forbid its fixed release (read only when there is a finding: slow) and the exception accepting it."""
    found = []
    for name, pin in sorted(pins.items()):
        found += snapshot_findings(name, pin, package_advisories(name, root))
    findings = merge([f for f in found if not f.withdrawn], [f for f in newer if not f.withdrawn])
    applicable = list(requirements()) if findings else []
    judged = [
        (finding, forced_by(finding.package, finding.fixed, applicable), accepting(finding, exceptions))
        for finding in findings
    ]
    bad = [
        f"{entry.get('id')} ({entry.get('package')}): {problem}"
        for entry in exceptions
        for problem in exception_problems(entry, pins)
    ]
    used = [id(exception) for _, _, exception in judged if exception is not None]
    stale = [entry for entry in exceptions if id(entry) not in used]
    return Result(judged, [f for f in found if f.withdrawn], bad, stale)


def snapshot_info(root: Path = ADVISORIES) -> dict:
    """snapshot.toml's commit and date, and how many advisories of how many packages are vendored."""
    path = root / "snapshot.toml"
    if not path.exists():
        raise AuditError(f"no advisory data: {path} is missing (make audit-data)")
    folders = [folder for folder in (root / "vulns").iterdir() if folder.is_dir()]
    advisories = sum(len(list(folder.glob("*.yaml"))) for folder in folders)
    return {**tomli.loads(path.read_text()), "advisories": advisories, "packages": len(folders)}


def npm_count(path: Path = PACKAGE_LOCK) -> int:
    return sum(1 for key in json.loads(path.read_text()).get("packages", {}) if key)


def report(result: Result, info: dict, pins: dict[str, str], newer_line: str, today: dt.date) -> list[str]:
    own = own_dependencies()
    lines = [
        f"Dependency audit of the {len(pins)} exact pins of constraints.txt (ijm-bot's {len(own)} own dependencies"
        " among them)",
        f"data: PyPA advisory database (OSV), snapshot of {info['date']} (commit {info['commit'][:12]}), PyPI only;"
        f" advisories published after {info['date']} are not in it; {info['advisories']} advisories of"
        f" {info['packages']} pinned packages in {ADVISORIES.relative_to(ROOT)}",
        newer_line,
        f"npm: the {npm_count()} entries of package-lock.json are not covered by this data and are not audited",
    ]
    lines.append(f"findings: {len(result.findings)}" + (":" if result.findings else ""))
    for finding, forced, exception in result.findings:
        fixed = f"fixed in {finding.fixed}" if finding.fixed else "no fixed release"
        if finding.fixed is None:
            pin_note = "no release to move to"
        elif forced:
            pin_note = "pin forced: " + "; ".join(forced)
        else:
            pin_note = "not forced: the fixed release is allowed by every installed distribution"
        if exception is None:
            status = "NEW: fix the pin or add an exception to security/audit-exceptions.toml"
        else:
            status = f"excepted (review {exception['review']})"
        lines.append(
            f"  {finding.id} {finding.package} {finding.version}, {fixed} [{finding.source}]\n"
            f"      {finding.summary}\n      {pin_note}\n      {status}"
        )
    for finding in result.withdrawn:
        lines.append(f"  ({finding.id} {finding.package} {finding.version}: withdrawn advisory, not a finding)")
    for problem in result.bad_exceptions:
        lines.append(f"BAD EXCEPTION {problem}")
    for entry in result.stale:
        lines.append(
            f"stale exception: {entry.get('id')} ({entry.get('package')} {entry.get('version')}) matches no finding"
            " of this run; remove it unless it is for the newer source"
        )
    for _, _, exception in result.findings:
        if exception is not None and isinstance(exception.get("review"), dt.date) and exception["review"] <= today:
            lines.append(f"review due ({exception['review']}): {exception['id']} in {exception['package']}")
    excepted = len(result.findings) - len(result.new)
    verdict = "PASS" if result.passed else "FAIL"
    lines.append(f"{verdict}: {len(result.findings)} findings, {excepted} excepted, {len(result.new)} new")
    return lines


# --- Refreshing the vendored subset -----------------------------------------------------------------------------

README_TEXT = """\
# The PyPA advisory database, for the pinned packages only

The advisories (OSV format, one YAML file each) of the packages that constraints.txt pins, copied from a snapshot
of the Python Packaging Authority's advisory database (pypa/advisory-database) of {date}, commit
{commit}. Advisories published after that date are not here, and the database
covers PyPI packages only (not npm). Licence: LICENSE (Creative Commons Attribution 4.0). Written by
`make audit-data SNAPSHOT=<dir> COMMIT=<commit> DATE=<YYYY-MM-DD>` (scripts/audit.py): do not edit by hand.
"""


def refresh(snapshot: Path, commit: str, date: dt.date, pins: dict[str, str], root: Path = ADVISORIES) -> int:
    """Replace the vendored subset with the pinned packages' folders of a full snapshot; the number of files."""
    if not (snapshot / "vulns").is_dir() or not (snapshot / "LICENSE").is_file():
        raise AuditError(f"{snapshot} is not a snapshot of the PyPA advisory database (no vulns/ or LICENSE)")
    if snapshot.resolve() == root.resolve():
        raise AuditError(f"{snapshot} is the vendored copy itself; give the full snapshot")
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise AuditError(f"{commit!r} is not a 40-digit commit id")
    shutil.rmtree(root / "vulns", ignore_errors=True)
    copied = 0
    for folder in sorted((snapshot / "vulns").iterdir()):
        if folder.is_dir() and normalise(folder.name) in pins:
            target = root / "vulns" / folder.name
            target.mkdir(parents=True)
            for path in sorted(folder.glob("*.yaml")):
                shutil.copyfile(path, target / path.name)
                copied += 1
    shutil.copyfile(snapshot / "LICENSE", root / "LICENSE")
    (root / "README.md").write_text(README_TEXT.format(commit=commit, date=date.isoformat()))
    (root / "snapshot.toml").write_text(f'commit = "{commit}"\ndate = {date.isoformat()}\n')
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--snapshot-only", action="store_true", help="do not ask PyPI (make test)")
    parser.add_argument("--refresh-from", type=Path, metavar="SNAPSHOT", help="copy the pinned packages' advisories")
    parser.add_argument("--commit", help="the snapshot's commit (with --refresh-from)")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="the snapshot's date (with --refresh-from)")
    args = parser.parse_args(argv)
    pins = pinned_versions()
    try:
        if args.refresh_from:
            if not args.commit or not args.date:
                parser.error("--refresh-from needs --commit and --date")
            copied = refresh(args.refresh_from, args.commit, args.date, pins)
            print(f"{copied} advisories copied into {ADVISORIES.relative_to(ROOT)}")
            return 0
        info = snapshot_info()
        unpinned = own_dependencies() - set(pins)
        if unpinned:
            raise AuditError(f"ijm-bot depends on {sorted(unpinned)}, not pinned in constraints.txt: not audited")
        check_installed(pins)
        if args.snapshot_only:
            newer, newer_line = [], "newer source: not asked (--snapshot-only), snapshot only"
        else:
            newer, newer_line = pypi_findings(pins)
        result = audit(pins, load_exceptions(), newer=newer)
    except AuditError as error:
        print(f"{'ADVISORIES NOT REFRESHED' if args.refresh_from else 'AUDIT NOT DONE'}: {error}", file=sys.stderr)
        return 1
    print("\n".join(report(result, info, pins, newer_line, dt.date.today())))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
