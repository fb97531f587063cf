"""wiki/wikitext.py: wikitext to Markdown, and nothing that could run surviving the conversion and knet.markup."""
from __future__ import annotations

import pytest

from knet import markup
from tests.xss import dangers, payloads, xss_cases, XSS_CHUNK
from wiki.wikitext import convert, namespace_names, redirect_target


def md(wikitext: str, **kwargs) -> str:
    return convert(wikitext, **kwargs).markdown


def html(wikitext: str) -> str:
    return markup.render(md(wikitext), lambda title: markup.WikiTarget("/wiki/" + title, True))


@pytest.mark.parametrize(("wikitext", "expected"), [
    ("== Ιστορία ==\ntext", "## Ιστορία\n\ntext\n"),
    ("=== Sub ===", "### Sub\n"),
    ("'''bold''' and ''italic'' and '''''both'''''", "**bold** and *italic* and ***both***\n"),
    ("See [[Δημοτικό Συμβούλιο]] and [[Main Page|the start]].", "See [[Δημοτικό Συμβούλιο]] and [[Main Page|the start]].\n"),
    ("[[Page_name#Section|here]]", "[[Page name|here]]\n"),
    ("[https://example.gr Δήμος] and https://example.org", "[Δήμος](https://example.gr) and [https://example.org](https://example.org)\n"),
    ("* one\n* two\n** nested\n# first", "- one\n- two\n    - nested\n\n1. first\n"),
    ("; Term : definition", "**Term**: definition\n"),
    ("a\n----\nb", "a\n\n---\n\nb\n"),
    ("<code>x*y</code> and <nowiki>''not italic''</nowiki>", "`x*y` and ''not italic''\n"),
    ("2 * 3 = 6 and [brackets] and <b>html</b>", "2 \\* 3 = 6 and \\[brackets\\] and **html**\n"),
    ("{{Citation needed}} text", "`{{Citation needed}}` text\n"),
    ("a{{ndash}}b {{lang|de|Straße}}", "a–b Straße\n"),
    ("#REDIRECT [[Target page]]", "→ [[Target page]]\n"),
    ("#WEITERLEITUNG [[Ziel]]", "→ [[Ziel]]\n"),
    ("x<ref>Source [[A]]</ref> y<ref name=s>Two</ref> z<ref name=s/>", "x[^1] y[^2] z[^2]\n\n[^1]: Source [[A]]\n[^2]: Two\n"),
    ("<pre>line {{x}}\n  indented</pre>", "```\nline {{x}}\n  indented\n```\n"),
])
def test_common_wikitext_becomes_markdown(wikitext, expected):
    assert md(wikitext) == expected


def test_a_table_becomes_a_markdown_table():
    result = convert('{| class="wikitable"\n|+ Τέλη\n! Υπηρεσία !! Τέλος\n|-\n| Άδεια || 20 €\n|-\n'
                     '| [[Βεβαίωση|Βεβ.]]\n| 5 €\n|}')
    assert result.markdown == ("**Τέλη**\n\n| Υπηρεσία | Τέλος |\n| --- | --- |\n| Άδεια | 20 € |\n"
                               "| [[Βεβαίωση]] | 5 € |\n")
    assert result.problems == {}
    rendered = markup.render(result.markdown)
    assert "<th>Υπηρεσία</th>" in rendered and "<td>20 €</td>" in rendered


def test_a_table_with_spans_is_kept_as_text_and_reported():
    result = convert('{|\n! colspan="2" | Head\n|-\n| a || b\n|}')
    assert "| --- |" not in result.markdown and "Head" in result.markdown and "a · b" in result.markdown
    assert result.problems == {"tables": ["Head"]}


def test_categories_files_templates_and_parser_functions_are_reported():
    names = namespace_names({6: "Datei", 14: "Kategorie", 10: "Vorlage"})
    result = convert("[[Kategorie:Verkehr]] [[Category:Roads]] [[Datei:Bild.png|thumb|Bild]] {{Vorlage:Infobox\n"
                     "| a = 1\n}} {{#if: x | y}} {{PAGENAME}} {{DEFAULTSORT:X}} <math>x^2</math> [[:Kategorie:Link]]",
                     names, title="Straße")
    assert result.categories == ["Verkehr", "Roads"]
    assert result.problems == {"files": ["Bild.png"], "templates": ["Infobox"], "parser functions": ["#if"],
                               "math": ["x^2"]}
    # The multi-line infobox is left out, the page name filled in, a link to a category shown as text.
    assert " ".join(result.markdown.split()) == "Straße `x^2` Kategorie:Link"


def test_links_to_other_namespaces_stay_text():
    assert md("[[User:Maria|Μαρία]] and [[Help:Contents]]") == "Μαρία and Help:Contents\n"


def test_redirect_targets():
    assert redirect_target("#REDIRECT [[Çullu, Quzanlı]]") == "Çullu, Quzanlı"
    assert redirect_target("#redirect:[[Some_page#Part|x]]") == "Some page"
    assert redirect_target("Not a #REDIRECT [[x]]") is None


@pytest.mark.parametrize("wikitext", [
    "<script>alert(1)</script>",
    '<span onmouseover="alert(1)">hover</span>',
    "[javascript:alert(1) click me]",
    '<a href="javascript:alert(1)">x</a>',
    "[[javascript:alert(1)|x]]",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "{{#tag:script|alert(1)}}",
    "<img src=x onerror=alert(1)>",
    '{| onclick="alert(1)"\n| <iframe src="javascript:alert(1)"></iframe>\n|}',
])
def test_script_in_wikitext_does_not_survive(wikitext):
    rendered = html(wikitext)
    assert dangers(rendered) == [], rendered
    assert "<script" not in rendered and 'href="javascript' not in rendered.lower()


@pytest.mark.parametrize(("name", "start"), xss_cases())
def test_the_xss_corpus_in_wikitext_cannot_run(corpus, name, start):
    """Each payload as text, as a link's label and target, in a template and in a cell: nothing may run."""
    for payload in payloads(corpus, name)[start:start + XSS_CHUNK]:
        for wikitext in (payload, f"[[{payload}|x]] [[Page|{payload}]]", f"[{payload} label] [https://a.gr {payload}]",
                         f"{{{{T|{payload}}}}}", f"{{|\n| {payload}\n|}}", f"<ref>{payload}</ref>"):
            rendered = html(wikitext)
            assert dangers(rendered) == [], (payload, wikitext, rendered)
