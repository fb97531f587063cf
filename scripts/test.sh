#!/usr/bin/env bash
# Install everything the tests need and run the whole suite on SQLite and, at the same time, on PostgreSQL
# without the browser tests, the XSS-corpus page walks and the tests marked sqlite_only (see below).
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

# Two lines of work go side by side (a machine has at least two cores), each with a temporary directory of
# its own: in the background, the suite on PostgreSQL (without the browser tests, the XSS-corpus page walks and
# the tests marked sqlite_only) and then half of the browser test files on SQLite, into a log shown at the end;
# in the foreground, the rest of the suite on SQLite, showing its progress as it goes, then the other half of
# the browser test files. The two suites take about as long, so both lines end at about the same time.
work="$(mktemp -d)"
trap 'kill "${background:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# pytest's exit status 5 means that the options given (-k …) selected none of a run's tests: not a failure.
run() { .venv/bin/python -m pytest --durations=20 -p no:cacheprovider "$@" || { status=$?; [ "$status" = 5 ] || return "$status"; }; }
(
  postgres_status=0 browser_status=0
  echo "== Test suite on PostgreSQL (without the browser tests, the XSS-corpus page walks and the SQLite-only tests)"
  run --database postgresql -m "not browser and not corpus_pages and not sqlite_only" --basetemp "$work/postgresql" \
    "$@" || postgres_status=$?
  echo "== Browser tests (Chromium) on SQLite, second half of the files"
  run --database sqlite -m browser --files-share 2/2 --basetemp "$work/browser2" "$@" || browser_status=$?
  echo "$postgres_status $browser_status" >"$work/background.status"
) >"$work/background.log" 2>&1 &
background=$!
echo "== Test suite on SQLite (without the browser tests, half of which follow it and half the PostgreSQL run)"
sqlite_status=0 browser_status=0
# (Not the dependency audit, which asks PyPI: bash scripts/audit.sh.)
run --database sqlite -m "not browser and not dependency_audit" --basetemp "$work/sqlite" "$@" || sqlite_status=$?
echo "== Browser tests (Chromium) on SQLite, first half of the files"
run --database sqlite -m browser --files-share 1/2 --basetemp "$work/browser1" "$@" || browser_status=$?
wait "$background" || true
cat "$work/background.log"
read -r postgres_status background_browser_status <"$work/background.status" ||
  { postgres_status=1 background_browser_status=1; }
[ "$browser_status" != 0 ] || browser_status=$background_browser_status
if [ "$sqlite_status" != 0 ] || [ "$postgres_status" != 0 ] || [ "$browser_status" != 0 ]; then
  echo "Tests failed: exit status $sqlite_status on SQLite, $postgres_status on PostgreSQL, $browser_status in the" \
       "browser tests." >&2
  exit 1
fi
