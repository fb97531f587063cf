#!/usr/bin/env bash
# Audit requirements.lock with pip-audit against PyPI's advisories: exit status 1, naming each vulnerable pin
# and the release that fixes it, on a known vulnerability, and also when a pin cannot be looked up.
# Needs PyPI's JSON API for releases (pypi.org/pypi/NAME/VERSION/json). Usage: bash scripts/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q -p no:cacheprovider -m dependency_audit tests/test_dependencies.py "$@"
