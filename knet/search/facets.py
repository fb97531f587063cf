"""Facets: how many of a search's results fall under each municipality, type, language, tag, licence and age.

The counts are worked out over every result the viewer may see, not only the page shown. A field's
postings are read once per version of the index into two arrays (document number, term number), so
counting a search's results is one ``bincount`` per field, whatever the number of tags.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from knet.search.analysis import fold

#: The fields counted, by facet name (``tag`` counts the ``tags`` field).
FIELDS = {"home": "home", "type": "type", "language": "language", "tag": "tags", "licence": "licence"}
#: How far back each age bracket reaches, in days; "older" is what is older than the last.
AGES = {"week": 7, "month": 31, "year": 365}
OLDER = "older"
#: Tags shown (the most frequent among the results).
TOP_TAGS = 12


@dataclass(frozen=True)
class Count:
    value: str
    count: int


@dataclass(frozen=True)
class Facets:
    """Counts by facet name: values best first. Ages are cumulative ("week" ⊂ "month" ⊂ "year")."""

    counts: dict[str, list[Count]] = field(default_factory=dict)

    def get(self, name: str) -> list[Count]:
        return self.counts.get(name, [])

    def as_json(self) -> dict:
        return {name: [{"value": c.value, "count": c.count} for c in values] for name, values in self.counts.items()}

    @classmethod
    def from_json(cls, document) -> Facets:
        """Facets as a peer sent them; anything not shaped as counts is left out."""
        counts: dict[str, list[Count]] = {}
        if isinstance(document, dict):
            for name in (*FIELDS, "updated"):
                values = document.get(name)
                if isinstance(values, list):
                    counts[name] = [Count(str(v["value"])[:200], v["count"]) for v in values[:100]
                                    if isinstance(v, dict) and isinstance(v.get("value"), str)
                                    and isinstance(v.get("count"), int) and not isinstance(v.get("count"), bool)
                                    and 0 < v["count"] < 2**40]
        return cls(counts)


def merged(all_facets: list[Facets]) -> Facets:
    """The sum of several sources' counts (sources hold different objects, so counts add up)."""
    sums: dict[str, dict[str, int]] = {}
    for facets in all_facets:
        for name, values in facets.counts.items():
            into = sums.setdefault(name, {})
            for c in values:
                into[c.value] = into.get(c.value, 0) + c.count
    return Facets({name: _ordered(name, totals) for name, totals in sums.items()})


def _ordered(name: str, totals: dict[str, int]) -> list[Count]:
    if name == "updated":
        return [Count(value, totals[value]) for value in (*AGES, OLDER) if totals.get(value)]
    best = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [Count(value, count) for value, count in best[:TOP_TAGS if name == "tag" else None]]


class Table:
    """One version of the index, arranged for counting: per field, each posting's document and term."""

    def __init__(self, searcher, today: date):
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.today = today
        self.fields: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
        for name, field_name in FIELDS.items():
            if field_name in searcher.schema:
                self.fields[name] = _postings(searcher, field_name)
        self.days = _days(reader, self.size) if reader.has_column("updated") else None

    def count(self, searcher, matched: np.ndarray) -> Facets:
        """The facets of the documents marked in ``matched`` (a boolean array by document number);
        ``searcher`` is on the same version of the index, for the tags' spellings."""
        counts: dict[str, list[Count]] = {}
        for name, (terms, docs, term_numbers) in self.fields.items():
            per_term = np.bincount(term_numbers[matched[docs]], minlength=len(terms))
            totals = {terms[i]: int(per_term[i]) for i in np.flatnonzero(per_term)}
            counts[name] = _ordered(name, totals)
        if "tag" in counts:
            counts["tag"] = [Count(self._spelling(searcher, matched, c.value), c.count) for c in counts["tag"]]
        if self.days is not None:
            counts["updated"] = self._ages(matched)
        return Facets({name: values for name, values in counts.items() if values})

    def _spelling(self, searcher, matched: np.ndarray, term: str) -> str:
        """A tag as a result writes it («Ανακύκλωση»), not as the index keeps it (folded: «ανακυκλωση»)."""
        terms, docs, term_numbers = self.fields["tag"]
        holders = docs[(term_numbers == terms.index(term)) & matched[docs]]
        if holders.size:
            for tag in searcher.stored_fields(int(holders[0])).get("tags", "").split(","):
                if fold(tag.strip()) == term:
                    return tag.strip()
        return term

    def _ages(self, matched: np.ndarray) -> list[Count]:
        days = self.days[matched]
        days = days[days >= 0]  # documents without a date are in no bracket
        today = self.today.toordinal()
        totals = {age: int(np.count_nonzero(days >= today - span)) for age, span in AGES.items()}
        totals[OLDER] = int(np.count_nonzero(days < today - AGES["year"]))
        return _ordered("updated", totals)


def _postings(searcher, field_name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    reader = searcher.reader()
    terms = [term for term in reader.field_terms(field_name) if term]
    docs, numbers = [], []
    for number, term in enumerate(terms):
        ids = np.fromiter(reader.postings(field_name, term).all_ids(), dtype=np.int64)  # deletions left out
        docs.append(ids)
        numbers.append(np.full(ids.size, number, dtype=np.int64))
    if not docs:
        return terms, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return terms, np.concatenate(docs), np.concatenate(numbers)


def _days(reader, size: int) -> np.ndarray:
    """Each document's day of last update (proleptic ordinal), -1 for none."""
    days = np.full(size, -1, dtype=np.int64)
    for number, moment in enumerate(reader.column_reader("updated")):
        if isinstance(moment, datetime) and moment.year > 1:
            days[number] = moment.toordinal()
    return days


class Tables:
    """The table of the latest version of the index, made when first needed (per process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._table: Table | None = None

    def of(self, searcher) -> Table:
        key = (searcher.reader().generation(), date.today())
        with self._lock:
            if key == self._key and self._table is not None:
                return self._table
        table = Table(searcher, key[1])
        with self._lock:
            self._key, self._table = key, table
        return table


def age_range(age: str, today: date) -> tuple[date | None, date | None]:
    """The (since, until) days an age bracket stands for."""
    if age == OLDER:
        return None, today - timedelta(days=AGES["year"] + 1)
    return today - timedelta(days=AGES[age]), None
