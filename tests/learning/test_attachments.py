"""Lesson files (learning.attachments and learning.attachment_routes): judged by their bytes, ZIP bombs
and oversized uploads refused, kept once per content, and served only to those who may read them."""
from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image

from knet.db import db
from knet.errors import Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from learning import attachments, progress, structure, versions
from learning.models import Attachment
from tests.forms import csrf_token

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
OOXML_PARTS = {DOCX_MAIN: "word/document.xml", XLSX_MAIN: "xl/workbook.xml", PPTX_MAIN: "ppt/presentation.xml"}


# Real files, made here -------------------------------------------------------------------------

def pdf(text: str = "Hello") -> bytes:
    """A minimal valid PDF: one page, a cross-reference table with true offsets."""
    content = f"BT ({text}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image(kind: str, size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def ooxml(main: str = DOCX_MAIN, extra: dict[str, bytes] | None = None) -> bytes:
    """A Word, Excel or PowerPoint file as Office writes one: a ZIP with [Content_Types].xml."""
    part = OOXML_PARTS.get(main, "word/document.xml")
    types = (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             f'content-types"><Default Extension="xml" ContentType="application/xml"/>'
             f'<Override PartName="/{part}" ContentType="{main}"/></Types>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(part, '<?xml version="1.0"?><document>Κείμενο</document>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def odf(mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    """An OpenDocument file: a ZIP whose first entry, stored, is `mimetype`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest/>')
    return buffer.getvalue()


def zip_of(entries: dict[str, int], first: dict[str, str] | None = None) -> bytes:
    """A ZIP whose entries are runs of zeros of the given sizes, written in chunks (little memory)."""
    buffer = io.BytesIO()
    chunk = bytes(64 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (first or {}).items():
            archive.writestr(name, text)
        for name, size in entries.items():
            with archive.open(name, "w") as member:
                for start in range(0, size, len(chunk)):
                    member.write(chunk[:min(len(chunk), size - start)])
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
DOCX_TYPES = {"[Content_Types].xml": f'<Types><Override PartName="/word/document.xml" ContentType="{DOCX_MAIN}"/>'
                                     f'</Types>'}


# Fixtures --------------------------------------------------------------------------------------

@pytest.fixture
def client(app):
    """A browser that reads the pages in English, as the sentences checked here are."""
    browser = app.test_client()
    browser.set_cookie("knet_lang", "en")
    return browser


@pytest.fixture
def lesson(trainer, make_course):
    """The first lesson of a published course of tina's."""
    return make_course(trainer).modules[0].items[0]


def english(refused) -> str:
    with force_locale("en"):
        return refused.value.message


def media_files(app) -> list[Path]:
    return sorted(path for path in (Path(app.instance_path) / "media").rglob("*") if path.is_file())


def set_upload_limit(app, limit: int) -> None:
    app.config["KNET"]["learning"] = {"max_upload_bytes": limit}


# Checking by bytes -----------------------------------------------------------------------------

@pytest.mark.parametrize("filename, make, content_type", [
    ("Σημειώσεις.pdf", lambda: pdf(), "application/pdf"),
    ("χάρτης.png", lambda: image("PNG"), "image/png"),
    ("photo.JPG", lambda: image("JPEG"), "image/jpeg"),
    ("photo.jpeg", lambda: image("JPEG"), "image/jpeg"),
    ("anim.gif", lambda: image("GIF"), "image/gif"),
    ("photo.webp", lambda: image("WEBP"), "image/webp"),
    ("Υπόδειγμα.docx", lambda: ooxml(DOCX_MAIN),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", lambda: ooxml(XLSX_MAIN), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("slides.pptx", lambda: ooxml(PPTX_MAIN),
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("text.odt", lambda: odf(), "application/vnd.oasis.opendocument.text"),
    ("sheet.ods", lambda: odf("application/vnd.oasis.opendocument.spreadsheet"),
     "application/vnd.oasis.opendocument.spreadsheet"),
    ("talk.odp", lambda: odf("application/vnd.oasis.opendocument.presentation"),
     "application/vnd.oasis.opendocument.presentation"),
    ("notes.txt", lambda: "Σημειώσεις για το μάθημα.\n".encode(), "text/plain"),
    ("δαπάνες.csv", lambda: "\ufeffΚΑΕ;Ποσό\n0851;1200,50\n".encode(), "text/csv"),
])
def test_each_accepted_kind_is_recognised_by_its_bytes_and_kept_under_its_hash(app, trainer, lesson, filename, make,
                                                                               content_type):
    data = make()
    attachment = attachments.add_attachment(trainer, lesson, filename, data)
    db.session.commit()
    assert (attachment.filename, attachment.content_type, attachment.size) == (filename, content_type, len(data))
    stored = attachments.media_path(attachment.sha256)
    assert stored.parent.name == attachment.sha256[:2] and stored.read_bytes() == data
    assert media_files(app) == [stored]  # no temporary file left behind
    assert lesson.attachments == [attachment] and lesson.module.course.has_unpublished_changes


@pytest.mark.parametrize("filename, data, words", [
    ("notes.pdf", image("PNG"), ["PDF document", "PNG image"]),
    ("photo.jpg", pdf(), ["JPEG image", "PDF document"]),
    ("report.docx", ooxml(XLSX_MAIN), ["Word document", "Excel workbook"]),
    ("report.docx", odf(), ["Word document", "OpenDocument text"]),
    ("report.xlsx", zip_of({"payload.exe": 10}), ["Excel workbook", "ZIP archive"]),
    ("report.docx", ooxml("application/vnd.ms-word.document.macroEnabled.main+xml"), ["Word document", "macros"]),
    ("report.docx", ooxml(DOCX_MAIN, {"word/vbaProject.bin": b"\x00" * 10}), ["macros"]),
    ("report.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ["Word document", "older Office file"]),
    ("photo.png", SVG, ["PNG image", "SVG image"]),
    ("notes.txt", HTML, ["plain text", "HTML page"]),
    ("data.csv", b'<?xml version="1.0"?><data/>', ["CSV data", "XML document"]),
    ("notes.txt", b"#!/bin/sh\nrm -rf ~\n", ["plain text", "script"]),
    ("setup.pdf", b"MZ\x90\x00" + bytes(100), ["PDF document", "program"]),
    ("tool.png", b"\x7fELF\x02\x01\x01" + bytes(100), ["PNG image", "program"]),
])
def test_a_name_that_lies_about_the_bytes_is_refused_naming_both(app, trainer, lesson, filename, data, words):
    with pytest.raises(Invalid) as refused:
        attachments.add_attachment(trainer, lesson, filename, data)
    message = english(refused)
    assert filename in message and all(word in message for word in words), message
    assert refused.value.extra["field"] == "file" and media_files(app) == []


@pytest.mark.parametrize("filename, data, words", [
    ("logo.svg", SVG, ["SVG", "scripts"]),
    ("page.html", HTML, ["HTML", "scripts"]),
    ("page.htm", b"hello", ["HTML"]),
    ("feed.xml", b'<?xml version="1.0"?><a/>', ["scripts"]),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), [".docx"]),
    ("macros.xlsm", ooxml(), [".xlsx"]),
    ("setup.exe", b"MZ" + bytes(100), ["Lessons take PDF"]),
    ("archive.zip", zip_of({"a.txt": 10}), ["Lessons take PDF"]),
    ("README", b"text", ["Lessons take PDF"]),
    ("blank.pdf", b"", ["empty"]),
    ("random.pdf", b"\x01\x02\x03 not really anything", ["not a PDF document"]),
    ("legacy.csv", "ΚΑΕ;Ποσό\n".encode("cp1253"), ["UTF-8"]),
])
def test_active_old_and_unknown_kinds_are_refused_with_a_reason(trainer, lesson, filename, data, words):
    with pytest.raises(Invalid) as refused:
        attachments.add_attachment(trainer, lesson, filename, data)
    assert all(word in english(refused) for word in words), english(refused)


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_read(app, trainer, lesson):
    # One entry of 8 MB of zeros packed into a few KB: over 100 to 1.
    bomb = zip_of({"word/document.xml": 8 * 1024 * 1024}, first=DOCX_TYPES)
    assert len(bomb) < 64 * 1024
    with pytest.raises(TooLarge) as refused:
        attachments.add_attachment(trainer, lesson, "bomb.docx", bomb)
    assert "ZIP bomb" in english(refused)
    # Many small, well-packed parts that together unpack to more than 10 times the upload limit.
    set_upload_limit(app, 1024 * 1024)
    many = zip_of({f"word/media/part{number}.xml": 900 * 1024 for number in range(13)}, first=DOCX_TYPES)
    with pytest.raises(TooLarge) as refused:
        attachments.add_attachment(trainer, lesson, "many.docx", many)
    assert "unpack to more than 10 MB" in english(refused)
    # More entries than any office document has, whatever its name claims.
    crowded = zip_of({f"p{number}": 0 for number in range(attachments.MAX_ENTRIES + 1)})
    with pytest.raises(TooLarge) as refused:
        attachments.add_attachment(trainer, lesson, "crowded.pdf", crowded)
    assert "packed parts" in english(refused)
    assert media_files(app) == [] and lesson.attachments == []


def test_an_upload_over_the_configured_limit_is_too_large(app, trainer, lesson):
    set_upload_limit(app, 1024 * 1024)
    data = pdf() + bytes(1024 * 1024)
    with pytest.raises(TooLarge) as refused:
        attachments.add_attachment(trainer, lesson, "big.pdf", data)
    assert "larger than 1 MB" in english(refused)
    attachments.add_attachment(trainer, lesson, "fits.pdf", data[:1024 * 1024])


@pytest.mark.parametrize("raw, clean", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\maria\\Σημειώσεις.txt", "Σημειώσεις.txt"),
    ("report\u202efdp.txt", "reportfdp.txt"),
    ("bad\x00name\r\n.txt", "badname.txt"),
    ("  .hidden.txt  ", "hidden.txt"),
    # Decomposed, as macOS sends it: stored composed.
    (unicodedata.normalize("NFD", "Σημειώσεις.txt"), "Σημειώσεις.txt"),
    ("α" * 300 + ".txt", "α" * 196 + ".txt"),
])
def test_file_names_lose_their_path_and_invisible_characters(trainer, lesson, raw, clean):
    attachment = attachments.add_attachment(trainer, lesson, raw, b"text\n")
    assert attachment.filename == clean and len(attachment.filename) <= 200


@pytest.mark.parametrize("raw", ["", "../", " . ", "\x01\x02"])
def test_a_file_needs_a_name(trainer, lesson, raw):
    with pytest.raises(Invalid) as refused:
        attachments.add_attachment(trainer, lesson, raw, b"text\n")
    assert "needs a name" in english(refused)


def test_only_the_course_trainers_attach_and_only_to_lessons(make_user, trainer, make_course):
    course = make_course(trainer)
    lesson, quiz = course.modules[0].items[0], course.modules[0].items[-1]
    with pytest.raises(Forbidden):
        attachments.add_attachment(make_user("otto", role="trainer"), lesson, "a.pdf", pdf())
    with pytest.raises(Unauthorized):
        attachments.add_attachment(None, lesson, "a.pdf", pdf())
    with pytest.raises(Invalid) as refused:
        attachments.add_attachment(trainer, quiz, "a.pdf", pdf())
    assert "not to quizzes" in english(refused)
    admin = make_user("ada", role="admin")
    assert attachments.add_attachment(admin, lesson, "a.pdf", pdf()).uploaded_by_id == admin.id


def test_the_same_content_is_stored_once(app, trainer, make_course):
    first, second = make_course(trainer).modules[0].items[:2]
    one = attachments.add_attachment(trainer, first, "a.pdf", pdf())
    again = attachments.add_attachment(trainer, first, "a.pdf", pdf())
    other = attachments.add_attachment(trainer, second, "ίδιο.pdf", pdf())
    db.session.commit()
    assert again is one and other.id != one.id and other.sha256 == one.sha256
    assert media_files(app) == [attachments.media_path(one.sha256)]


def test_a_removed_file_stays_for_the_published_versions_that_list_it(app, make_user, trainer, lesson):
    course = lesson.module.course
    learner = make_user("lena", role="reader")
    progress.enrol(learner, course)
    attachment = attachments.add_attachment(trainer, lesson, "a.pdf", pdf())
    versions.publish(trainer, course, "Με αρχείο")
    attachments.remove_attachment(trainer, attachment)
    db.session.commit()
    assert lesson.attachments == [] and attachment.item is None
    assert db.session.get(Attachment, attachment.id) is not None and media_files(app)
    # Version 2 still lists it; the working copy does not.
    assert attachments.downloadable(learner, attachment.id, "a.pdf") is attachment
    assert attachments.downloadable(trainer, attachment.id, "a.pdf") is attachment
    with pytest.raises(NotFound) as refused:
        attachments.remove_attachment(trainer, attachment)
    assert "already been removed" in english(refused)
    versions.publish(trainer, course, "Χωρίς αρχείο")
    db.session.commit()
    with pytest.raises(NotFound):
        attachments.downloadable(learner, attachment.id, "a.pdf")
    assert versions.items_of(versions.get_version(course).snapshot)[0]["attachments"] == []


# Through the pages -----------------------------------------------------------------------------

def post_file(client, course, item, filename: str, data: bytes, next_page: str = "/"):
    token = csrf_token(client.get("/").get_data(as_text=True))
    return read(client.post(f"/learning/courses/{course.id}/items/{item.id}/attachments",
                            data={"csrf_token": token, "next": next_page, "file": (io.BytesIO(data), filename)},
                            content_type="multipart/form-data"))


def fetch(client, path: str, **kwargs):
    return read(client.get(path, **kwargs))


def read(response):
    """Read the response and close it (and the file it sends). Werkzeug's test client closes the temporary
    file it spooled a large upload into only when it follows redirects, so that is closed here too."""
    response.get_data()
    response.close()
    response.request.input_stream.close()
    return response


def test_a_trainer_uploads_and_a_learner_gets_it_with_safe_headers(app, client, sign_in, make_user, trainer, lesson):
    course = lesson.module.course
    sign_in(trainer)
    posted = post_file(client, course, lesson, "Σημειώσεις μαθήματος.pdf", pdf(), "/?from=lesson")
    assert posted.status_code == 302 and posted.headers["Location"] == "/?from=lesson"
    assert "is attached to" in client.get("/").get_data(as_text=True)
    attachment = db.session.scalar(db.select(Attachment))
    path = f"/learning/attachments/{attachment.id}/{attachment.filename}"
    versions.publish(trainer, course)
    db.session.commit()

    learner = make_user("lena", role="reader")
    progress.enrol(learner, course)
    db.session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    sign_in(learner)
    got = fetch(client, path)
    assert got.status_code == 200 and got.get_data() == pdf()
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"].startswith("default-src 'none'")
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''%CE%A3%CE%B7%CE%BC%CE%B5%CE%B9%CF%8E%CF%83%CE%B5%CE%B9%CF%82%20" in disposition
    assert "private" in got.headers["Cache-Control"] and got.headers["ETag"] == f'"{attachment.sha256}"'
    assert fetch(client, path, headers={"If-None-Match": got.headers["ETag"]}).status_code == 304


def test_office_documents_and_text_are_downloads_only_and_sandboxed(client, sign_in, trainer, lesson):
    sign_in(trainer)
    for filename, data, content_type in [
            ("Υπόδειγμα.docx", ooxml(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("data.csv", b"a,b\n<script>alert(1)</script>,2\n", "text/csv; charset=utf-8")]:
        assert post_file(client, lesson.module.course, lesson, filename, data).status_code == 302
        attachment = db.session.scalar(db.select(Attachment).where(Attachment.filename == filename))
        got = fetch(client, f"/learning/attachments/{attachment.id}/{filename}")
        assert got.status_code == 200 and got.headers["Content-Type"] == content_type
        assert got.headers["Content-Disposition"].startswith("attachment;")
        assert got.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_refused_uploads_say_why_with_their_status(app, client, sign_in, trainer, lesson):
    course = lesson.module.course
    sign_in(trainer)
    lying = post_file(client, course, lesson, "notes.pdf", image("PNG"))
    assert lying.status_code == 400 and "PNG image" in lying.get_data(as_text=True)
    svg = post_file(client, course, lesson, "logo.svg", SVG)
    assert svg.status_code == 400 and "SVG" in svg.get_data(as_text=True)
    bomb = post_file(client, course, lesson, "bomb.docx", zip_of({"word/document.xml": 8 * 1024 * 1024},
                                                                  first=DOCX_TYPES))
    assert bomb.status_code == 413 and "ZIP bomb" in bomb.get_data(as_text=True)
    token = csrf_token(client.get("/").get_data(as_text=True))
    nothing = client.post(f"/learning/courses/{course.id}/items/{lesson.id}/attachments",
                          data={"csrf_token": token}, content_type="multipart/form-data")
    assert nothing.status_code == 400 and "Choose a file" in nothing.get_data(as_text=True)
    forged = client.post(f"/learning/courses/{course.id}/items/{lesson.id}/attachments",
                         data={"file": (io.BytesIO(pdf()), "a.pdf")}, content_type="multipart/form-data")
    assert forged.status_code == 400
    assert media_files(app) == []


def test_the_upload_address_takes_files_larger_than_texts_but_not_beyond_its_limit(app, client, sign_in, trainer,
                                                                                   lesson):
    # The node's body limit is sized for texts (about 3 MB); a 4 MB PDF is a normal lesson file.
    assert app.config["MAX_CONTENT_LENGTH"] < 4 * 1024 * 1024
    sign_in(trainer)
    large = pdf() + bytes(4 * 1024 * 1024)
    assert post_file(client, lesson.module.course, lesson, "large.pdf", large).status_code == 302
    set_upload_limit(app, 1024 * 1024)
    refused = post_file(client, lesson.module.course, lesson, "large2.pdf", large + b" ")
    assert refused.status_code == 413 and "larger than 1 MB" in refused.get_data(as_text=True)
    assert [a.filename for a in lesson.attachments] == ["large.pdf"]


def test_who_may_fetch_a_file(app, client, sign_in, make_user, trainer, make_course):
    course = make_course(trainer)
    draft = make_course(trainer, "Πρόχειρο μάθημα", publish=False)
    lesson, draft_lesson = course.modules[0].items[0], draft.modules[0].items[0]
    published = attachments.add_attachment(trainer, lesson, "a.pdf", pdf())
    versions.publish(trainer, course)
    unpublished = attachments.add_attachment(trainer, lesson, "b.pdf", pdf("new"))
    in_draft = attachments.add_attachment(trainer, draft_lesson, "c.pdf", pdf("draft"))
    learner, stranger = make_user("lena", role="reader"), make_user("sam", role="reader")
    progress.enrol(learner, course)
    db.session.commit()

    def status(attachment, filename=None) -> int:
        return fetch(client, f"/learning/attachments/{attachment.id}/{filename or attachment.filename}").status_code

    anonymous = fetch(client, f"/learning/attachments/{published.id}/a.pdf")
    assert anonymous.status_code == 404 and "no such file" in anonymous.get_data(as_text=True)
    sign_in(stranger)  # may see the course, is not enrolled
    assert status(published) == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    sign_in(learner)
    assert status(published) == 200
    assert status(unpublished) == 404  # only in the working copy until the next publishing
    assert status(in_draft) == 404
    assert status(published, "other.pdf") == 404
    assert fetch(client, "/learning/attachments/99999999999/a.pdf").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    sign_in(trainer)
    assert (status(published), status(unpublished), status(in_draft)) == (200, 200, 200)


def test_a_private_course_s_file_is_hidden_from_an_enrolled_learner_who_can_no_longer_see_it(
        client, sign_in, make_user, trainer, make_course):
    course = make_course(trainer)
    attachment = attachments.add_attachment(trainer, course.modules[0].items[0], "a.pdf", pdf())
    versions.publish(trainer, course)
    learner = make_user("lena", role="reader")
    progress.enrol(learner, course)
    course.visibility = "private"
    db.session.commit()
    sign_in(learner)
    assert fetch(client, f"/learning/attachments/{attachment.id}/a.pdf").status_code == 404


def test_removing_a_file_through_the_page(app, client, sign_in, make_user, trainer, lesson):
    course = lesson.module.course
    attachment = attachments.add_attachment(trainer, lesson, "a.pdf", pdf())
    db.session.commit()
    sign_in(make_user("otto", role="trainer"))
    token = csrf_token(client.get("/").get_data(as_text=True))
    address = f"/learning/courses/{course.id}/items/{lesson.id}/attachments/{attachment.id}/remove"
    assert client.post(address, data={"csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    sign_in(trainer)
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(address, data={"csrf_token": token, "next": "/"}).status_code == 302
    assert "was removed" in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attachment, attachment.id).item_id is None and lesson.attachments == []
    assert client.post(address, data={"csrf_token": token}).status_code == 404
    other = structure.add_lesson(trainer, course.modules[0], "Άλλο", "Κείμενο")
    db.session.commit()
    wrong = f"/learning/courses/{course.id}/items/{other.id}/attachments/{attachment.id}/remove"
    assert client.post(wrong, data={"csrf_token": token}).status_code == 404
