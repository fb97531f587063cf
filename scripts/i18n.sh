#!/usr/bin/env bash
# Translations of knet's user interface (Flask-Babel; Greek by default, English second).
#
#   bash scripts/i18n.sh extract   # source -> knet/translations/messages.pot -> el, en .po files
#   bash scripts/i18n.sh compile   # .po -> .mo (the .mo files are built, never committed)
#
# pybabel is taken from the active environment: $PYBABEL if set, else `$PYTHON -m
# babel.messages.frontend` if $PYTHON is set, else the active virtualenv, else pybabel on
# PATH, else the project's .venv, else `python3 -m babel.messages.frontend`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRANSLATIONS="knet/translations"
POT="$TRANSLATIONS/messages.pot"
LOCALES=(el en)
# Keywords beyond pybabel's defaults (_, gettext, ngettext, pgettext, ...).
# tests/knet/test_i18n.py reads this line to extract exactly the same way.
KEYWORDS=(-k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2)

cd "$ROOT"

find_pybabel() {
    if [[ -n "${PYBABEL:-}" ]]; then
        read -r -a PYBABEL_CMD <<<"$PYBABEL"
    elif [[ -n "${PYTHON:-}" ]]; then
        PYBABEL_CMD=("$PYTHON" -m babel.messages.frontend)
    elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/pybabel" ]]; then
        PYBABEL_CMD=("$VIRTUAL_ENV/bin/pybabel")
    elif command -v pybabel >/dev/null 2>&1; then
        PYBABEL_CMD=(pybabel)
    elif [[ -x "$ROOT/.venv/bin/pybabel" ]]; then
        PYBABEL_CMD=("$ROOT/.venv/bin/pybabel")
    elif command -v python3 >/dev/null 2>&1 && python3 -c "import babel.messages.frontend" 2>/dev/null; then
        PYBABEL_CMD=(python3 -m babel.messages.frontend)
    elif command -v python >/dev/null 2>&1 && python -c "import babel.messages.frontend" 2>/dev/null; then
        PYBABEL_CMD=(python -m babel.messages.frontend)
    else
        echo "i18n.sh: cannot find pybabel; activate the environment where knet is installed." >&2
        exit 127
    fi
}

run_pybabel() {
    "${PYBABEL_CMD[@]}" "$@"
}

extract() {
    run_pybabel extract -F babel.cfg "${KEYWORDS[@]}" --add-comments=TRANSLATORS: \
        --project=knet --copyright-holder="knet contributors" -o "$POT" .
    for locale in "${LOCALES[@]}"; do
        if [[ -f "$TRANSLATIONS/$locale/LC_MESSAGES/messages.po" ]]; then
            run_pybabel update -i "$POT" -d "$TRANSLATIONS" -l "$locale" --ignore-obsolete
        else
            run_pybabel init -i "$POT" -d "$TRANSLATIONS" -l "$locale"
        fi
    done
    echo "Now translate the new and changed (fuzzy) messages in $TRANSLATIONS/*/LC_MESSAGES/messages.po," \
         "then run: bash scripts/i18n.sh compile"
}

compile() {
    local locale po mo status=0
    for locale in "${LOCALES[@]}"; do
        po="$TRANSLATIONS/$locale/LC_MESSAGES/messages.po"
        if [[ ! -f "$po" ]]; then
            echo "i18n.sh: $po is missing; run: bash scripts/i18n.sh extract" >&2
            status=1
        elif grep -q '^#,.*fuzzy' "$po"; then
            # Fuzzy messages are left out of the .mo (the English text shows instead).
            echo "i18n.sh: warning: $po has fuzzy messages; review them and remove the 'fuzzy' flag." >&2
        fi
        # Built afresh each time, so a stale .mo never hides a catalogue that failed to compile.
        rm -f "$TRANSLATIONS/$locale/LC_MESSAGES/messages.mo"
    done
    [[ $status -eq 0 ]] || exit 1
    # pybabel compile exits non-zero when a catalogue has errors (e.g. mismatched placeholders).
    run_pybabel compile -d "$TRANSLATIONS" --statistics
    for locale in "${LOCALES[@]}"; do
        mo="$TRANSLATIONS/$locale/LC_MESSAGES/messages.mo"
        if [[ ! -f "$mo" ]]; then
            # pybabel skips, without failing, a catalogue whose header is marked fuzzy.
            echo "i18n.sh: $mo was not built; is the catalogue header marked fuzzy?" >&2
            status=1
        fi
    done
    return $status
}

case "${1:-}" in
    extract) find_pybabel; extract ;;
    compile) find_pybabel; compile ;;
    *)
        echo "usage: bash scripts/i18n.sh extract|compile" >&2
        exit 2
        ;;
esac
