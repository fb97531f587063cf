"""Snippets: the passage of a document where the query's words are, with those words marked.

A document's words are compared with the query by their terms (so «ΔΗΜΟΥ» in the text is marked
for the query «δήμος»), looking each distinct word up once (see :func:`knet.search.analysis.term_of`).
The passage chosen is the window of :data:`SNIPPET_CHARS` characters that holds the most different
query terms, then the most matches; it starts a little before its first match and is cut at word
boundaries. The result is HTML: the text escaped, the matched words in ``<mark class="match">``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from knet.search.analysis import WORD_PATTERN, term_of

SNIPPET_CHARS = 240
#: How much text to show before the first match of the passage.
LEAD_IN = 60
#: Reading a long document stops at this many matches (it repeats the words anyway), or at
#: FEW_MATCHES once every query term has been seen; the passage is chosen among those read.
ENOUGH_MATCHES = 50
FEW_MATCHES = 8

_WORD = re.compile(WORD_PATTERN)
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Wanted:
    """What to mark: whole terms, and prefixes (of the folded word or of its term) for ``word*``."""

    terms: frozenset[str]
    prefixes: tuple[str, ...] = ()


def snippet(text: str, wanted: Wanted) -> str:
    """The best passage of ``text`` for ``wanted`` as HTML, or the opening of the text if nothing matches."""
    matches: list[tuple[int, int, str]] = []
    terms, prefixes = wanted.terms, wanted.prefixes
    unseen = set(terms) | set(prefixes)
    if terms or prefixes:
        for found in _WORD.finditer(text):  # the hot loop of a search: no call per word but the cached lookup
            folded, term = term_of(found.group())
            if term in terms:
                key = term
            elif prefixes:
                key = next((p for p in prefixes if folded.startswith(p) or (term and term.startswith(p))), None)
            else:
                continue
            if key is not None:
                matches.append((found.start(), found.end(), key))
                unseen.discard(key)
                if len(matches) >= ENOUGH_MATCHES or (not unseen and len(matches) >= FEW_MATCHES):
                    break
    if not matches:
        return escape(_lead(text))
    start, end = _best_window(matches)
    shown = [m for m in matches if m[0] >= start and m[1] <= end]
    return _render(text, start, end, shown)


def _best_window(matches: list[tuple[int, int, str]]) -> tuple[int, int]:
    best: tuple[int, int] | None = None
    best_rank = (-1, -1)
    for first, (begin, _end, _key) in enumerate(matches):
        start = max(0, begin - LEAD_IN)
        end = start + SNIPPET_CHARS
        inside = [m for m in matches[first:] if m[1] <= end]
        rank = (len({m[2] for m in inside}), len(inside))
        if rank > best_rank:
            best, best_rank = (start, end), rank
    return best


def _render(text: str, start: int, end: int, shown: list[tuple[int, int, str]]) -> str:
    # Cut at word boundaries: move the start forward to a word's beginning, the end back to a word's end.
    if start > 0:
        space = _SPACE.search(text, start, shown[0][0])
        start = space.end() if space else shown[0][0]
    if end < len(text):
        spaces = [found.start() for found in _SPACE.finditer(text, shown[-1][1], end)]
        end = spaces[-1] if spaces else shown[-1][1]
    else:
        end = len(text)
    parts = ["… " if start > 0 else ""]
    position = start
    for begin, finish, _key in shown:
        parts.append(escape(text[position:begin]))
        parts.append(f'<mark class="match">{escape(text[begin:finish])}</mark>')
        position = finish
    parts.append(escape(text[position:end]))
    parts.append(" …" if end < len(text) else "")
    return "".join(parts)


def _lead(body: str) -> str:
    if len(body) <= SNIPPET_CHARS:
        return body
    return body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
