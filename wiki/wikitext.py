"""MediaWiki wikitext to knet Markdown: the only module that imports mwparserfromhell.

What MediaWiki's parser would compute (templates, parser functions, images) cannot be computed here:
such parts are kept as visible text or left out, and `Conversion.problems` says which, so the
person importing knows what to look at. Everything else (headings, bold and italic, links, lists,
tables, footnotes) becomes Markdown that knet.markup renders and sanitises like any page.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import unescape

import mwparserfromhell
from mwparserfromhell.nodes import (Argument, Comment, ExternalLink, Heading, HTMLEntity, Tag, Template, Text,
                                    Wikilink)

#: Kinds of things the conversion could not carry over, as `Conversion.problems` names them.
TEMPLATES, PARSER_FUNCTIONS, FILES, TABLES, MATH = "templates", "parser functions", "files", "tables", "math"
#: Namespace numbers that matter to links (MediaWiki's fixed numbers, whatever a site calls them).
MEDIA, FILE, TEMPLATE, CATEGORY = -2, 6, 10, 14
#: MediaWiki's canonical (English) namespace names, valid on every site beside the site's own names.
CANONICAL_NAMESPACES = {"media": MEDIA, "special": -1, "talk": 1, "user": 2, "user talk": 3, "project": 4,
                        "file": FILE, "image": FILE, "mediawiki": 8, "template": TEMPLATE, "help": 12,
                        "category": CATEGORY}
#: Templates whose meaning is their (first, or for `lang` last) argument.
TRANSPARENT_TEMPLATES = {"nowrap", "nobr", "small", "big", "lang", "nobold", "noitalic", "resize", "em", "strong"}
#: Templates and magic words that only arrange the page on MediaWiki: left out without a word.
LAYOUT_TEMPLATES = {"reflist", "references", "clear", "clr", "-", "toc", "defaultsort", "displaytitle", "notoc",
                    "stub", "sfn whitelist"}
#: Templates that stand for a character.
SYMBOL_TEMPLATES = {"ndash": "–", "mdash": "—", "nbsp": "\u00a0", "middot": "·", "·": "·", "spaced ndash": " – "}
TEMPLATE_PREFIXES = ("subst:", "safesubst:", "msg:", "msgnw:", "raw:")
#: HTML elements kept as they are (without attributes: the sanitiser would drop most anyway).
INLINE_HTML = {"sup", "sub", "s", "del", "u", "ins", "mark", "q", "small", "abbr"}
CODE_TAGS = {"code", "tt", "kbd", "samp", "var"}
BLOCK_CODE_TAGS = {"pre", "syntaxhighlight", "source"}
#: Elements whose content is never shown (scripts, styles) or only on transclusion.
DROPPED_TAGS = {"script", "style", "includeonly", "templatedata", "templatestyles", "indicator"}
MAX_VISIBLE_TEMPLATE = 120
_REDIRECT = re.compile(r"\s*#\s*[^\s\[]{2,30}\s*:?\s*\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|[^\]]*)?\]\]", re.I)
_MAGIC_VARIABLE = re.compile(r"[A-Z]{4,}\Z")
_MAGIC_WORD = re.compile(r"__[A-ZÄÖÜ]+__")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|])")
_LINE_START = re.compile(r"(^|\n)([ \t]*)([-+>=]|\d+\.)")
_LIST_LINE = re.compile("\x01([*#:;]+)\x02(.*)")
_URL_SCHEMES = ("http://", "https://", "ftp://", "mailto:")
#: Control characters, which the conversion uses as markers of its own.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Conversion:
    """A text converted to Markdown, the categories it named, and what could not be converted."""

    markdown: str
    categories: list[str] = field(default_factory=list)
    #: kind (TEMPLATES, FILES…) -> the names concerned, in order of appearance.
    problems: dict[str, list[str]] = field(default_factory=dict)


def redirect_target(wikitext: str) -> str | None:
    """The title a redirect page points to (#REDIRECT [[Title]] in any language), or None."""
    match = _REDIRECT.match(wikitext)
    return " ".join(match.group(1).replace("_", " ").split()) if match else None


def namespace_names(names: Mapping[int, str]) -> dict[str, int]:
    """Lower-cased namespace name -> number, from a site's names and MediaWiki's canonical ones."""
    return {**CANONICAL_NAMESPACES, **{name.lower(): number for number, name in names.items() if name}}


def convert(wikitext: str, namespaces: Mapping[str, int] | None = None, title: str = "") -> Conversion:
    """Convert one revision's wikitext to Markdown (namespaces: see `namespace_names`; title: the page's)."""
    target = redirect_target(wikitext)
    if target is not None:
        return Conversion(f"→ [[{_link_part(target)}]]\n")
    converter = _Converter(namespaces if namespaces is not None else CANONICAL_NAMESPACES, title)
    body = converter.nodes(mwparserfromhell.parse(_CONTROL.sub("", wikitext)).nodes)
    markdown = _blocks(_MAGIC_WORD.sub("", body))
    if converter.footnotes:
        notes = "\n".join(f"[^{number}]: {text}" for number, text in enumerate(converter.footnotes, 1))
        markdown = f"{markdown}\n\n{notes}" if markdown else notes
    problems = {kind: list(dict.fromkeys(names)) for kind, names in converter.problems.items()}
    return Conversion(markdown.strip() + "\n" if markdown.strip() else "", list(dict.fromkeys(converter.categories)),
                      problems)


class _Converter:
    def __init__(self, namespaces: Mapping[str, int], title: str) -> None:
        self.namespaces, self.title = namespaces, title
        self.categories: list[str] = []
        self.problems: dict[str, list[str]] = {}
        self.footnotes: list[str] = []
        self.footnote_names: dict[str, int] = {}
        #: Inside a table cell: a labelled [[link|label]] would split the cell at its bar.
        self.in_cell = False

    def report(self, kind: str, name: str) -> None:
        self.problems.setdefault(kind, []).append(name)

    def nodes(self, nodes) -> str:
        return "".join(self.node(node) for node in nodes)

    def node(self, node) -> str:
        if isinstance(node, Text):
            return _escape(str(node.value))
        if isinstance(node, HTMLEntity):
            return _escape(node.normalize())
        if isinstance(node, Heading):
            level = min(max(node.level, 1), 6)
            return f"\n\n{'#' * level} {self.inline(node.title.nodes)}\n\n"
        if isinstance(node, Wikilink):
            return self.wikilink(node)
        if isinstance(node, ExternalLink):
            return self.external_link(node)
        if isinstance(node, Template):
            return self.template(node)
        if isinstance(node, Tag):
            return self.tag(node)
        if isinstance(node, (Comment, Argument)):
            return ""
        return _escape(str(node))

    def inline(self, nodes) -> str:
        """Nodes on one line (a heading, a cell, a footnote): line breaks become spaces."""
        return " ".join(self.nodes(nodes).split())

    # Links --------------------------------------------------------------------------------------

    def wikilink(self, link: Wikilink) -> str:
        target = str(link.title).strip().replace("_", " ")
        label = " ".join(link.text.strip_code().split()) if link.text is not None else ""
        shown_colon = target.startswith(":")
        target = target.lstrip(":").strip()
        prefix, _, rest = target.partition(":")
        namespace = self.namespaces.get(prefix.strip().lower()) if rest else None
        if namespace == CATEGORY and not shown_colon:
            self.categories.append(" ".join(rest.split()))
            return ""
        if namespace in (FILE, MEDIA) and not shown_colon:
            self.report(FILES, " ".join(rest.split()))
            return ""
        if namespace is not None:
            # Pages of other namespaces are not imported: their name stays as text.
            return _escape(label or target)
        page, _, _fragment = target.partition("#")
        page = " ".join(page.split())
        if not page:
            return _escape(label or target)
        page, label = _link_part(page), _link_part(label)
        if not label or label == page or self.in_cell:
            return f"[[{page}]]"
        return f"[[{page}|{label}]]"

    def external_link(self, link: ExternalLink) -> str:
        url = str(link.url).strip()
        if url.startswith("//"):
            url = "https:" + url
        if not url.lower().startswith(_URL_SCHEMES):
            return _escape(str(link))
        destination = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C") \
            .replace(">", "%3E")
        label = self.inline(link.title.nodes) if link.title is not None else ""
        return f"[{label or _escape(url)}]({destination})"

    # Templates ----------------------------------------------------------------------------------

    def template(self, template: Template) -> str:
        name = " ".join(str(template.name).split())
        lower = name.lower()
        for prefix in TEMPLATE_PREFIXES:
            if lower.startswith(prefix):
                name, lower = name[len(prefix):].strip(), lower[len(prefix):].strip()
        prefix, colon, rest = name.partition(":")
        if colon and self.namespaces.get(prefix.lower()) == TEMPLATE:
            name, lower = rest.strip(), rest.strip().lower()
        if lower in ("pagename", "fullpagename"):
            return _escape(self.title)
        if lower == "!":
            return "\\|"
        if lower == "=":
            return "="
        if lower.split(":")[0] in LAYOUT_TEMPLATES:
            return ""
        if lower in SYMBOL_TEMPLATES:
            return SYMBOL_TEMPLATES[lower]
        if lower.startswith("#") or ":" in name or (_MAGIC_VARIABLE.match(name) and not template.params):
            self.report(PARSER_FUNCTIONS, name.split(":")[0])
            return ""
        if lower in TRANSPARENT_TEMPLATES and template.params:
            positional = [param for param in template.params if not param.showkey]
            if positional:
                chosen = positional[-1] if lower == "lang" else positional[0]
                return self.nodes(chosen.value.nodes)
        self.report(TEMPLATES, name)
        text = " ".join(str(template).split())
        if "\n" in str(template).strip() or len(text) > MAX_VISIBLE_TEMPLATE:
            return ""
        return f"`{text.replace('`', '')}`"

    # Tags ---------------------------------------------------------------------------------------

    def tag(self, tag: Tag) -> str:
        name = str(tag.tag).strip().lower()
        markup = tag.wiki_markup
        if name in ("li", "dt", "dd") and markup:
            return f"\x01{markup}\x02"
        if name == "hr":
            return "\n\n---\n\n"
        if name == "table":
            return self.table(tag)
        if name == "br":
            return "<br>"
        if tag.self_closing and name != "ref":
            return ""
        contents = tag.contents.nodes if tag.contents is not None else []
        if name in ("b", "strong", "i", "em"):
            return _emphasis("**" if name in ("b", "strong") else "*", self.nodes(contents))
        if name == "ref":
            return self.footnote(tag)
        if name == "references" or name in DROPPED_TAGS:
            return ""
        if name == "nowiki":
            return _escape(unescape(str(tag.contents or "")))
        if name in BLOCK_CODE_TAGS:
            code = unescape(str(tag.contents or "")).strip("\n")
            fence = "~~~" if "```" in code else "```"
            language = str(tag.get("lang").value).strip() if tag.has("lang") else ""
            return f"\n\n{fence}{re.sub(r'[^A-Za-z0-9_+-]', '', language)}\n{code}\n{fence}\n\n"
        if name in CODE_TAGS or name == "math":
            if name == "math":
                self.report(MATH, " ".join(str(tag.contents or "").split())[:60])
            code = " ".join(unescape(str(tag.contents or "")).split()).replace("`", "'")
            return f"`{code}`" if code else ""
        if name == "gallery":
            for line in str(tag.contents or "").splitlines():
                if line.strip():
                    self.report(FILES, line.split("|")[0].strip().partition(":")[2] or line.strip())
            return ""
        if name == "blockquote":
            inner = _blocks(self.nodes(contents)).strip()
            return "\n\n" + "\n".join("> " + line for line in inner.splitlines()) + "\n\n"
        if name in INLINE_HTML:
            inner = self.nodes(contents)
            return f"<{name}>{inner}</{name}>" if inner.strip() else ""
        if name in ("p", "div", "center", "poem"):
            return "\n\n" + self.nodes(contents) + "\n\n"
        # Anything else (span, font, big…) gives its text; its attributes (styles, handlers) are dropped.
        return self.nodes(contents)

    def footnote(self, tag: Tag) -> str:
        name = str(tag.get("name").value).strip().strip('"') if tag.has("name") else ""
        if name in self.footnote_names:
            return f"[^{self.footnote_names[name]}]"
        text = self.inline(tag.contents.nodes) if tag.contents is not None else ""
        if not text:
            return ""
        self.footnotes.append(text)
        if name:
            self.footnote_names[name] = len(self.footnotes)
        return f"[^{len(self.footnotes)}]"

    # Tables -------------------------------------------------------------------------------------

    def table(self, tag: Tag) -> str:
        """A Markdown table when every cell is one line without spans; otherwise each row as a line of text."""
        caption, rows, implicit = "", [], []
        for node in tag.contents.nodes if tag.contents is not None else []:
            if not isinstance(node, Tag):
                continue
            kind = str(node.tag).lower()
            if kind in ("td", "th") and str(node).lstrip().startswith("|+") or kind == "caption":
                caption = re.sub(r"\A\\?\+\s*", "", self.inline(node.contents.nodes))
            elif kind in ("td", "th"):
                implicit.append(node)
            elif kind == "tr":
                cells = [cell for cell in node.contents.nodes
                         if isinstance(cell, Tag) and str(cell.tag).lower() in ("td", "th")]
                rows.append(cells)
        if implicit:
            rows.insert(0, implicit)
        rows = [row for row in rows if row]
        if not rows:
            return ""
        simple = all(not cell.has("colspan") and not cell.has("rowspan") and not _is_block(cell)
                     for row in rows for cell in row)
        self.in_cell = simple
        try:
            texts = [[self.inline(cell.contents.nodes) for cell in row] for row in rows]
        finally:
            self.in_cell = False
        lead = f"**{caption}**\n\n" if caption else ""
        if not simple:
            self.report(TABLES, caption or texts[0][0][:40])
            return "\n\n" + lead + "\n\n".join(" · ".join(row) for row in texts) + "\n\n"
        width = max(len(row) for row in texts)
        texts = [row + [""] * (width - len(row)) for row in texts]
        lines = ["| " + " | ".join(row) + " |" for row in texts]
        lines.insert(1, "|" + " --- |" * width)
        return "\n\n" + lead + "\n".join(lines) + "\n\n"


def _is_block(cell: Tag) -> bool:
    """A cell holding several paragraphs, a list or a table, which a Markdown table cell cannot."""
    text = str(cell.contents or "").strip()
    return "\n\n" in text or bool(re.search(r"(^|\n)\s*([*#:;]|\{\|)", text))


def _link_part(text: str) -> str:
    """A link's title or label as knet's [[title|label]] syntax can hold it."""
    return " ".join(re.sub(r"[\[\]|]", "", text).split())[:200]


def _escape(text: str) -> str:
    """Plain text as Markdown that shows it as it is: no emphasis, links, HTML or lists made of it."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("<", "&lt;").replace(">", "&gt;")
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), text)


def _emphasis(marker: str, inner: str) -> str:
    """Bold or italic around a text; spaces stay outside (Markdown ignores `** x**`)."""
    if not inner.strip():
        return inner
    lead, core, trail = re.match(r"(\s*)(.*?)(\s*)\Z", inner, re.S).groups()
    return f"{lead}{marker}{core}{marker}{trail}"


def _blocks(text: str) -> str:
    """Lay out the lines: list markers become Markdown lists, lines lose MediaWiki's indentation (which
    Markdown would read as code), and lists and tables are set apart by blank lines."""
    out: list[str] = []
    fence = None
    previous, top_marker = "blank", ""
    for raw in text.replace("\x02\x01", "").split("\n"):
        stripped = raw.strip()
        if fence:
            out.append(raw)
            if stripped == fence:
                fence = None
            continue
        if stripped in ("```", "~~~") or re.match(r"(```|~~~)[\w+-]*\Z", stripped):
            fence = stripped[:3]
            out.append(stripped)
            previous = "text"
            continue
        match = _LIST_LINE.match(stripped)
        if match:
            markers, rest = match.group(1), match.group(2).strip()
            rest = re.sub("\x01[*#:;]+\x02", " : ", rest)
            kind, line = _list_item(markers, rest)
            # A list of the other kind (numbered after bulleted) starts after a blank line, or joins the first.
            if kind != previous and previous != "blank" or kind == "list" and markers[0] != top_marker:
                if out and out[-1]:
                    out.append("")
            top_marker = markers[0]
            out.append(line)
            previous = kind
            continue
        kind = "blank" if not stripped else "table" if stripped.startswith("|") else "text"
        if kind == "text" and previous in ("list", "table") or kind == "table" and previous == "text":
            out.append("")
        out.append(stripped)
        previous = kind
    result = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", result).strip("\n")


def _list_item(markers: str, rest: str) -> tuple[str, str]:
    """A line of MediaWiki list markers (* # ; :) as a Markdown list item or paragraph."""
    if markers[-1] == ";":
        term, _, definition = rest.partition(" : ")
        return "text", f"**{term.strip()}**" + (f": {definition.strip()}" if definition.strip() else "")
    if set(markers) == {":"}:
        # Indentation (replies on talk pages): a paragraph of its own.
        return "quote", rest + "\n"
    depth = sum(1 for marker in markers if marker in "*#")
    indent = "    " * max(depth - 1, 0)
    if markers[-1] == ":":
        return "list", f"{indent}    {rest}" if depth else rest
    return "list", f"{indent}{'1.' if markers[-1] == '#' else '-'} {rest}"
