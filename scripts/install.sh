#!/usr/bin/env bash
# Install knet into ./.venv with Python 3.11+ and compile its Greek and English catalogues.
# Usage: bash scripts/install.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "knet needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  else
    echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' first." >&2
    exit 1
  fi
fi

# python-ldap has no Linux wheel: pip compiles it against OpenLDAP's and SASL's headers.
build_needs=()
[ -f /usr/include/ldap.h ] || build_needs+=(libldap2-dev)
[ -f /usr/include/sasl/sasl.h ] || build_needs+=(libsasl2-dev)
command -v gcc >/dev/null || build_needs+=(gcc)
[ -f "$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] || build_needs+=(python3-dev)
if [ ${#build_needs[@]} -gt 0 ] && ! .venv/bin/python -c 'import ldap' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${build_needs[@]}"
  else
    echo "Building python-ldap needs: sudo apt-get install --no-install-recommends ${build_needs[*]}" >&2
    exit 1
  fi
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# requirements.lock pins every runtime dependency (scripts/lock.sh makes it): production and CI get those versions.
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e ".${extras}"
PATH="$PWD/.venv/bin:$PATH" bash scripts/i18n.sh compile
