"""The locked dependency set (requirements.lock, made by scripts/lock.sh): it pins every dependency that
pyproject.toml names, within the ranges given there; the environment under test was installed from it; and
pip-audit finds no known vulnerability in it (PyPI's advisories), while it does find one in an old pin."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
RELOCK = "run `bash scripts/lock.sh` and commit requirements.lock"

# Nothing here depends on the database.
pytestmark = pytest.mark.sqlite_only


def locked() -> dict[str, str]:
    """The lock's pins by canonical name."""
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            match = PIN.match(line.strip())
            assert match, f"requirements.lock: {line!r} is not an exact pin (name==version)"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def audit(lock: Path) -> tuple[int, list[str], str]:
    """Run pip-audit over a lock file as CI does: its exit status, "name version: ID (fixed in …)" for each
    vulnerability found, and what it said on stderr. --strict: a pin it cannot look up fails the audit."""
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps", "--strict", "--progress-spinner", "off",
         "--vulnerability-service", "pypi", "--format", "json", "-r", str(lock)],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    found = []
    if result.stdout.strip().startswith("{"):
        for dependency in json.loads(result.stdout)["dependencies"]:
            for vulnerability in dependency.get("vulns", []):
                fixed = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed release"
                found.append(f"{dependency['name']} {dependency['version']}: {vulnerability['id']} (fixed in {fixed})")
    return result.returncode, found, result.stderr.strip()


def test_every_dependency_of_pyproject_is_pinned_within_its_range():
    pins = locked()
    problems = []
    for requirement in declared():
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside pyproject.toml's {requirement.specifier}")
    assert not problems, "; ".join(problems) + f": {RELOCK}."


def test_the_environment_under_test_holds_the_locked_versions():
    """scripts/install.sh installs with the lock as constraints: what runs is what was locked (and audited)."""
    different = []
    for name, version in locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            different.append(f"{name}: {installed} installed, {version} locked")
    assert not different, ("The environment differs from requirements.lock (install with `bash scripts/install.sh`): "
                           + "; ".join(different))


@pytest.mark.dependency_audit
def test_the_locked_dependencies_have_no_known_vulnerability():
    status, found, said = audit(LOCK)
    assert not found, ("Known vulnerabilities in requirements.lock; raise these pins (pyproject.toml if its range "
                       f"excludes the fix), then {RELOCK}:\n  " + "\n  ".join(found))
    assert status == 0, f"pip-audit could not audit requirements.lock (exit status {status}): {said}"


@pytest.mark.dependency_audit
def test_the_audit_fails_on_a_pin_with_a_known_vulnerability(tmp_path):
    old = tmp_path / "old.lock"
    old.write_text("jinja2==2.10\n", encoding="utf-8")
    status, found, said = audit(old)
    assert status == 1, (status, said)
    # Jinja 2.10's sandbox escape (CVE-2019-10906), among others.
    assert any(line.startswith("jinja2 2.10: ") for line in found), (found, said)
