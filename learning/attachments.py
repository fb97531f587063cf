"""Files given with lessons: checked by their bytes, kept once per content in the instance's media
directory, and handed only to those who may read the lesson.

An upload's claimed content type is never looked at, and its file name only says what it claims to
be: the bytes must show that kind of file, or it is refused with a sentence naming both. ZIP-based
office documents are judged from their central directory first (sizes, entry count, compression
ratio), so a ZIP bomb is refused before a single entry is read; nothing is ever unpacked to disk.
Services flush; the caller commits.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import LazyString, lazy_gettext as _l

from auth.models import User
from knet.db import db
from knet.errors import Invalid, NotFound, TooLarge
from knet.files import write_atomically
from learning import versions
from learning.courses import MAX_ID, may_edit, may_see, require_editor
from learning.models import Attachment, Course, Item
from learning.progress import enrolment_of
from learning.structure import touch

logger = logging.getLogger(__name__)

#: The largest upload unless [learning] max_upload_bytes says otherwise.
#: A ZIP may unpack to at most this many times the upload limit, all entries together.
MAX_UNPACKED_FACTOR = 10
#: An entry this large that unpacks to more than MAX_RATIO times its packed size is a bomb. (Small
#: entries of repetitive XML compress very well and harm nobody; the total limit covers many of them.)
MAX_RATIO, RATIO_FROM = 100, 1024 * 1024
#: Office documents have dozens of entries, a large presentation a few thousand.
MAX_ENTRIES = 5000
MAX_FILENAME = 200
MAX_PER_LESSON = 50
NO_SUCH_FILE = _l("There is no such file, or you may not see it.")

OOXML_MAIN = "application/vnd.openxmlformats-officedocument.{}.main+xml"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PROGRAM_SIGNATURES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                      b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\x00asm")
#: Control characters (but tab, line breaks and form feed): not in any text a trainer would attach.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Kind:
    """A kind of file that lessons may carry."""

    content_type: str
    #: What it is, for sentences: "a PDF document".
    name: LazyString
    #: Shown in the browser (PDF and images) rather than downloaded.
    inline: bool = False


PDF = Kind("application/pdf", _l("a PDF document"), inline=True)
PNG = Kind("image/png", _l("a PNG image"), inline=True)
JPEG = Kind("image/jpeg", _l("a JPEG image"), inline=True)
GIF = Kind("image/gif", _l("a GIF image"), inline=True)
WEBP = Kind("image/webp", _l("a WebP image"), inline=True)
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _l("a Word document (.docx)"))
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _l("an Excel workbook (.xlsx)"))
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation",
            _l("a PowerPoint presentation (.pptx)"))
ODT = Kind("application/vnd.oasis.opendocument.text", _l("an OpenDocument text (.odt)"))
ODS = Kind("application/vnd.oasis.opendocument.spreadsheet", _l("an OpenDocument spreadsheet (.ods)"))
ODP = Kind("application/vnd.oasis.opendocument.presentation", _l("an OpenDocument presentation (.odp)"))
# Plain text and CSV: exercises use open data (Diavgeia, budgets) as CSV, and a trainer may give a
# sample letter or configuration as text. Both are only ever downloaded, never shown by the browser.
TEXT = Kind("text/plain", _l("plain text"))
CSV = Kind("text/csv", _l("CSV data"))

#: What a file's name may claim, by its extension.
BY_EXTENSION = {"pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "gif": GIF, "webp": WEBP,
                "docx": DOCX, "xlsx": XLSX, "pptx": PPTX, "odt": ODT, "ods": ODS, "odp": ODP,
                "txt": TEXT, "csv": CSV}
OOXML = {OOXML_MAIN.format("wordprocessingml.document"): DOCX, OOXML_MAIN.format("spreadsheetml.sheet"): XLSX,
         OOXML_MAIN.format("presentationml.presentation"): PPTX}
ODF = {kind.content_type: kind for kind in (ODT, ODS, ODP)}
#: Names that can carry scripts into a reader's browser: refused whatever their bytes.
ACTIVE_EXTENSIONS = {"svg", "svgz", "html", "htm", "xhtml", "shtml", "xml", "xsl", "js", "mjs"}
LEGACY_OFFICE = {"doc", "dot", "xls", "xlt", "ppt", "pot", "docm", "xlsm", "pptm"}

# Kinds that are recognised in order to name them in a refusal, and are never accepted.
SVG = _l("an SVG image")
HTML = _l("an HTML page")
XML = _l("an XML document")
SCRIPT = _l("a script")
PROGRAM = _l("a program")
OLE = _l("an older Office file (.doc, .xls or .ppt)")
MACROS = _l("an Office document with macros")
ARCHIVE = _l("a ZIP archive")
ACCEPTED = _l("Lessons take PDF, images (PNG, JPEG, GIF, WebP), office documents (.docx, .xlsx, .pptx, .odt, "
              ".ods, .odp) and text (.txt, .csv).")


def max_upload_bytes() -> int:
    return current_app.config["KNET"]["learning"]["max_upload_bytes"]


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def shown_inline(content_type: str) -> bool:
    """Whether browsers show files of this type themselves (PDF, images) rather than save them."""
    return any(kind.inline for kind in BY_EXTENSION.values() if kind.content_type == content_type)


# Attaching and removing --------------------------------------------------------------------------

def upload_name(filename: str, data: bytes) -> str:
    """The uploaded file's name as stored, once its size is within the node's limit (TooLarge otherwise)."""
    name = clean_filename(filename)
    limit = max_upload_bytes()
    if len(data) > limit:
        raise TooLarge(_l("“%(name)s” is larger than %(mb)s MB, the largest file this node accepts.", name=name,
                          mb=megabytes(limit)))
    return name


def add_attachment(actor: User | None, item: Item, filename: str, data: bytes) -> Attachment:
    """Attach a file to a lesson of the working copy, once its bytes show it is what its name says."""
    course = item.module.course
    require_editor(actor, course)
    if item.kind != "lesson":
        raise Invalid(_l("Files are attached to lessons, not to quizzes."), field="file")
    name = upload_name(filename, data)
    kind = identify(name, data)
    digest = hashlib.sha256(data).hexdigest()
    same = next((a for a in item.attachments if a.sha256 == digest and a.filename == name), None)
    if same is not None:  # sent twice (a double click): nothing new
        return same
    if len(item.attachments) >= MAX_PER_LESSON:
        raise Invalid(_l("A lesson may have at most %(max)d files.", max=MAX_PER_LESSON), field="file")
    store(digest, data)
    attachment = Attachment(course_id=course.id, filename=name, content_type=kind.content_type, size=len(data),
                            sha256=digest, uploaded_by_id=actor.id)
    item.attachments.append(attachment)
    touch(course)
    db.session.flush()
    logger.info("%s attached %s (%s, %d bytes) to item %d", actor.username, digest, kind.content_type,
                len(data), item.id)
    return attachment


def remove_attachment(actor: User | None, attachment: Attachment) -> None:
    """Take a file off its lesson in the working copy. The file stays: published versions list it."""
    item = attachment.item
    if item is None:
        raise NotFound(_l("This file has already been removed from its lesson."))
    require_editor(actor, item.module.course)
    attachment.item_id = None  # the row stays for the versions that list it
    touch(item.module.course)
    db.session.flush()
    db.session.expire(item, ["attachments"])
    db.session.expire(attachment, ["item"])
    logger.info("%s removed attachment %d from item %d", actor.username, attachment.id, item.id)


def get_attachment(item: Item, attachment_id: int) -> Attachment:
    """A file of a lesson's working copy."""
    attachment = db.session.get(Attachment, attachment_id) if 0 < attachment_id <= MAX_ID else None
    if attachment is None or attachment.item_id != item.id:
        raise NotFound(_l("This lesson has no such file."))
    return attachment


# Handing files out -------------------------------------------------------------------------------

def downloadable(actor: User | None, attachment_id: int, filename: str) -> Attachment:
    """A file the person may fetch: listed in the newest published version of a course they may see and
    are enrolled in, or attached to the working copy of a course they edit."""
    attachment = db.session.get(Attachment, attachment_id) if 0 < attachment_id <= MAX_ID else None
    if attachment is None or attachment.filename != filename or actor is None:
        raise NotFound(NO_SUCH_FILE)
    if attachment.item is not None and may_edit(actor, attachment.item.module.course):
        return attachment
    for course in _published_with(attachment):
        if may_edit(actor, course) or (may_see(actor, course) and enrolment_of(actor, course) is not None):
            return attachment
    raise NotFound(NO_SUCH_FILE)


def _published_with(attachment: Attachment) -> list[Course]:
    """The course, if its newest published version lists the file (also once removed from its lesson)."""
    course = db.session.get(Course, attachment.course_id)
    return [course] if course is not None and course.published_version and _lists(course, attachment) else []


def _lists(course: Course, attachment: Attachment) -> bool:
    frozen = versions.get_version(course).snapshot
    return any(listed["id"] == attachment.id for item in versions.items_of(frozen) for listed in item["attachments"])


# Storage -----------------------------------------------------------------------------------------

def media_path(digest: str) -> Path:
    """Where a file's bytes live: <instance>/media/<first two hex digits>/<sha256>."""
    return Path(current_app.instance_path) / "media" / digest[:2] / digest


def store(digest: str, data: bytes) -> Path:
    """Write the bytes under their hash, whole or not at all; the same content is kept once."""
    path = media_path(digest)
    if path.is_file() and path.stat().st_size == len(data):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    return path


# Names and kinds ---------------------------------------------------------------------------------

def clean_filename(raw: object) -> str:
    """The last part of an upload's name, without control or invisible characters, at most
    MAX_FILENAME characters (the extension kept)."""
    if not isinstance(raw, str):
        raise Invalid(_l("The file needs a name."), field="file")
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    # Category C: controls, and invisible formatting such as the right-to-left override that turns
    # "report‮fdp.exe" into what looks like "reportexe.pdf".
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    if not name:
        raise Invalid(_l("The file needs a name."), field="file")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 10:
            stem, extension = name, ""
        name = stem[:MAX_FILENAME - len(extension) - 1].rstrip(" .") + (f".{extension}" if extension else "")
    return name


def identify(name: str, data: bytes) -> Kind:
    """The kind of file the bytes are, which must be the kind the name claims."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension in ACTIVE_EXTENSIONS:
        raise Invalid(_l("“%(name)s” cannot be attached: SVG images, HTML pages and other web documents can "
                         "carry scripts that would run in the readers' browsers. Attach it as PDF or PNG instead.",
                         name=name), field="file")
    if extension in LEGACY_OFFICE:
        raise Invalid(_l("“%(name)s” is an older or macro-enabled Office file: save it as .docx, .xlsx or .pptx "
                         "(or as PDF) and attach that.", name=name), field="file")
    claimed = BY_EXTENSION.get(extension)
    if claimed is None:
        raise Invalid(_l("“%(name)s” cannot be attached: its name does not end in a kind of file lessons take. "
                         "%(accepted)s", name=name, accepted=ACCEPTED), field="file")
    if not data:
        raise Invalid(_l("“%(name)s” is empty.", name=name), field="file")
    found = sniff(data)
    if found is claimed or (found is TEXT and claimed is CSV):
        return claimed
    if found is None and claimed.content_type.startswith("text/") and b"\x00" not in data:
        raise Invalid(_l("“%(name)s” is not UTF-8 text: save it as UTF-8 (in Excel: “CSV UTF-8”) and attach it "
                         "again.", name=name), field="file")
    if found is None:
        raise Invalid(_l("The contents of “%(name)s” are not %(claimed)s, nor any other kind of file lessons "
                         "take.", name=name, claimed=claimed.name), field="file")
    found_name = found.name if isinstance(found, Kind) else found
    raise Invalid(_l("“%(name)s” is named as %(claimed)s, but its contents are %(found)s. Only files whose contents "
                     "match their name are accepted.", name=name, claimed=claimed.name, found=found_name),
                  field="file")


def sniff(data: bytes) -> Kind | LazyString | None:
    """What the bytes are: an accepted Kind, the name of a refused kind, or None (unknown)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(OLE_SIGNATURE):
        return OLE
    if data.startswith(PROGRAM_SIGNATURES):
        return PROGRAM
    return _text_kind(data)


def _zip_kind(data: bytes) -> Kind | LazyString | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_bomb(entries)
            names = {entry.filename for entry in entries}
            if entries and entries[0].filename == "mimetype":
                return ODF.get(_read(archive, entries[0]).decode("ascii", "replace").strip(), ARCHIVE)
            if "[Content_Types].xml" in names:
                types = _read(archive, archive.getinfo("[Content_Types].xml")).decode("utf-8", "replace")
                if "macroEnabled" in types or any(name.endswith("vbaProject.bin") for name in names):
                    return MACROS
                return next((kind for main, kind in OOXML.items() if f'"{main}"' in types), ARCHIVE)
            return ARCHIVE
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError, KeyError):
        # Damaged, encrypted, or packed in a way Python does not read.
        return None


def _check_bomb(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse, from the central directory alone, a ZIP that would unpack to far more than was sent."""
    limit = MAX_UNPACKED_FACTOR * max_upload_bytes()
    if len(entries) > MAX_ENTRIES:
        raise TooLarge(_l("The file holds %(count)d packed parts; office documents have at most %(max)d.",
                          count=len(entries), max=MAX_ENTRIES))
    if sum(entry.file_size for entry in entries) > limit:
        raise TooLarge(_l("The file would unpack to more than %(mb)s MB: it is refused as a ZIP bomb.",
                          mb=megabytes(limit)))
    for entry in entries:
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise TooLarge(_l("A part of the file unpacks to more than %(ratio)d times its packed size: it is "
                              "refused as a ZIP bomb.", ratio=MAX_RATIO))


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int = 1024 * 1024) -> bytes:
    """At most `limit` bytes of one small entry (the ODF mimetype, the OOXML content types)."""
    with archive.open(entry) as member:
        return member.read(limit)


def _text_kind(data: bytes) -> Kind | LazyString | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if NOT_TEXT.search(text):
        return None
    start = text.lstrip()[:1024].lower()
    if start.startswith("<"):
        # Markup of any kind: a browser that guessed could run it.
        return SVG if "<svg" in start else XML if start.startswith("<?xml") else HTML
    if start.startswith("#!"):
        return SCRIPT
    return TEXT
