"""knet/markup.py: Markdown features people use, and nothing from the XSS corpus that could run."""
from __future__ import annotations

import html
import json
import re
import unicodedata
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from knet import markup
from knet.markup import WikiTarget
from tests.xss import corpus_dir

CORPUS_FILES = {"xss": "xss_payloads.json", "md": "markdown_xss_payloads.json"}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "form", "style", "base", "meta", "link", "svg", "math",
                  "frame", "frameset", "applet", "input", "button", "textarea", "select", "template"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data", "cite",
                  "srcset", "lowsrc", "dynsrc"}
RASTER_DATA = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]")
# Control, format (zero-width) and separator characters: skipped when reading a URL's scheme.
INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Zs"}


class Element:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)


class Collector(HTMLParser):
    """Every element of an HTML fragment, as a browser's tokenizer would see it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.elements.append(element)
        self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, attrs))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data


def parse(fragment: str) -> list[Element]:
    collector = Collector()
    collector.feed(fragment)
    collector.close()
    return collector.elements


def compact(value: str) -> str:
    """A URL as a lenient browser might read it: entities decoded (even twice), and whitespace, control and
    invisible characters removed, lower-cased."""
    previous = None
    while previous != value:
        previous, value = value, html.unescape(value)
    return "".join(ch for ch in value if not (ch.isspace() or unicodedata.category(ch) in INVISIBLE)).lower()


def scheme_of(value: str) -> str:
    url = compact(value)
    return url.split(":", 1)[0] + ":" if ":" in url else ""


def dangers(fragment: str) -> list[str]:
    """Everything in rendered HTML that could run script or load active content."""
    found = []
    for element in parse(fragment):
        if element.tag in FORBIDDEN_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attrs:
            if name.startswith("on"):
                found.append(f"<{element.tag} {name}>")
            if name == "style":
                found.append(f"<{element.tag} style>")
            if name in URL_ATTRIBUTES and value:
                scheme = scheme_of(value)
                if scheme in ("javascript:", "vbscript:"):
                    found.append(f"<{element.tag} {name}={value!r}>")
                elif scheme == "data:" and not (element.tag == "img" and name == "src"
                                                 and RASTER_DATA.match(compact(value))):
                    found.append(f"<{element.tag} {name}={value!r}>")
    return found


def wiki_resolver(title: str) -> WikiTarget:
    return WikiTarget("/wiki/" + re.sub(r"\W+", "-", title.lower()), exists=len(title) % 2 == 0)


# The corpus --------------------------------------------------------------------------------------

@cache
def _entries(path: Path) -> dict[int, dict]:
    return {entry["line"]: entry for entry in json.loads(path.read_text(encoding="utf-8"))}


def _cases() -> list:
    cases = []
    for kind, name in CORPUS_FILES.items():
        path = corpus_dir() / "xss" / name
        if path.is_file():
            cases += [pytest.param(kind, line, id=f"{kind}-line{line}") for line in _entries(path)]
        else:  # let the corpus fixture skip (or fail on CI) with its sentence
            cases.append(pytest.param(kind, 0, id=f"{kind}-corpus-missing"))
    return cases


def payload(corpus: Path, kind: str, line: int) -> dict:
    return _entries(corpus / "xss" / CORPUS_FILES[kind])[line]


@pytest.mark.parametrize(("kind", "line"), _cases())
def test_corpus_payload_cannot_run(corpus, kind, line):
    entry = payload(corpus, kind, line)
    for rendered in (markup.render(entry["payload"]), markup.render(entry["payload"], wiki_resolver)):
        assert dangers(rendered) == [], rendered


@pytest.mark.parametrize("line", [42, 54, 56, 63, 64, 66], ids=lambda line: f"md-line{line}")
def test_corpus_controls_still_render(corpus, line):
    entry = payload(corpus, "md", line)
    assert entry.get("note", "").startswith("control"), "the corpus no longer marks this line as a control"
    elements = parse(markup.render(entry["payload"]))
    if "![" in entry["payload"]:
        images = [e.get("src") for e in elements if e.tag == "img" and e.get("src")]
        assert images and all(RASTER_DATA.match(src) for src in images)
    elif "](" in entry["payload"]:
        target = re.search(r"\]\(([^)]*)\)", entry["payload"]).group(1)
        assert [e.get("href") for e in elements if e.tag == "a"] == [target]
    else:
        code = [e for e in elements if e.tag == "code"]
        assert code and code[0].text.strip().endswith(("test1", "test2"))


def test_every_control_in_the_corpus_is_checked(corpus):
    controls = sorted(line for line, entry in _entries(corpus / "xss" / CORPUS_FILES["md"]).items()
                      if entry.get("note", "").startswith("control"))
    assert controls == [42, 54, 56, 63, 64, 66]


# The checker itself must notice what it is looking for --------------------------------------------

@pytest.mark.parametrize("bad", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" &#1;javascript:alert(1)">x</a>',
    '<a href="j a v a s c r i p t:alert(1)">x</a>',
    '<a href="&#x2028;javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">x</a>',
    '<a href="&amp;#106;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="data:image/png;base64,AAAA">x</a>',
    '<img src="data:image/svg+xml;base64,AAAA">',
    "<iframe src=x></iframe>", "<form><input></form>", "<style>*{}</style>", "<object data=x>", "<embed src=x>",
])
def test_checker_catches_dangerous_html(bad):
    assert dangers(bad)


@pytest.mark.parametrize("good", ['<img src="data:image/gif;base64,R0lGOD">', '<a href="/javascript:x">x</a>',
                                  '<a href="https://example.org/?q=javascript:x">x</a>', "<p>javascript:alert(1)</p>"])
def test_checker_accepts_harmless_html(good):
    assert dangers(good) == []


# Markdown people write ---------------------------------------------------------------------------

def test_tables():
    source = "| Υπηρεσία | Τηλέφωνο |\n|:---|---:|\n| Δημοτολόγιο | 210 123 |\n| Ταμείο | 210 456 |\n"
    elements = parse(markup.render(source))
    tags = [e.tag for e in elements]
    assert tags[:4] == ["table", "thead", "tr", "th"]
    assert [e.text for e in elements if e.tag == "th"] == ["Υπηρεσία", "Τηλέφωνο"]
    assert [e.text for e in elements if e.tag == "td"] == ["Δημοτολόγιο", "210 123", "Ταμείο", "210 456"]
    assert [e.get("align") for e in elements if e.tag == "th"] == ["left", "right"]


def test_fenced_code_keeps_its_text_escaped_and_language():
    source = "```python\nif a < b and c > d:\n    print('<script>')\n```\n"
    rendered = markup.render(source)
    elements = parse(rendered)
    assert [e.tag for e in elements] == ["pre", "code"]
    assert elements[1].get("class") == "language-python"
    assert elements[1].text == "if a < b and c > d:\n    print('<script>')\n"
    assert "&lt;script&gt;" in rendered


def test_headings_get_ids_that_links_can_use():
    rendered = markup.render("# Δήμος Αθηναίων\n\n## Ωράριο\n\n## Ωράριο\n\n[πάνω](#δήμος-αθηναίων)")
    elements = parse(rendered)
    ids = [e.get("id") for e in elements if re.fullmatch(r"h\d", e.tag)]
    assert ids[0] == "δήμος-αθηναίων"
    assert len(set(ids)) == 3, ids  # the repeated heading gets an id of its own
    assert [e.get("href") for e in elements if e.tag == "a"] == ["#δήμος-αθηναίων"]


def test_footnotes_link_both_ways():
    rendered = markup.render("Ο νόμος[^1] ισχύει.\n\n[^1]: Ν. 3852/2010.\n")
    elements = parse(rendered)
    ids = {e.get("id") for e in elements if e.get("id")}
    fragment_links = [e.get("href") for e in elements if e.tag == "a" and (e.get("href") or "").startswith("#")]
    assert len(fragment_links) == 2  # to the note, and back
    for href in fragment_links:
        assert href[1:] in ids, f"{href} points nowhere in {rendered}"
    notes = [e for e in elements if e.tag == "li" and e.get("id")]
    assert len(notes) == 1 and "Ν. 3852/2010." in notes[0].text


def test_raw_html_is_sanitised_but_text_survives():
    rendered = markup.render('Καλημέρα <b onclick="x()">κόσμε</b><script>alert(1)</script>')
    assert dangers(rendered) == []
    assert "<b>κόσμε</b>" in rendered
    assert "Καλημέρα" in rendered


def test_links_get_rel_and_keep_safe_schemes():
    elements = parse(markup.render("[α](https://example.gr) [β](mailto:a@example.gr) [γ](/wiki/x)"))
    links = [e for e in elements if e.tag == "a"]
    assert [e.get("href") for e in links] == ["https://example.gr", "mailto:a@example.gr", "/wiki/x"]
    assert all("noopener" in (e.get("rel") or "") for e in links)


def test_wiki_links_mark_missing_pages():
    def resolve(title):
        return WikiTarget("/wiki/yparxei", True) if title == "Υπάρχει" else WikiTarget("/pages/new?title=x", False)

    elements = parse(markup.render("[[Υπάρχει]] και [[Λείπει|αυτή]]", resolve))
    links = [(e.get("href"), e.get("class"), e.text) for e in elements if e.tag == "a"]
    assert links == [("/wiki/yparxei", "wikilink", "Υπάρχει"), ("/pages/new?title=x", "wikilink missing", "αυτή")]
    assert markup.wiki_link_titles("[[Α]] [[Β|β]] [[Α]]") == ["Α", "Β"]


def test_wiki_link_label_cannot_inject_markup():
    rendered = markup.render('[[Σελίδα|<img src=x onerror=alert(1)>]]', wiki_resolver)
    assert dangers(rendered) == []
