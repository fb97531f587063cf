#!/usr/bin/env bash
# Install everything the tests need and run the whole suite on SQLite and, at the same time, on PostgreSQL
# without the browser tests and the XSS-corpus page walks (what a page renders is the same on both databases).
# As root it installs the Debian packages itself; otherwise it names the ones that are missing.
# Extra arguments go to pytest, e.g. -x or -k wiki.
set -euo pipefail
cd "$(dirname "$0")/.."

# slapd, ldap-utils, openssl: the throwaway directories of tests/directories.py (a system slapd the package may
# start does not matter: the tests' own listen on free ports); libldap2-dev, libsasl2-dev, gcc, python3-dev: to
# build python-ldap.
debian_packages=(postgresql chromium fonts-dejavu-core wrk slapd ldap-utils openssl libldap2-dev libsasl2-dev gcc
                 python3-dev)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "The tests need these Debian packages; install them first:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

bash scripts/install.sh --test

# The two runs go side by side (a machine has at least two cores; together they take about as long as the
# longer one): PostgreSQL in the background into a log, shown after SQLite, which shows its progress as it goes.
# Each has a temporary directory of its own.
work="$(mktemp -d)"
trap 'kill "${postgres_run:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
.venv/bin/python -m pytest --database postgresql -m "not browser and not corpus_pages and not sqlite_only" --durations=20 \
  --basetemp "$work/postgresql" -p no:cacheprovider "$@" >"$work/postgresql.log" 2>&1 &
postgres_run=$!
echo "== Test suite on SQLite"
sqlite_status=0
.venv/bin/python -m pytest --database sqlite --durations=20 --basetemp "$work/sqlite" "$@" || sqlite_status=$?
echo "== Test suite on PostgreSQL (without the browser tests, the XSS-corpus page walks and the SQLite-only tests)"
postgres_status=0
wait "$postgres_run" || postgres_status=$?
cat "$work/postgresql.log"
if [ "$sqlite_status" != 0 ] || [ "$postgres_status" != 0 ]; then
  echo "Tests failed: SQLite run exit status $sqlite_status, PostgreSQL run exit status $postgres_status." >&2
  exit 1
fi
