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
# Keep in step with tests/knet/test_i18n.py.
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

pybabel() {
    "${PYBABEL_CMD[@]}" "$@"
}

extract() {
    pybabel extract -F babel.cfg "${KEYWORDS[@]}" --add-comments=TRANSLATORS: \
        --project=knet --copyright-holder="knet contributors" -o "$POT" .
    for locale in "${LOCALES[@]}"; do
        if [[ -f "$TRANSLATIONS/$locale/LC_MESSAGES/messages.po" ]]; then
            pybabel update -i "$POT" -d "$TRANSLATIONS" -l "$locale" --ignore-obsolete
        else
            pybabel init -i "$POT" -d "$TRANSLATIONS" -l "$locale"
        fi
    done
    echo "Now translate the new and changed (fuzzy) messages in $TRANSLATIONS/*/LC_MESSAGES/messages.po," \
         "then run: bash scripts/i18n.sh compile"
}

compile() {
    local po missing=0
    for locale in "${LOCALES[@]}"; do
        po="$TRANSLATIONS/$locale/LC_MESSAGES/messages.po"
        if [[ ! -f "$po" ]]; then
            echo "i18n.sh: $po is missing; run: bash scripts/i18n.sh extract" >&2
            missing=1
        elif grep -q '^#,.*fuzzy' "$po"; then
            # pybabel would silently skip a catalogue whose header is fuzzy, and fuzzy
            # messages would show in English: refuse instead.
            echo "i18n.sh: $po has fuzzy entries; review them and remove the 'fuzzy' flags." >&2
            missing=1
        fi
    done
    [[ $missing -eq 0 ]] || exit 1
    # pybabel compile exits non-zero when a catalogue has errors (e.g. mismatched placeholders).
    pybabel compile -d "$TRANSLATIONS" --statistics
}

case "${1:-}" in
    extract) find_pybabel; extract ;;
    compile) find_pybabel; compile ;;
    *)
        echo "usage: bash scripts/i18n.sh extract|compile" >&2
        exit 2
        ;;
esac
