"""The open-data download page and its files.

The files are made on demand and kept for the node's content generation (knet.render_cache): the first
request after any change writes a fresh export into the instance directory (knet.opendata writes it
aside and moves it into place whole), and every request until the next change is served from it. A
background job would make exports nobody downloads after every change; a download is rare and a
municipality's public content takes a moment to write.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from flask import Blueprint, Flask, current_app, render_template, send_file
from flask_babel import gettext as _

from knet import opendata, published
from knet.errors import NotFound
from knet.published import PublicKind
from knet.render_cache import current_generation

bp = Blueprint("opendata", __name__)

CACHE_DIRECTORY = "opendata"


class Listed(NamedTuple):
    """A dataset as the download page lists it."""

    kind: PublicKind
    modified: datetime | None
    #: (format, file name, size in bytes) of each of its files.
    files: list[tuple[opendata.Format, str, int]]
_GENERATION_NAME = re.compile(r"[0-9a-f]{1,64}")


def _files() -> dict[str, str]:
    """Each file's name and media type (all UTF-8: Flask names the charset of text/* types)."""
    files = {f"{key}.{fmt.extension}": fmt.media_type
             for key in published.kinds() for fmt in opendata.FORMATS}
    return {**files, opendata.CATALOGUE: opendata.LD_MEDIA_TYPE}


def current_export() -> Path:
    """The directory of the export for the node's content as it is now, written first if there is none."""
    cache = Path(current_app.instance_path) / CACHE_DIRECTORY
    generation = current_generation().decode("ascii", "replace")
    name = generation if _GENERATION_NAME.fullmatch(generation) else "initial"
    export = cache / name
    if not (export / opendata.CATALOGUE).is_file():
        opendata.write(export, force=True, keep_existing=True)
        for older in cache.iterdir():
            if older.name != name and not older.name.startswith("."):
                shutil.rmtree(older, ignore_errors=True)
    return export


@bp.get("/opendata")
def page():
    """The datasets, their files and the catalogue, with what each holds and when it last changed."""
    catalogue = json.loads((current_export() / opendata.CATALOGUE).read_text(encoding="utf-8"))
    described = {dataset["@id"].rpartition("#")[2]: dataset for dataset in catalogue["dataset"]}
    listed = [Listed(kind, datetime.fromisoformat(described[key]["modified"]) if "modified" in described[key] else None,
                     [(fmt, f"{key}.{fmt.extension}", distribution["byteSize"])
                      for fmt, distribution in zip(opendata.FORMATS, described[key]["distribution"])])
              for key, kind in published.kinds().items()]
    return render_template("opendata.html", datasets=listed, catalogue_name=opendata.CATALOGUE)


@bp.get("/opendata/context.jsonld")
def context():
    """The JSON-LD context the catalogue names (DCAT-AP terms), as bundled with knet."""
    return send_file(opendata.CONTEXT_FILE, mimetype=opendata.LD_MEDIA_TYPE)


@bp.get("/opendata/<dataset_file>")
def download(dataset_file: str):
    media_type = _files().get(dataset_file)
    if media_type is None:
        raise NotFound(_("There is no open-data file “%(name)s”; the open-data page lists them.",
                         name=dataset_file[:100]))
    path = current_export() / dataset_file
    return send_file(path, mimetype=media_type, download_name=dataset_file, max_age=0,
                     last_modified=os.stat(path).st_mtime)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
