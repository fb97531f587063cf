"""SCORM packages on upload (learning.scorm_package): the corpus's manifests and sample packages are
read as they are meant, its broken manifests and every hostile ZIP are refused with the reason named."""
from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest

from knet.errors import Invalid
from learning import scorm_package

GOLF_12 = "rustici_golf_scorm12_multisco_singlefile.zip"
GOLF_2004 = "rustici_golf_scorm2004_3rd_metadata.zip"
MINIMAL = """<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Ελάχιστο</title>
    <item identifier="i" identifierref="r"><title>Αρχή</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormType="sco" href="index.html">
    <file href="index.html"/><file href="img/logo.png"/></resource></resources>
</manifest>""".encode()


def manifests(corpus: Path, negative: bool) -> list[Path]:
    folder = corpus / "scorm" / "manifests" / ("negative" if negative else "")
    return sorted(folder.glob("*.xml"))


def named_files(manifest: bytes) -> set[str]:
    """The files a manifest names (without queries), best effort: a malformed one names none."""
    try:
        root = fromstring(manifest)
    except Exception:  # noqa: BLE001 - the malformed manifest of the corpus
        return {"content/index.html"}
    return {element.get("href").split("?")[0] for element in root.iter() if element.get("href")}


def package(manifest: bytes | None, files: dict[str, bytes] | None = None, *, empty_files: bool = True) -> bytes:
    """A ZIP of the manifest and an empty file for each file it names, plus `files`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if manifest is not None:
            archive.writestr("imsmanifest.xml", manifest)
            for name in (named_files(manifest) if empty_files else ()):
                archive.writestr(name, b"")
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refusal(data: bytes) -> str:
    with pytest.raises(Invalid) as refused:
        scorm_package.check(data)
    assert refused.value.extra["field"] == "file" and refused.value.message
    return refused.value.extra["reason"]


# The corpus --------------------------------------------------------------------------------------

def test_the_two_sample_packages_are_read(app, corpus):
    folder = corpus / "scorm" / "packages"
    golf_12 = scorm_package.check((folder / GOLF_12).read_bytes())
    assert (golf_12.version, golf_12.launch) == ("1.2", "Playing/Playing.html")  # its items are assets only
    assert golf_12.title == "Golf Explained - CP One File Per SCO"
    golf_2004 = scorm_package.check((folder / GOLF_2004).read_bytes())
    assert (golf_2004.version, golf_2004.launch) == ("2004", "shared/launchpage.html")


def test_every_good_manifest_of_the_corpus_is_accepted(app, corpus):
    found = {path.name: scorm_package.check(package(path.read_bytes())) for path in manifests(corpus, negative=False)}
    assert len(found) >= 8
    for name, manifest in found.items():
        assert manifest.version == ("1.2" if "_SCORM12" in name else "2004"), name
        assert manifest.launch.split("?")[0].endswith(".html") and manifest.title
    # An item's resource with a query keeps it.
    sequencing = scorm_package.check(package(
        (corpus / "scorm/manifests/SequencingSimpleRemediation_SCORM20043rdEdition.imsmanifest.xml").read_bytes()))
    assert sequencing.launch == "shared/launchpage.html?content=playing"


@pytest.mark.parametrize("name, reason", [
    ("InvalidMissingOrgIdentifier_SCORM20043rdEdition.imsmanifest.xml", "no_organization"),
    ("ItemWithNonExistentResourceId_SCORM12.imsmanifest.xml", "missing_resource"),
    ("MalformedXml_SCORM12.imsmanifest.xml", "manifest_xml"),
    ("MissingLaunchUrl_SCORM12.imsmanifest.xml", "no_launch"),
])
def test_every_broken_manifest_of_the_corpus_is_refused(app, corpus, name, reason):
    assert {path.name for path in manifests(corpus, negative=True)} >= {name}
    assert refusal(package((corpus / "scorm/manifests/negative" / name).read_bytes())) == reason


# Hostile and broken ZIPs -------------------------------------------------------------------------

@pytest.mark.parametrize("name, reason", [
    ("../evil.html", "unsafe_path"), ("shared/../../evil.html", "unsafe_path"), ("/etc/evil.html", "unsafe_path"),
    ("shared\\evil.html", "unsafe_path"), ("C:/evil.html", "unsafe_path"), ("c:evil.html", "unsafe_path"),
])
def test_entries_that_point_outside_the_package_are_refused(app, name, reason):
    assert refusal(package(MINIMAL, {name: b"<script>alert(1)</script>"})) == reason


@pytest.mark.parametrize("href", ["../index.html", "/index.html", "https://evil.example/index.html",
                                  "img\\logo.png"])
def test_a_manifest_naming_files_outside_the_package_is_refused(app, href):
    manifest = MINIMAL.replace(b'<file href="img/logo.png"/>', f'<file href="{href}"/>'.encode())
    assert refusal(package(manifest, {"index.html": b"", "img/logo.png": b""}, empty_files=False)) in (
        "unsafe_href", "external_file")


def test_a_symbolic_link_is_refused(app):
    buffer = io.BytesIO(package(MINIMAL))
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("img/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert refusal(buffer.getvalue()) == "symlink"


def test_an_encrypted_entry_is_refused(app):
    data = bytearray(package(MINIMAL))
    # Python's zipfile writes no encrypted entries: set the flag in the central directory by hand.
    entry = data.index(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4:][:4])
    data[entry + 8] |= 0x1
    assert refusal(bytes(data)) == "encrypted"


def test_a_zip_bomb_is_refused_by_its_compression_ratio(app):
    bomb = package(MINIMAL, {"img/video.mp4": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024
    assert refusal(bomb) == "compression_ratio"


def test_a_package_that_unpacks_to_too_much_is_refused(app):
    app.config["KNET"]["learning"] = {"max_upload_bytes": 1024 * 1024}  # unpacked, at most 10 MB
    parts = {f"img/part{number}.bin": bytes(1024 * 1024) for number in range(11)}
    assert refusal(package(MINIMAL, parts)) == "too_large_unpacked"


def test_a_package_with_too_many_entries_is_refused(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("imsmanifest.xml", MINIMAL)
        for number in range(scorm_package.MAX_ENTRIES):
            archive.writestr(f"img/{number}.txt", b"")
    assert refusal(buffer.getvalue()) == "too_many_entries"


def test_a_missing_resource_file_is_refused(app):
    assert refusal(package(MINIMAL, {"index.html": b""}, empty_files=False)) == "missing_file"


def test_a_zip_without_a_manifest_at_its_root_is_refused(app):
    assert refusal(package(None, {"course/imsmanifest.xml": MINIMAL, "course/index.html": b""})) == "no_manifest"


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04broken", b"%PDF-1.4\n"])
def test_what_is_not_a_zip_is_refused(app, data):
    assert refusal(data) == "not_zip"


def test_a_manifest_with_entities_is_refused_unexpanded(app):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              + MINIMAL.split(b"?>", 1)[1].replace("<title>Ε".encode(), "<title>&b;Ε".encode()))
    assert refusal(package(laughs, {"index.html": b"", "img/logo.png": b""}, empty_files=False)) \
        == "manifest_entities"
    external = (b'<?xml version="1.0"?><!DOCTYPE manifest SYSTEM "http://evil.example/x.dtd">'
                + MINIMAL.split(b"?>", 1)[1])
    assert refusal(package(external, {"index.html": b"", "img/logo.png": b""}, empty_files=False)) \
        == "manifest_entities"


@pytest.mark.parametrize("change, reason", [
    ((b"<schemaversion>2004 4th Edition</schemaversion>", b"<schemaversion>3.0</schemaversion>"), "unknown_version"),
    ((b'adlcp:scormType="sco"', b'adlcp:scormType="other"'), "no_launch"),
    ((b'identifierref="r"', b""), "no_launch"),
    ((b'default="o"', b'default="elsewhere"'), "no_organization"),
    ((b"<manifest ", b"<notmanifest "), "manifest_xml"),
])
def test_manifests_that_do_not_say_what_to_launch_are_refused(app, change, reason):
    manifest = MINIMAL.replace(*change)
    if change[0] == b"<manifest ":
        manifest = manifest.replace(b"</manifest>", b"</notmanifest>")
    assert refusal(package(manifest, {"index.html": b"", "img/logo.png": b""}, empty_files=False)) == reason


def test_a_manifest_without_schemaversion_is_known_by_its_namespace(app):
    manifest = MINIMAL.replace(b"<schemaversion>2004 4th Edition</schemaversion>", b"")
    assert scorm_package.check(package(manifest)).version == "2004"
