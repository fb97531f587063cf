"""Open data: the node's public content as JSON Lines and CSV, one dataset per kind of content (knet.published),
with a DCAT-AP catalogue of them in JSON-LD that a national open-data portal can harvest.

Only public objects under an open licence are written (a public course may still reserve its rights).
An export is written into a hidden directory beside its destination and moved into place whole, so a
reader (or a harvester) finds either the previous export or the complete new one, never half of one.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l

from knet import published
from knet.config import LANGUAGES
from knet.errors import Conflict, Invalid
from knet.published import PublicKind

logger = logging.getLogger(__name__)

CATALOGUE = "catalog.jsonld"
CONTEXT = "context.jsonld"
#: The JSON-LD context the catalogue names, bundled with knet (and served at /opendata/context.jsonld).
CONTEXT_FILE = Path(__file__).parent / "static" / "opendata" / "dcat-ap.context.jsonld"
LD_MEDIA_TYPE = "application/ld+json"


@dataclass(frozen=True)
class Format:
    extension: str
    label: str
    media_type: str
    #: The EU Publications Office's name for the file type (DCAT-AP's dct:format).
    eu_file_type: str


FORMATS = (Format("jsonl", "JSON Lines", "application/jsonl", "JSON"), Format("csv", "CSV", "text/csv", "CSV"))
IANA = "http://www.iana.org/assignments/media-types/"
EU = "http://publications.europa.eu/resource/authority/"
EU_LICENCES = {"CC-BY-4.0": f"{EU}licence/CC_BY_4_0", "CC0-1.0": f"{EU}licence/CC0"}
EU_LANGUAGES = {"el": f"{EU}language/ELL", "en": f"{EU}language/ENG"}
#: A dataset is under CC BY 4.0 as a whole: CC0 records may be given out under it too.
DATASET_LICENCE = "CC-BY-4.0"
CSV_COLUMNS = ("uri", "type", "in_reply_to", "title", "text", "summary", "licence", "licence_url", "author",
               "language", "tags", "published", "updated", "url", "home")
#: Joins a record's tags in one CSV cell (no feature allows it in a tag).
TAG_SEPARATOR = ";"
CATALOGUE_TITLE = _l("Open data of %(node)s")
CATALOGUE_DESCRIPTION = _l("The public wiki pages, questions and answers and courses of %(node)s, a knet node, "
                           "under open licences.")

Progress = Callable[[int], AbstractContextManager]


@dataclass
class Dataset:
    """What was written of one kind: how many records, when the newest changed, and each file's size."""

    kind: PublicKind
    records: int = 0
    modified: str | None = None
    sizes: dict[str, int] = field(default_factory=dict)


# Records --------------------------------------------------------------------------------------------

def record(document: dict, replies: list[dict] = ()) -> dict:
    """An object as open data: its document's parts that matter to a reader, with its home node."""
    licence = published.licence_of(document)
    result = {
        "uri": document["id"], "type": document["type"], "title": document.get("name", ""),
        "text": (document.get("source") or {}).get("content", ""), "html": document.get("content", ""),
        "summary": document.get("summary", ""), "licence": licence, "licence_url": published.licence_url(licence),
        "author": published.author_of(document), "language": document.get("knet:language", ""),
        "tags": published.tags_of(document), "published": document.get("published"),
        "updated": document.get("updated") or document.get("published"), "url": document.get("url", ""),
        "home": current_app.config["KNET"]["url"],
    }
    if document.get("inReplyTo"):
        result["in_reply_to"] = document["inReplyTo"]
    if replies:
        result["answers"] = [record(reply) for reply in replies]
    return result


def records(kind: PublicKind, ids: list[int]) -> Iterator[dict | None]:
    """The open records of these objects, one for each (None for one that is not public, or not open, now)."""
    for object_id in ids:
        document = published.public_document(kind, object_id)
        if document is None or published.licence_url(published.licence_of(document)) is None:
            yield None
        else:
            yield record(document, published.public_replies(kind, object_id))


def csv_rows(item: dict) -> Iterator[list[str]]:
    """A record's CSV row, then one row for each of its answers (in_reply_to names their question)."""
    for row in (item, *item.get("answers", ())):
        values = {**row, "tags": TAG_SEPARATOR.join(row["tags"]), "in_reply_to": row.get("in_reply_to", "")}
        yield ["" if values[column] is None else str(values[column]) for column in CSV_COLUMNS]


# Writing --------------------------------------------------------------------------------------------

def write(target: Path, *, force: bool = False, progress: Progress | None = None,
          keep_existing: bool = False) -> list[Dataset]:
    """Write the node's open data into `target` (created when missing), replacing what it holds only with
    `force`. `progress(total)` gives a bar whose `update(n)` hears of each object written. With
    `keep_existing`, an export that another process finished at `target` meanwhile stays, and this one goes."""
    target = Path(target).absolute()
    if target.exists() and not target.is_dir():
        raise Invalid(_l("%(directory)s is a file, not a directory.", directory=str(target)), field="directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise Conflict(_l("%(directory)s is not empty: choose an empty or new directory, or pass --force to "
                          "replace what it holds.", directory=str(target)), field="directory")
    staging = _staging_beside(target)
    try:
        datasets = _write_into(staging, progress)
        _swap(staging, target, keep_existing)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot_write(target, exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("Wrote the open data to %s (%s)", target, ", ".join(f"{d.kind.key}: {d.records}" for d in datasets))
    return datasets


def _cannot_write(target: Path, exc: OSError) -> Invalid:
    return Invalid(_l("Cannot write the open data in %(directory)s: %(reason)s.", directory=str(target),
                      reason=exc.strerror or str(exc)), field="directory")


def _staging_beside(target: Path) -> Path:
    staging = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as exc:
        raise _cannot_write(target, exc) from exc
    return staging


def _swap(staging: Path, target: Path, keep_existing: bool) -> None:
    """Put the finished export where the old one was (if any), then remove the old one."""
    if keep_existing or not target.exists():
        try:
            os.rename(staging, target)  # fails when `target` is a directory that holds anything
            return
        except OSError:
            if not (keep_existing and (target / CATALOGUE).is_file()):
                raise
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _write_into(directory: Path, progress: Progress | None) -> list[Dataset]:
    chosen = {key: kind.newest(None, None) for key, kind in published.kinds().items()}
    datasets = []
    with (progress(sum(map(len, chosen.values()))) if progress else nullcontext()) as bar:
        for key, ids in chosen.items():
            dataset = Dataset(published.kinds()[key])
            with _created(directory / f"{key}.jsonl") as lines, _created(directory / f"{key}.csv") as table:
                writer = csv.writer(table)
                writer.writerow(CSV_COLUMNS)
                for item in records(dataset.kind, ids):
                    if bar is not None:
                        bar.update(1)
                    if item is None:
                        continue
                    lines.write(json.dumps(item, ensure_ascii=False) + "\n")
                    writer.writerows(csv_rows(item))
                    dataset.records += 1
                    dataset.modified = max(filter(None, (dataset.modified, item["updated"])), default=None)
            dataset.sizes = {fmt.extension: (directory / f"{key}.{fmt.extension}").stat().st_size for fmt in FORMATS}
            datasets.append(dataset)
    with _created(directory / CATALOGUE) as out:
        json.dump(catalogue(datasets), out, ensure_ascii=False, indent=2)
    return datasets


class _created:
    """A new UTF-8 text file that is on the disk (flushed and synced) once its block ends."""

    def __init__(self, path: Path) -> None:
        self.file: IO[str] = open(path, "x", encoding="utf-8", newline="")

    def __enter__(self) -> IO[str]:
        return self.file

    def __exit__(self, *failure) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        finally:
            self.file.close()


# The DCAT-AP catalogue ------------------------------------------------------------------------------

def _in_each_language(text) -> dict[str, str]:
    """A translatable text in every language of the interface, the node's name put in where it says %(node)s."""
    node = current_app.config["KNET"]["name"]
    found = {}
    for language in LANGUAGES:
        with force_locale(language):
            found[language] = str(text) % {"node": node}
    return found


def address(path: str) -> str:
    return current_app.config["KNET"]["url"].rstrip("/") + path


def catalogue(datasets: list[Dataset]) -> dict:
    """The DCAT-AP catalogue of these datasets as JSON-LD, with the municipality as its publisher."""
    node = current_app.config["KNET"]
    publisher = {"@id": address("/#municipality"), "@type": "Agent", "name": node["name"],
                 "homepage": address("/")}
    modified = max(filter(None, (dataset.modified for dataset in datasets)), default=None)
    result = {
        "@context": address(f"/opendata/{CONTEXT}"),
        "@id": address(f"/opendata/{CATALOGUE}"), "@type": "Catalog",
        "title": _in_each_language(CATALOGUE_TITLE), "description": _in_each_language(CATALOGUE_DESCRIPTION),
        "publisher": publisher, "homepage": address("/opendata"),
        "language": list(EU_LANGUAGES.values()), "license": EU_LICENCES[DATASET_LICENCE],
        "dataset": [_dataset(dataset, publisher["@id"]) for dataset in datasets],
    }
    if modified:
        result["modified"] = modified
    return result


def _dataset(dataset: Dataset, publisher: str) -> dict:
    key = dataset.kind.key
    result = {
        "@id": address(f"/opendata#{key}"), "@type": "Dataset",
        "title": _in_each_language(dataset.kind.title), "description": _in_each_language(dataset.kind.description),
        "publisher": publisher, "landingPage": address("/opendata"), "language": list(EU_LANGUAGES.values()),
        "theme": f"{EU}data-theme/GOVE", "license": EU_LICENCES[DATASET_LICENCE],
        "distribution": [{
            "@id": address(f"/opendata/{key}.{fmt.extension}"), "@type": "Distribution",
            "title": {language: f"{text} ({fmt.label})"
                      for language, text in _in_each_language(dataset.kind.title).items()},
            "accessURL": address("/opendata"), "downloadURL": address(f"/opendata/{key}.{fmt.extension}"),
            "mediaType": IANA + fmt.media_type, "format": f"{EU}file-type/{fmt.eu_file_type}",
            "license": EU_LICENCES[DATASET_LICENCE], "byteSize": dataset.sizes.get(fmt.extension, 0),
            **({"modified": dataset.modified} if dataset.modified else {}),
        } for fmt in FORMATS],
    }
    if dataset.modified:
        result["modified"] = dataset.modified
    return result
