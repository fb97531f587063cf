"""MediaWiki import benchmark: `knet import mediawiki` of a generated export, against what reading the file, converting
its wikitext and saving the same texts the ordinary way cost on their own, all in one run.

Run through bench/mediawiki. One run writes a MediaWiki 0.11 XML export (a function of --seed) into a temporary
directory, makes a throwaway node (`knet init`, SQLite, an administrator and three editors whose names match some of
the export's contributors) and copies it for each measurement, then measures, each in a process of its own:

- `knet import mediawiki` of an export with no pages (the command's fixed cost), of half the pages, and of the whole
  export: wall time, pages/s, revisions/s, MB/s and the process's peak RSS (from wait4);
- the same whole export imported again (it must create nothing);
- the references: lxml's iterparse over the file touching each revision's text (the floor for reading), the importer's
  reader (`wiki.mediawiki.Dump`) alone, `wiki.wikitext.convert` of every revision alone, and the converted texts saved
  through `wiki.services.create_page`/`update_page`, revision by revision with a commit after each, as people save.

The temporary directory is removed at the end, also on failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from http_bench import (EL_HEADINGS, EL_SENTENCES, EN_HEADINGS, EN_PLACES, EN_SENTENCES, PLACES, RESULTS, ROOT,
                        BenchError, _commit, _terminate, bin_tool, page_titles)

PASSWORD = "a password for the benchmark"
SITE_BASE = "https://wiki.dimos-metriseon.example.gr/wiki/Αρχική_σελίδα"
NAMESPACES = {-2: "Μέσο", -1: "Ειδικό", 0: "", 1: "Συζήτηση", 2: "Χρήστης", 3: "Συζήτηση χρήστη", 4: "Βικιπαίδεια",
              6: "Αρχείο", 8: "MediaWiki", 10: "Πρότυπο", 12: "Βοήθεια", 14: "Κατηγορία"}
#: Contributors with an account on the node (made as maria, nikos and eleni: the importer matches names in any case).
LOCAL = ["Maria", "Nikos", "Eleni"]
STRANGERS = ["Kostas P", "Giorgos", "Ανθή Λαμπράκη", "DimosBot", "Papadopoulou", "Stelios78", "Βασίλης"]
MORE_EN = [
    "The municipal council meets on the first Tuesday of every month in the town hall.",
    "Residents may ask for a bulky-waste collection by phone or through the online form.",
    "The library lends books, films and board games to anyone with a resident card.",
    "Roadworks on the coastal avenue are expected to last until the end of the summer.",
    "Each neighbourhood committee elects a representative for a term of two years.",
]
MORE_EL = [
    "Το δημοτικό συμβούλιο συνεδριάζει την πρώτη Τρίτη κάθε μήνα στο δημαρχείο.",
    "Οι κάτοικοι μπορούν να ζητήσουν αποκομιδή ογκωδών αντικειμένων τηλεφωνικά ή με την ηλεκτρονική φόρμα.",
    "Η βιβλιοθήκη δανείζει βιβλία, ταινίες και επιτραπέζια παιχνίδια σε όποιον έχει κάρτα δημότη.",
    "Τα έργα στην παραλιακή λεωφόρο αναμένεται να διαρκέσουν έως το τέλος του καλοκαιριού.",
    "Κάθε επιτροπή γειτονιάς εκλέγει έναν εκπρόσωπο για θητεία δύο ετών.",
]
CATEGORIES = ["Υπηρεσίες", "Διοίκηση", "Πολιτισμός", "Περιβάλλον", "Οδηγοί", "Procurement", "Open data", "Υγεία"]
SUMMARIES = ["διόρθωση", "νέα ενότητα", "ενημέρωση ωραρίου", "typo", "added the contacts table", "", "σύνδεσμοι",
             "Αναίρεση αλλαγής", "update after the council's decision"]
START = datetime(2014, 3, 1, tzinfo=timezone.utc)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/mediawiki", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600, help="main-namespace pages in the export (default 600)")
    parser.add_argument("--revisions", type=int, default=5, help="revisions of each page (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="what the export is made from (default 1)")
    parser.add_argument("--output", type=Path, default=RESULTS / "mediawiki.md",
                        help="where to write the Markdown table (default bench/results/mediawiki.md)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None and not (2 <= args.pages <= 1_000_000 and 1 <= args.revisions <= 99):
        parser.error("--pages must be from 2 to 1,000,000 and --revisions from 1 to 99")
    return args


# The export -------------------------------------------------------------------------------------

@dataclass
class Export:
    path: Path
    pages: int = 0
    revisions: int = 0
    redirects: int = 0
    talk: int = 0
    texts: int = 0
    size: int = 0

    @property
    def mb(self) -> float:
        return self.size / 1e6


def _emphasise(rng: random.Random, sentence: str) -> str:
    words = sentence.split()
    k = rng.randrange(len(words))
    marks = rng.choice(["''", "'''", "'''''"])
    words[k] = f"{marks}{words[k]}{marks}"
    return " ".join(words)


def _clip(sentence: str, length: int) -> str:
    return sentence if len(sentence) <= length else sentence[:length].rsplit(" ", 1)[0] + " …"


def _link(rng: random.Random, titles: list[tuple[str, str]]) -> str:
    """An internal link to a generated page (one in ten to a page that does not exist), sometimes labelled."""
    if rng.random() < 0.1:
        return f"[[{rng.choice(EL_HEADINGS)} {rng.choice(PLACES)} (σχέδιο)]]"
    target = titles[rng.randrange(len(titles))][0]
    return f"[[{target}]]" if rng.random() < 0.6 else f"[[{target}|{target.split()[0].lower()}]]"


def _external(rng: random.Random) -> str:
    path = f"{rng.choice(['apofaseis', 'diavouleusi', 'open-data', 'services'])}/{rng.randrange(1000, 99999)}"
    if rng.random() < 0.3:
        return f"https://www.example.gr/{path}"
    return f"[https://www.example.gr/{path} {rng.choice(['η απόφαση', 'the decision', 'Διαύγεια', 'the dataset'])}]"


def _blocks(rng: random.Random, index: int, titles: list[tuple[str, str]]) -> list[str]:
    """The wikitext of a page's last revision, in blocks (earlier revisions have fewer of them): about 6 KB."""
    title, language = titles[index]
    greek = language == "el"
    own, other = (EL_SENTENCES + MORE_EL, EN_SENTENCES + MORE_EN) if greek else (EN_SENTENCES + MORE_EN,
                                                                                   EL_SENTENCES + MORE_EL)
    headings, other_headings = (EL_HEADINGS, EN_HEADINGS) if greek else (EN_HEADINGS, EL_HEADINGS)

    def paragraph(pool: list[str], n: int) -> str:
        parts = []
        for _ in range(n):
            sentence = rng.choice(pool)
            roll = rng.random()
            if roll < 0.3:
                sentence = _emphasise(rng, sentence)
            elif roll < 0.55:
                sentence = f"{sentence[:-1]} ({_link(rng, titles)})."
            elif roll < 0.65:
                sentence = f"{sentence[:-1]}: {_external(rng)}."
            parts.append(sentence)
        return " ".join(parts)

    def section(level: int, name: str, body: str) -> str:
        marks = "=" * level
        return f"{marks} {name} {marks}\n{body}\n"

    infobox = (f"{{{{Πληροφορίες υπηρεσίας|όνομα={title}|τηλέφωνο=27210-{rng.randrange(10000, 99999)}"
               f"|ωράριο=08:00–15:00|έδρα={rng.choice(PLACES)}}}}}\n")
    listing = "\n".join([f"* {_clip(rng.choice(own), 70)} {_link(rng, titles)}" for _ in range(3)]
                        + [f"** {_clip(rng.choice(own), 50)}", f"* {_external(rng)}"]
                        + [f"# {rng.choice(own)}" for _ in range(3)])
    rows = "\n|-\n".join(f"| {rng.choice(headings)} || {rng.choice(EN_PLACES)} || 27210-{rng.randrange(10000, 99999)}"
                         for _ in range(5))
    table = f'{{| class="wikitable"\n! Ρόλος !! Place !! Τηλέφωνο\n|-\n{rows}\n|}}'
    blocks = [infobox,
              section(2, headings[0], paragraph(own, 5)),
              section(2, headings[1], paragraph(own, 4) + "\n\n" + listing),
              section(3, headings[2], paragraph(own, 4)),
              section(2, headings[3], table),
              section(2, "Summary in English" if greek else "Περίληψη στα ελληνικά", paragraph(other, 5))]
    n = 4
    while sum(len(block.encode()) for block in blocks) < rng.randrange(5000, 5600):
        name = rng.choice(headings + other_headings) + f" {n}"
        blocks.append(section(rng.choice([2, 3]), name, paragraph(rng.choice([own, own, other]), rng.randrange(3, 7))))
        n += 1
    return blocks


def _page_texts(rng: random.Random, index: int, titles: list[tuple[str, str]], revisions: int) -> list[str]:
    """Each revision's wikitext, from about 3 KB to about 6 KB: more blocks each time, and a changed lead."""
    title, language = titles[index]
    blocks = _blocks(rng, index, titles)
    pool = EL_SENTENCES + MORE_EL if language == "el" else EN_SENTENCES + MORE_EN
    categories = "\n" + "\n".join(f"[[Κατηγορία:{name}]]" for name in rng.sample(CATEGORIES, rng.randrange(1, 4)))
    total = sum(len(block.encode()) for block in blocks)
    texts = []
    for r in range(revisions):
        target = total if revisions == 1 else 3000 + (total - 3000) * r / (revisions - 1)
        lead = f"'''{title}''' — {pool[(index + r) % len(pool)]} {_link(rng, titles)}.\n\n"
        chosen, size = [], len(lead.encode())
        for block in blocks:
            if chosen and size >= target:
                break
            chosen.append(block)
            size += len(block.encode())
        texts.append(lead + "\n".join(chosen) + categories)
    return texts


def _contributor(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        return f"      <contributor>\n        <ip>{address}</ip>\n      </contributor>\n"
    name = rng.choice(LOCAL) if roll < 0.45 else rng.choice(STRANGERS)
    return (f"      <contributor>\n        <username>{escape(name)}</username>\n"
            f"        <id>{(LOCAL + STRANGERS).index(name) + 2}</id>\n      </contributor>\n")


def _revision(out, rng: random.Random, revision_id: int, at: datetime, text: str) -> None:
    summary = rng.choice(SUMMARIES)
    out.write(f"    <revision>\n      <id>{revision_id}</id>\n"
              f"      <timestamp>{at.strftime('%Y-%m-%dT%H:%M:%SZ')}</timestamp>\n" + _contributor(rng)
              + (f"      <comment>{escape(summary)}</comment>\n" if summary else "")
              + "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
              f'      <text bytes="{len(text.encode())}" xml:space="preserve">{escape(text)}</text>\n'
              "    </revision>\n")


def write_export(path: Path, pages: int, revisions: int, seed: int) -> Export:
    """A MediaWiki 0.11 export of `pages` main-namespace pages with `revisions` revisions each, a redirect after
    every 25th page and a Talk: page after every 100th, written as it is made."""
    titles = page_titles(pages)
    export = Export(path)
    namespaces = "\n".join(f'      <namespace key="{key}" case="first-letter">{escape(name)}</namespace>' if name
                           else f'      <namespace key="{key}" case="first-letter" />'
                           for key, name in NAMESPACES.items())
    with path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        out.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" '
                  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                  'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.11/ '
                  'http://www.mediawiki.org/xml/export-0.11.xsd" version="0.11" xml:lang="el">\n'
                  f"  <siteinfo>\n    <sitename>Βικι Δήμου Μετρήσεων</sitename>\n    <dbname>dimoswiki</dbname>\n"
                  f"    <base>{escape(SITE_BASE)}</base>\n    <generator>MediaWiki 1.39.5</generator>\n"
                  f"    <case>first-letter</case>\n    <namespaces>\n{namespaces}\n    </namespaces>\n"
                  "  </siteinfo>\n")
        for index in range(pages):
            rng = random.Random(f"{seed}-page-{index}")
            page_id = 1000 + index
            title = titles[index][0]
            at = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 4))
            out.write(f"  <page>\n    <title>{escape(title)}</title>\n    <ns>0</ns>\n    <id>{page_id}</id>\n")
            for r, text in enumerate(_page_texts(rng, index, titles, revisions)):
                _revision(out, rng, page_id * 100 + r, at, text)
                at += timedelta(days=rng.randrange(1, 90), minutes=rng.randrange(1, 600))
                export.texts += 1
            out.write("  </page>\n")
            export.pages += 1
            export.revisions += revisions
            if index % 25 == 24:
                target = titles[rng.randrange(pages)][0]
                out.write(f"  <page>\n    <title>Παλιός τίτλος {index}</title>\n    <ns>0</ns>\n"
                          f"    <id>{5_000_000 + index}</id>\n    <redirect title={quoteattr(target)} />\n")
                _revision(out, rng, 500_000_000 + index, at, f"#ΑΝΑΚΑΤΕΥΘΥΝΣΗ [[{target}]]")
                out.write("  </page>\n")
                export.redirects += 1
                export.texts += 1
            if index % 100 == 50:
                out.write(f"  <page>\n    <title>Συζήτηση:{escape(title)}</title>\n    <ns>1</ns>\n"
                          f"    <id>{8_000_000 + index}</id>\n")
                for r in range(2):
                    _revision(out, rng, 800_000_000 + index * 10 + r, at + timedelta(days=r),
                              f"== {rng.choice(EL_HEADINGS)} ==\n{rng.choice(EL_SENTENCES)} ~~~~\n")
                    export.texts += 1
                out.write("  </page>\n")
                export.talk += 1
        out.write("</mediawiki>\n")
    export.size = path.stat().st_size
    return export


# Children: each measurement in a process of its own ------------------------------------------------

class Clock:
    """Wall and CPU seconds of the blocks run inside it, added up."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu

    def result(self, **counts: int) -> dict:
        return {"seconds": self.wall, "cpu": self.cpu, **counts}


def _knet_imports() -> None:
    sys.path.insert(0, str(ROOT))  # the feature packages are imported from the checkout


def child_parse(path: str) -> dict:
    """The floor for reading: lxml's iterparse over the file, touching each revision's text, dropping pages read."""
    from lxml import etree
    namespace = "{http://www.mediawiki.org/xml/export-0.11/}"
    texts = characters = 0
    with Clock() as clock, open(path, "rb") as file:
        for _event, element in etree.iterparse(file, events=("end",), tag=(namespace + "text", namespace + "page")):
            if element.tag == namespace + "text":
                texts += 1
                characters += len(element.text or "")
            else:
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
    return clock.result(revisions=texts, characters=characters)


def child_reader(path: str) -> dict:
    """The importer's reader alone: every page and revision of `wiki.mediawiki.Dump`, nothing done with them."""
    _knet_imports()
    from wiki import mediawiki
    pages = revisions = 0
    with Clock() as clock, open(path, "rb") as file:
        for page in mediawiki.Dump(file).pages():
            pages += 1
            revisions += sum(1 for revision in page.revisions if revision.text is not None)
    return clock.result(pages=pages, revisions=revisions)


def child_convert(path: str, texts_out: str) -> dict:
    """Conversion alone: `wiki.wikitext.convert` of each main-namespace revision, as the importer calls it (only the
    calls are timed); the Markdown is written out for the saves."""
    _knet_imports()
    from wiki import importer, mediawiki, wikitext
    clock = Clock()
    revisions = wikitext_bytes = 0
    with open(path, "rb") as file, open(texts_out, "w", encoding="utf-8") as out:
        dump = mediawiki.Dump(file)
        names = wikitext.namespace_names(dump.site.namespaces)
        for page in dump.pages():
            if page.namespace != 0 or not page.revisions:
                continue
            if page.redirect or wikitext.redirect_target(page.revisions[-1].text):
                continue
            saved = []
            for revision in page.revisions:
                with clock:
                    conversion = wikitext.convert(revision.text, names, page.title)
                revisions += 1
                wikitext_bytes += len(revision.text.encode())
                saved.append([conversion.markdown, importer._tags(conversion.categories),
                              " ".join(revision.comment.split())])
            out.write(json.dumps({"title": page.title, "revisions": saved}, ensure_ascii=False) + "\n")
    return clock.result(revisions=revisions, bytes=wikitext_bytes)


def child_save(instance: str, texts: str) -> dict:
    """The ordinary way: the same Markdown saved with create_page, then update_page for each later revision, by the
    administrator, committing after each save as a person's edit does."""
    _knet_imports()
    from auth.models import User
    from knet.app import create_app
    from knet.db import db
    from wiki import services
    from wiki.services import PageInput
    app = create_app(Path(instance))
    clock = Clock()
    revisions = pages = markdown_bytes = 0
    with app.app_context():
        admin_id = User.by_username("admin").id
        limit = app.config["KNET"]["max_body_bytes"]
        language = "el"
        with open(texts, encoding="utf-8") as lines:
            for line in lines:
                item = json.loads(line)
                with clock:
                    admin, page = db.session.get(User, admin_id), None
                    for body, tags, summary in item["revisions"]:
                        data = PageInput(item["title"], body, language, tags, "internal", "CC-BY-4.0", summary)
                        if page is None:
                            page = services.create_page(admin, data, limit)
                        else:
                            page = services.update_page(admin, page, data, page.revision, limit)
                        db.session.commit()
                        revisions += 1
                        markdown_bytes += len(body.encode())
                pages += 1
                db.session.expunge_all()  # a request's session ends with it
    return clock.result(pages=pages, revisions=revisions, bytes=markdown_bytes)


def child_count(instance: str) -> dict:
    """What a node holds: live pages, revisions (and how many have an account here as author), redirects, jobs."""
    _knet_imports()
    from sqlalchemy import func, select
    from knet.app import create_app
    from knet.db import db
    from knet.jobs import Job
    from wiki.models import Page, Redirect, Revision
    app = create_app(Path(instance))
    with app.app_context():
        count = lambda query: db.session.scalar(query)  # noqa: E731
        return {"pages": count(select(func.count(Page.id)).where(Page.deleted_at.is_(None))),
                "revisions": count(select(func.count(Revision.id))),
                "with_account": count(select(func.count(Revision.id)).where(Revision.author_id.is_not(None))),
                "redirects": count(select(func.count()).select_from(Redirect)),
                "jobs": count(select(func.count(Job.id)))}


CHILDREN = {"parse": child_parse, "reader": child_reader, "convert": child_convert, "save": child_save,
            "count": child_count}


# Processes --------------------------------------------------------------------------------------

@dataclass
class Measured:
    wall: float
    #: CPU seconds of the process (user and system, from wait4).
    cpu: float
    peak_mb: float
    stdout: str
    result: dict = field(default_factory=dict)


class Cleanup:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.dirs: list[Path] = []

    def stop(self) -> None:
        """Stop the running child and everything it started (its session), and reap it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        for signum, seconds in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, signum)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(proc.pid, os.WNOHANG)[0]:
                        return
                except ChildProcessError:
                    return
                time.sleep(0.05)

    def run(self, keep: bool) -> None:
        self.stop()
        for path in self.dirs:
            if keep:
                print(f"Kept {path}", file=sys.stderr)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_process(cleanup: Cleanup, workdir: Path, name: str, command: list[str], stdin: Path | None = None) -> Measured:
    """Run a command in a session of its own (Ctrl+C reaches this process, which stops it); its wall time and peak
    RSS (the kernel's high-water mark, from wait4)."""
    out_path, err_path = workdir / f"{name}.out", workdir / f"{name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err, \
            (stdin.open("rb") if stdin else open(os.devnull, "rb")) as given:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdin=given, stdout=out, stderr=err, start_new_session=True)
        cleanup.proc = proc
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cleanup.proc = None
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        raise BenchError(f"{name} failed (exit status {proc.returncode}): {' '.join(command)}\n"
                         f"{_tail(stdout + stderr)}")
    result = {}
    if stdout.strip().startswith("{"):
        result = json.loads(stdout.strip().splitlines()[-1])
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout, result)


def child(cleanup: Cleanup, workdir: Path, name: str, *arguments: str) -> Measured:
    return run_process(cleanup, workdir, name, [sys.executable, str(Path(__file__).resolve()), "--child", *arguments])


def knet(cleanup: Cleanup, workdir: Path, name: str, *arguments: str, stdin: Path | None = None) -> Measured:
    return run_process(cleanup, workdir, name, [bin_tool("knet"), *arguments], stdin=stdin)


def make_node(cleanup: Cleanup, workdir: Path) -> Path:
    """A node made by `knet init`, with the administrator and the editors maria, nikos and eleni."""
    node = workdir / "node"
    knet(cleanup, workdir, "init", "init", "--instance", str(node), "--name", "Δήμος Μετρήσεων",
         "--url", "http://127.0.0.1:5999")
    password = workdir / "password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    knet(cleanup, workdir, "admin", "user", "create-admin", "--instance", str(node), "--username", "admin",
         "--password-stdin", stdin=password)
    for name in LOCAL:
        knet(cleanup, workdir, f"user-{name}", "user", "create", "--instance", str(node), "--username", name.lower(),
             "--role", "editor", "--password-stdin", stdin=password)
    return node


def copy_node(template: Path, workdir: Path, name: str) -> Path:
    target = workdir / name
    shutil.copytree(template, target)
    return target


def check_counts(cleanup: Cleanup, workdir: Path, node: Path, export: Export, what: str,
                 redirects: bool = True) -> dict:
    found = child(cleanup, workdir, f"count-{node.name}", "count", str(node)).result
    expected = {"pages": export.pages, "revisions": export.revisions}
    if redirects:
        expected["redirects"] = export.redirects
    wrong = [f"{key} {found[key]:,} instead of {value:,}" for key, value in expected.items() if found[key] != value]
    if wrong:
        raise BenchError(f"After {what} the node does not hold what the export has: {'; '.join(wrong)}.")
    return found


# The table --------------------------------------------------------------------------------------

@dataclass
class Row:
    case: str
    revisions: int
    seconds: float
    cpu: float
    mb: float | None
    peak_mb: float
    pages: int | None = None
    #: Wall and CPU seconds not counted when comparing with the reference (an import's start-up and commit).
    fixed: tuple[float, float] = (0.0, 0.0)

    def per_revision(self) -> tuple[float, float]:
        """Wall and CPU seconds per revision."""
        return (max(0.0, self.seconds - self.fixed[0]) / self.revisions,
                max(0.0, self.cpu - self.fixed[1]) / self.revisions)


def _ratio(value: float) -> str:
    return f"{value:.2f}×" if value >= 0.005 else "<0.01×"


def table(rows: list[Row], reference: Row) -> str:
    header = ["case", "items (revisions)", "seconds", "CPU s", "items/s", "MB/s", "peak RSS MB",
              "time per revision vs (c), wall (CPU)"]
    lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        items = f"{row.revisions:,}" + (f" ({row.pages:,} pages)" if row.pages else "")
        rate = "—"
        if row.revisions:
            rate = f"{row.revisions / row.seconds:,.0f}" + (f" ({row.pages / row.seconds:,.1f} pages/s)"
                                                            if row.pages else "")
        share = "—"
        if row is reference:
            share = "1.00× (reference)"
        elif row.revisions:
            wall, cpu = (mine / theirs for mine, theirs in zip(row.per_revision(), reference.per_revision()))
            share = f"{_ratio(wall)} ({_ratio(cpu)})"
        mb = f"{row.mb / row.seconds:.2f}" if row.mb else "—"
        lines.append(f"| {row.case} | {items} | {row.seconds:.2f} | {row.cpu:.2f} | {rate} | {mb} | {row.peak_mb:.0f} "
                     f"| {share} |")
    return "\n".join(lines)


def _versions() -> str:
    versions = [f"Python {platform.python_version()}"]
    for module in ("lxml", "mwparserfromhell", "sqlalchemy"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except Exception:  # noqa: BLE001 - a version is only a note
            pass
    return ", ".join(versions)


# Main -------------------------------------------------------------------------------------------

def measure(args: argparse.Namespace, cleanup: Cleanup, workdir: Path) -> tuple[str, str, list[str]]:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    print(f"Writing the exports ({args.pages:,} pages × {args.revisions} revisions, and half of that) …", flush=True)
    full = write_export(workdir / "export.xml", args.pages, args.revisions, args.seed)
    half = write_export(workdir / "export-half.xml", args.pages // 2, args.revisions, args.seed)
    empty = write_export(workdir / "export-empty.xml", 0, args.revisions, args.seed)
    print(f"  {full.mb:,.1f} MB and {half.mb:,.1f} MB in {time.perf_counter() - started:.1f} s", flush=True)

    print("Making the node (knet init, knet user create-admin, knet user create) …", flush=True)
    template = make_node(cleanup, workdir)
    nodes = {name: copy_node(template, workdir, name) for name in ("node-empty", "node-half", "node-full",
                                                                     "node-saves")}

    def importing(name: str, node: Path, export: Export) -> Measured:
        print(f"Measuring {name} …", flush=True)
        measured = knet(cleanup, workdir, name, "import", "mediawiki", str(export.path), "--instance", str(node),
                        "--as", "admin")
        print(f"  {measured.wall:.1f} s, peak {measured.peak_mb:.0f} MB: {measured.stdout.strip().splitlines()[0]}",
              flush=True)
        return measured

    empty_run = importing("import-empty", nodes["node-empty"], empty)
    half_run = importing("import-half", nodes["node-half"], half)
    check_counts(cleanup, workdir, nodes["node-half"], half, "importing half the export")
    full_run = importing("import-full", nodes["node-full"], full)
    counted = check_counts(cleanup, workdir, nodes["node-full"], full, "the import")
    if f"{full.pages} page(s) created" not in full_run.stdout:
        raise BenchError(f"The import did not report {full.pages} pages created: {full_run.stdout.strip()}")
    again = importing("reimport-full", nodes["node-full"], full)
    if "0 page(s) created, 0 updated" not in again.stdout:
        raise BenchError(f"Importing the same export again changed something: {again.stdout.strip()}")
    check_counts(cleanup, workdir, nodes["node-full"], full, "importing the same export again")

    print("Measuring (a) parsing alone …", flush=True)
    parsed = child(cleanup, workdir, "parse", "parse", str(full.path))
    print("Measuring the importer's reader alone …", flush=True)
    read = child(cleanup, workdir, "reader", "reader", str(full.path))
    # The half export is a wiki of its own (its links point among its pages): (b) and (c) take its texts, the very
    # ones the import of half saved, so that (c) re-renders as many linking pages as that import did.
    print("Measuring (b) conversion alone (the half export) …", flush=True)
    texts = workdir / "markdown.jsonl"
    converted = child(cleanup, workdir, "convert", "convert", str(half.path), str(texts))
    print("Measuring (c) create_page/update_page (the half export's texts) …", flush=True)
    saved = child(cleanup, workdir, "save", "save", str(nodes["node-saves"]), str(texts))
    check_counts(cleanup, workdir, nodes["node-saves"], half, "saving the texts through the services",
                 redirects=False)
    load_after = os.getloadavg()[0]

    def ran(case: str, measured: Measured, export: Export) -> Row:
        return Row(case, export.revisions, measured.wall, measured.cpu, export.mb, measured.peak_mb, export.pages,
                   (empty_run.wall, empty_run.cpu))

    def timed(case: str, measured: Measured, mb: float, pages: bool = False) -> Row:
        result = measured.result
        return Row(case, result["revisions"], result["seconds"], result["cpu"], mb, measured.peak_mb,
                   result["pages"] if pages else None)

    reference = timed("(c) the same Markdown as the half import, through create_page + update_page, a commit per "
                      "save", saved, saved.result["bytes"] / 1e6, pages=True)
    rows = [
        Row("knet import mediawiki, an export with no pages (start-up and commit)", 0, empty_run.wall, empty_run.cpu,
            None, empty_run.peak_mb),
        ran(f"knet import mediawiki, half the pages ({half.mb:,.0f} MB)", half_run, half),
        ran(f"**knet import mediawiki ({full.mb:,.0f} MB)**", full_run, full),
        ran("the same export imported again (0 created)", again, full),
        timed("(a) lxml iterparse, touching each revision's text", parsed, full.mb),
        timed("the importer's reader alone (wiki.mediawiki.Dump)", read, full.mb, pages=True),
        timed("(b) wiki.wikitext.convert of each revision of the half export", converted,
              converted.result["bytes"] / 1e6),
        reference,
    ]
    report = table(rows, reference)
    growth = (full_run.peak_mb - half_run.peak_mb) / half_run.peak_mb * 100

    def ms(seconds: float, count: int) -> str:
        return f"{seconds / count * 1000:.2f}"

    notes = [
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}, commit {_commit()}, {os.cpu_count()} CPUs, {_versions()}; "
        f"load average {load_before:.2f} before the run and {load_after:.2f} after.",
        f"The export: {full.pages:,} main-namespace pages × {args.revisions} revisions of about 3–6 KB of wikitext "
        f"(seed {args.seed}), {full.redirects:,} redirects and {full.talk:,} Talk: pages (skipped), {full.mb:,.1f} "
        f"MB; {counted['with_account']:,} of the {counted['revisions']:,} revisions imported got an account here as "
        "author.",
        "Import rows: wall time of the `knet` process (start-up included: the first row; the last column leaves it "
        "out), its CPU time and peak RSS (from wait4); the references time only their own work in a process of their "
        "own. MB/s: of the export file, of the wikitext for (b), of the Markdown for (c). (b) and (c) take the half "
        "export, a wiki of its own, whose texts the import of half saved: the share of (c) compares like with like "
        "on that row. Wall times move with whatever else runs on the machine; CPU times hardly do.",
        f"Per revision, without the import's fixed cost (wall / CPU ms): import "
        f"{ms(full_run.wall - empty_run.wall, full.revisions)} / {ms(full_run.cpu - empty_run.cpu, full.revisions)}, "
        f"import of half {ms(half_run.wall - empty_run.wall, half.revisions)} / "
        f"{ms(half_run.cpu - empty_run.cpu, half.revisions)}; (b) conversion "
        f"{ms(converted.result['seconds'], converted.result['revisions'])} / "
        f"{ms(converted.result['cpu'], converted.result['revisions'])}; (c) saving "
        f"{ms(saved.result['seconds'], saved.result['revisions'])} / "
        f"{ms(saved.result['cpu'], saved.result['revisions'])}.",
        f"Peak memory of the import: {half_run.peak_mb:.0f} MB for half the export, {full_run.peak_mb:.0f} MB for "
        f"all of it ({growth:+.0f} %); {empty_run.peak_mb:.0f} MB for an export with no pages. "
        f"The whole run took {(time.perf_counter() - started) / 60:.1f} minutes.",
    ]
    return report, "\n\n".join(notes), [full_run.stdout]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        kind, *arguments = args.child
        print(json.dumps(CHILDREN[kind](*arguments)))
        return 0
    cleanup = Cleanup()
    # SIGINT too: a shell without job control starts background commands with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        workdir = Path(tempfile.mkdtemp(prefix="knet-bench-mediawiki-"))
        cleanup.dirs.append(workdir)
        report, notes, _outputs = measure(args, cleanup, workdir)
        text = f"# MediaWiki import benchmark\n\n{report}\n\n{notes}\n"
        print()
        print(report)
        print()
        print(notes)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"\nWritten to {args.output}")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        cleanup.run(args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
