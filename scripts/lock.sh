#!/usr/bin/env bash
# Write requirements.lock: the exact version of every runtime dependency of knet, transitively, as a clean
# resolution of pyproject.toml's `dependencies` for Python 3.11 on Linux gives them today. scripts/install.sh
# installs with it as constraints, so production and CI get exactly these versions, and the dependency audit
# (tests/test_dependencies.py) checks them. Run it after changing the dependencies, or to take newer releases:
#   bash scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "The lock is made with Python 3.11 (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A throwaway environment: nothing installed anywhere else shapes the resolution.
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check --dry-run --ignore-installed \
  --report "$work/report.json" .
"$work/venv/bin/python" - "$work/report.json" >requirements.lock <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
pins = sorted((re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(), item["metadata"]["version"])
              for item in report["install"] if item["metadata"]["name"].lower() != "knet")
print("# knet's runtime dependencies, every one pinned (Python 3.11, Linux). Made by scripts/lock.sh from")
print("# pyproject.toml: do not edit by hand; run `bash scripts/lock.sh` after changing the dependencies.")
for name, version in pins:
    print(f"{name}=={version}")
PY
# The test tools must install beside the locked versions (scripts/install.sh --test uses the lock too).
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check --dry-run --ignore-installed \
  -c requirements.lock ".[test]"
echo "Wrote requirements.lock ($(grep -c '==' requirements.lock) packages)."
