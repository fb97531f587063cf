"""SCORM packages given as lessons: a ZIP checked on upload, then kept once per content in the instance's
media directory (as lesson files are, learning.attachments) and served from the ZIP itself.

A package is judged from its central directory first: every entry's name must stay inside the package
(no `../`, absolute paths, backslashes or drive letters), no entry may be a symbolic link or encrypted,
and the entry count, the unpacked total and each entry's compression ratio are limited, so a ZIP bomb
is refused before a byte of it is unpacked. Then `imsmanifest.xml`, at the root, is parsed without
DTDs, entities or network access; it must say which SCORM it follows (1.2 or 2004), launch its first
SCO (or, in a package of assets only, its first asset) from a resource with an `href`, and every file
its resources name must be in the ZIP. Each refusal is an Invalid on the field "file" with a sentence
naming the problem and a `reason`.
Services flush; the caller commits.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from flask_babel import lazy_gettext as _l

from auth.models import User
from knet.db import db
from knet.errors import Invalid
from learning.attachments import MAX_RATIO, MAX_UNPACKED_FACTOR, RATIO_FROM, max_upload_bytes, megabytes, store, \
    upload_name
from learning.courses import require_editor
from learning.models import Item, ScormPackage
from learning.structure import touch

logger = logging.getLogger(__name__)

MANIFEST = "imsmanifest.xml"
#: Packages with video and many pages have a few thousand entries.
MAX_ENTRIES = 10_000
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_PATH = 1000
#: A drive letter ("C:"), or a control character: never part of a name inside a package.
DRIVE = re.compile(r"^[A-Za-z]:")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The adlcp namespaces, which tell the version when the manifest's schemaversion does not.
#: What an item may launch: a SCO (which talks to the runtime) or an asset (plain pages).
LAUNCHABLE = ("sco", "asset")
ADLCP_VERSIONS = {"http://www.adlnet.org/xsd/adlcp_rootv1p2": "1.2", "http://www.adlnet.org/xsd/adlcp_v1p3": "2004"}


@dataclass(frozen=True)
class Manifest:
    """What knet needs of a package's manifest."""

    #: "1.2" or "2004".
    version: str
    title: str
    #: The file to open first, a path inside the ZIP, with the query the manifest gives it.
    launch: str


def refused(message, reason: str) -> Invalid:
    return Invalid(message, field="file", reason=reason)


# Uploading ---------------------------------------------------------------------------------------

def add_package(actor: User | None, item: Item, filename: str, data: bytes) -> ScormPackage:
    """Give a SCORM lesson of the working copy its package (a new one replaces the old in the working
    copy; published versions keep theirs), once the ZIP and its manifest pass every check."""
    course = item.module.course
    require_editor(actor, course)
    if item.kind != "scorm":
        raise Invalid(_l("SCORM packages are given to SCORM lessons, not to lessons or quizzes."), field="file")
    name = upload_name(filename, data)
    manifest = check(data)
    digest = hashlib.sha256(data).hexdigest()
    if item.scorm_package is not None and item.scorm_package.sha256 == digest:  # sent twice: nothing new
        return item.scorm_package
    store(digest, data)
    package = ScormPackage(course_id=course.id, filename=name, size=len(data), sha256=digest,
                           version=manifest.version, title=manifest.title, launch=manifest.launch,
                           uploaded_by_id=actor.id)
    db.session.add(package)
    item.scorm_package = package
    touch(course)
    db.session.flush()
    logger.info("%s gave item %d the SCORM %s package %s (%d bytes)", actor.username, item.id, manifest.version,
                digest, len(data))
    return package


# Checking ----------------------------------------------------------------------------------------

def check(data: bytes) -> Manifest:
    """The manifest of a package that passes every check; Invalid (field "file") naming the first problem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise refused(_l("The file is not a ZIP archive: a SCORM package is a .zip file with imsmanifest.xml at "
                         "its root."), "not_zip") from None
    with archive:
        names = check_entries(archive.infolist())
        if MANIFEST not in names:
            raise refused(_l("The package has no imsmanifest.xml at its root: it is not a SCORM package (was the "
                             "folder around it zipped too?)."), "no_manifest")
        try:
            with archive.open(MANIFEST) as member:
                text = member.read(MAX_MANIFEST_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise refused(_l("The package's imsmanifest.xml cannot be unpacked: the ZIP is damaged."),
                          "damaged") from exc
    if len(text) > MAX_MANIFEST_BYTES:
        raise refused(_l("The package's imsmanifest.xml is larger than %(mb)s MB.",
                         mb=megabytes(MAX_MANIFEST_BYTES)), "manifest_too_large")
    return read_manifest(text, names)


def check_entries(entries: list[zipfile.ZipInfo]) -> set[str]:
    """The names of the files in the ZIP, once no entry could escape the package, be a link, or unpack
    to far more than was sent (judged from the central directory alone)."""
    if len(entries) > MAX_ENTRIES:
        raise refused(_l("The package holds %(count)d files and folders; at most %(max)d are accepted.",
                         count=len(entries), max=MAX_ENTRIES), "too_many_entries")
    limit = MAX_UNPACKED_FACTOR * max_upload_bytes()
    if sum(entry.file_size for entry in entries) > limit:
        raise refused(_l("The package would unpack to more than %(mb)s MB: it is refused as a ZIP bomb.",
                         mb=megabytes(limit)), "too_large_unpacked")
    names = set()
    for entry in entries:
        name = entry.filename
        unsafe_path(name, "unsafe_path")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise refused(_l("“%(name)s” in the package is a symbolic link: packages may hold only files and "
                             "folders.", name=name[:200]), "symlink")
        if entry.flag_bits & 0x1:
            raise refused(_l("“%(name)s” in the package is encrypted: packages must not be password-protected.",
                             name=name[:200]), "encrypted")
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise refused(_l("“%(name)s” in the package unpacks to more than %(ratio)d times its packed size: it "
                             "is refused as a ZIP bomb.", name=name[:200], ratio=MAX_RATIO), "compression_ratio")
        if not entry.is_dir():
            names.add(name)
    return names


def unsafe_path(path: str, reason: str) -> None:
    """Refuse a path that could point outside the package, naming it."""
    parts = path.split("/")
    if "\\" in path or path.startswith("/") or DRIVE.match(path) or ".." in parts or CONTROL.search(path) \
            or len(path) > MAX_PATH:
        raise refused(_l("“%(name)s” in the package points outside it (“..”, an absolute path, a backslash or a "
                         "drive letter): such packages are refused.", name=path[:200]), reason)


# The manifest ------------------------------------------------------------------------------------

def local(element: Element) -> str:
    """An element's or attribute's name without its namespace."""
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child) == name]


def attribute(element: Element, name: str) -> str | None:
    """An attribute by its name in any namespace, whatever its case (adlcp:scormtype in 1.2, scormType in 2004)."""
    for key, value in element.attrib.items():
        if key.rpartition("}")[2].lower() == name.lower():
            return value
    return None


def read_manifest(text: bytes, names: set[str]) -> Manifest:
    """Parse imsmanifest.xml (no DTD, no entities, nothing fetched) and check it against the ZIP's files."""
    try:
        root = parse_xml(text, forbid_dtd=True)
    except DefusedXmlException:
        raise refused(_l("The package's imsmanifest.xml declares a DTD or entities, which are refused."),
                      "manifest_entities") from None
    except ParseError as exc:
        raise refused(_l("The package's imsmanifest.xml is not well-formed XML (line %(line)d).",
                         line=exc.position[0]), "manifest_xml") from None
    if local(root) != "manifest":
        raise refused(_l("The package's imsmanifest.xml is not a manifest: its root element is not <manifest>."),
                      "manifest_xml")
    version = _version(root, text)
    resources = _resources(root, names)
    organization = _organization(root)
    launch = _launch(organization, resources)
    title = " ".join("".join(t.text or "" for t in children(organization, "title")).split())[:200]
    return Manifest(version=version, title=title or "SCORM", launch=launch)


def _version(root: Element, text: bytes) -> str:
    declared = " ".join("".join(el.text or "" for el in root.iter() if local(el) == "schemaversion").split())
    if declared == "1.2":
        return "1.2"
    if declared.startswith("2004") or declared == "CAM 1.3":
        return "2004"
    found = {version for namespace, version in ADLCP_VERSIONS.items() if namespace.encode() in text}
    if len(found) == 1 and not declared:
        return found.pop()
    raise refused(_l("The manifest does not say which SCORM it follows: its schemaversion must be 1.2 or one of "
                     "SCORM 2004's (such as “2004 4th Edition”)."), "unknown_version")


def _resources(root: Element, names: set[str]) -> dict[str, Element]:
    """The resources by their identifier, once every file they name is in the ZIP."""
    found: dict[str, Element] = {}
    for group in children(root, "resources"):
        base = attribute(group, "base") or ""
        for resource in children(group, "resource"):
            identifier = resource.get("identifier")
            if not identifier:
                raise refused(_l("A resource of the manifest has no identifier."), "manifest_resource")
            here = base + (attribute(resource, "base") or "")
            hrefs = [resource.get("href")] + [file.get("href") for file in children(resource, "file")]
            for href in filter(None, hrefs):
                path = package_path(here + href)
                if path not in names:
                    raise refused(_l("The manifest names “%(name)s”, which is not in the package.", name=path[:200]),
                                  "missing_file")
            resource.set("knet-base", here)
            found[identifier] = resource
    return found


def package_path(href: str) -> str:
    """The file an href names inside the package (without its query or fragment), once it cannot point outside."""
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc:
        raise refused(_l("The manifest names “%(name)s”, which is outside the package; SCORM lessons may only use "
                         "their own files.", name=href[:200]), "external_file")
    path = unquote(parts.path)
    unsafe_path(path, "unsafe_href")
    return path


def _organization(root: Element) -> Element:
    organizations = next(iter(children(root, "organizations")), None)
    listed = children(organizations, "organization") if organizations is not None else []
    if not listed:
        raise refused(_l("The manifest has no organization: there is nothing for learners to open."),
                      "no_organization")
    for organization in listed:
        if not organization.get("identifier"):
            raise refused(_l("An organization of the manifest has no identifier."), "no_organization")
    default = organizations.get("default")
    if not default:
        return listed[0]
    chosen = next((organization for organization in listed if organization.get("identifier") == default), None)
    if chosen is None:
        raise refused(_l("The manifest's default organization “%(name)s” does not exist.", name=default[:200]),
                      "no_organization")
    return chosen


def _launch(organization: Element, resources: dict[str, Element]) -> str:
    """The launch of the first item whose resource is a SCO (or else is an asset): its resource's href
    with the item's parameters."""
    items = [item for item in organization.iter() if local(item) == "item"]
    for item in items:
        reference = item.get("identifierref")
        if reference and reference not in resources:
            raise refused(_l("The item “%(item)s” of the manifest points to the resource “%(name)s”, which does "
                             "not exist.", item=(item.get("identifier") or "")[:100], name=reference[:100]),
                          "missing_resource")
    linked = [(item, resources[item.get("identifierref")]) for item in items if item.get("identifierref")]
    if not linked:
        raise refused(_l("No item of the manifest's organization points to a resource: there is nothing to "
                         "launch."), "no_launch")
    for item, resource in linked:
        if (attribute(resource, "scormtype") or "").lower() not in LAUNCHABLE:
            raise refused(_l("The resource “%(name)s” is neither a SCO nor an asset (adlcp:scormType), so it "
                             "cannot be launched.", name=resource.get("identifier")[:100]), "no_launch")
    # The first SCO; a package of assets only (such as Rustici's one-file-per-SCO golf sample for 1.2) opens
    # its first asset, which shows its pages without reporting progress.
    first, resource = next(((item, resource) for item, resource in linked
                            if attribute(resource, "scormtype").lower() == "sco"), linked[0])
    href = resource.get("href")
    if not href:
        raise refused(_l("The first item's resource “%(name)s” has no href: the manifest does not say which file "
                         "to open.", name=resource.get("identifier")[:100]), "no_launch")
    path = package_path(resource.get("knet-base") + href)
    query = urlsplit(href.strip()).query
    parameters = (first.get("parameters") or "").strip().lstrip("?&")
    query = "&".join(filter(None, (query, parameters)))
    launch = f"{path}?{query}" if query else path
    if len(launch) > MAX_PATH:
        raise refused(_l("The first item's address is longer than %(max)d characters.", max=MAX_PATH), "no_launch")
    return launch
