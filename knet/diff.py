"""Differences between two revisions: line by line, with the changed words inside changed lines."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    """A run of text within a line: kept ('equal'), 'insert'ed or 'delete'd."""

    kind: str
    text: str


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: 'equal', 'insert', 'delete', or 'change' (old → new, with word segments)."""

    kind: str
    old_number: int | None
    new_number: int | None
    segments: list[Segment] = field(default_factory=list)


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """Compare two texts; unchanged lines are kept so a reader has context."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    result: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result += [DiffLine("equal", i + 1, j + 1, [Segment("equal", old_lines[i])])
                       for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(olds), len(news))):
            i = olds[k] if k < len(olds) else None
            j = news[k] if k < len(news) else None
            if i is not None and j is not None:
                result.append(DiffLine("change", i + 1, j + 1, diff_words(old_lines[i], new_lines[j])))
            elif i is not None:
                result.append(DiffLine("delete", i + 1, None, [Segment("delete", old_lines[i])]))
            else:
                result.append(DiffLine("insert", None, j + 1, [Segment("insert", new_lines[j])]))
    return result


def diff_words(old: str, new: str) -> list[Segment]:
    """The words removed from and added to one line."""
    old_words, new_words = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("equal", "".join(old_words[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(old_words[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(new_words[j1:j2])))
    return segments


def unified(old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff, for API clients and tools."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))


def has_changes(lines: list[DiffLine]) -> bool:
    return any(line.kind != "equal" for line in lines)
