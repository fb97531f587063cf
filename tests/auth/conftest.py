"""Real OpenLDAP directories for the sign-in tests: athens and thessaloniki, each started once per session."""
from __future__ import annotations

import pytest

from tests.directories import SlapdServer, athens, missing_tools, thessaloniki

_running: list[SlapdServer] = []


def _start(build) -> SlapdServer:
    missing = missing_tools()
    if missing:
        # Fail, never skip: a skipped LDAP test would let sign-in break unnoticed.
        pytest.fail(f"The LDAP tests need OpenLDAP ({', '.join(missing)} missing): "
                    "apt-get install slapd ldap-utils (scripts/test.sh does it as root).", pytrace=False)
    server = build().start()
    _running.append(server)
    return server


@pytest.fixture(scope="session")
def athens_directory():
    """dc=athens,dc=gr: service account, memberOf, nested departments, StartTLS (see tests/directories.py)."""
    server = _start(athens)
    yield server
    _running.remove(server)
    server.stop()


@pytest.fixture(scope="session")
def thessaloniki_directory():
    """dc=thessaloniki,dc=gr: anonymous search, no memberOf, sign-in by uid or mail (see tests/directories.py)."""
    server = _start(thessaloniki)
    yield server
    _running.remove(server)
    server.stop()


@pytest.fixture(autouse=True)
def restore_directories():
    """After each test, every directory is up again and add_member/remove_member are undone."""
    yield
    for server in _running:
        server.restore()
