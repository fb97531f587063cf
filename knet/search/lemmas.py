"""Greek word forms joined through their dictionary lemma, where a suffix stemmer cannot join them.

Snowball's Greek stemmer removes endings; it cannot see that «έλαβε», «λήφθηκε» and «λαμβάνω»,
or «υπέβαλε» and «υποβάλλει», are one verb (augments, aspect stems, irregular forms). Simplemma
(MIT licence) ships a Greek form → lemma dictionary of about 250,000 forms. From it this module
derives one table: folded form → the stem of its folded lemma, kept only where that differs from
the form's own stem (about 65,000 entries, a few megabytes). Documents and queries go through the
same table, so a page that says «ελήφθη» is found by «λαμβάνω» and «έλαβε».

A form of a noun in -ση keeps its own stem when that is a lemma's: «βεβαιώσεις» is the plural of
«βεβαίωση» as well as a form of the verb «βεβαιώνω», and in municipal text it is mostly the noun. Where a folded form belongs to several lemmas (accents told them apart, or two verbs share
a form), the lemma with the most forms wins, and a lemma that is itself a form of another lemma is
followed to that one.

The table is built once per machine and analysis version, in a child process (about 4 s), and
kept in the user's cache directory. Another simplemma or PyStemmer version can change stems:
``ANALYSIS_VERSION`` in :mod:`knet.search.analysis` names both, and an index built under another
version is rebuilt.
"""
from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

logger = logging.getLogger(__name__)

#: How many lemma-of-a-lemma links to follow (the dictionary has a few short chains).
_MAX_CHAIN = 3
#: Shorter forms keep their own stems.
_SHORTEST = 3
#: Endings of nouns in -ση («βεβαίωση, βεβαιώσεις, βεβαιώσεων»), which verb forms share.
_NOUN_IN_SI = ("ση", "σησ", "σεισ", "σεων")
_table: dict[str, str] | None = None
_builder: subprocess.Popen | None = None
_lock = threading.Lock()


def cache_file() -> Path:
    """Where the built table is kept between processes: the user's cache directory, one file per
    analysis version (``$XDG_CACHE_HOME/knet``, else ``~/.cache/knet``; ``KNET_CACHE_DIR`` overrides)."""
    from knet.search.analysis import ANALYSIS_VERSION, __file__ as analysis_file

    directory = os.environ.get("KNET_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "knet"
    # The rules' source is part of the name too, so an edited rule never meets a stale table.
    rules = hashlib.sha256(Path(__file__).read_bytes() + Path(analysis_file).read_bytes()).hexdigest()[:12]
    name = f"greek-lemmas-{re.sub(r'[^0-9A-Za-z.-]+', '_', ANALYSIS_VERSION)}-{rules}.marshal"
    return Path(directory) / name


def prepare() -> None:
    """Start building the table in the background unless a cached one exists (a node calls this
    as it starts, so its first search does not wait)."""
    global _builder
    with _lock:
        if _table is None and _builder is None and not cache_file().is_file():
            _builder = _start_builder()


def _start_builder() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from knet.search.lemmas import main; main()"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def lemma_stems() -> dict[str, str]:
    """The form → lemma-stem table: from the cache file, else built in a child process and cached.

    The child process reads the whole dictionary, which costs some 150 MB for a moment that a
    long-running server would otherwise keep (freed Python memory is seldom given back); this
    process receives only the finished table (about 10 MB)."""
    global _table
    if _table is None:
        prepare()
        with _lock:
            if _table is None:
                _table = _load_cached() or _receive_built()
    return _table


def _load_cached() -> dict[str, str] | None:
    try:
        table = marshal.loads(cache_file().read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return table if isinstance(table, dict) else None


def _receive_built() -> dict[str, str]:
    global _builder
    builder = _builder or _start_builder()
    _builder = None
    started = time.perf_counter()
    output, errors = builder.communicate()
    if builder.returncode != 0:
        raise RuntimeError("could not build the Greek lemma table: "
                           + errors.decode(errors="replace").strip()[-2000:])
    table = marshal.loads(output)
    logger.info("Built the Greek lemma table: %d forms (waited %.1f s)", len(table), time.perf_counter() - started)
    _save(output)
    return table


def _save(data: bytes) -> None:
    """Keep the table for the next process; a cache that cannot be written only costs time."""
    target = cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except OSError as exc:
        logger.info("Could not cache the Greek lemma table in %s: %s", target, exc)


def build() -> dict[str, str]:
    """Derive the table from simplemma's Greek dictionary (in the child process)."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    from knet.search.analysis import fold, greek_stem

    lemmas_of: dict[str, set[str]] = defaultdict(set)
    for form, lemma in DefaultDictionaryFactory(cache_max_size=0).get_dictionary("el").items():
        lemmas_of[fold(form)].add(fold(lemma))
    forms_per_lemma = Counter(lemma for lemmas in lemmas_of.values() for lemma in lemmas)

    def lemma(form: str) -> str:
        for _ in range(_MAX_CHAIN):
            candidates = lemmas_of.get(form)
            if not candidates:
                break
            best = max(sorted(candidates), key=forms_per_lemma.__getitem__)
            if best == form:
                break
            form = best
        return form

    lemma_stems = {greek_stem(lemma) for lemma in forms_per_lemma}
    table = {}
    for form in lemmas_of:
        if len(form) < _SHORTEST:
            continue  # «α» (a list's first item, or «αντί» cut short) is not worth a guess
        own = greek_stem(form)
        if form.endswith(_NOUN_IN_SI) and own in lemma_stems:
            continue  # a noun in -ση as well as a verb form («βεβαιώσεις»): the noun's stem stays
        joined = greek_stem(lemma(form))
        if joined != own:
            table[form] = joined
    return table


def main() -> None:
    """The child process: write the built table to standard output."""
    sys.stdout.buffer.write(marshal.dumps(build()))
