"""Snippets: the passage where the query's words are, escaped, with those words marked."""
from knet.search.analysis import analyze
from knet.search.snippets import SNIPPET_CHARS, Wanted, snippet


def wanted(*words: str, prefixes: tuple[str, ...] = ()) -> Wanted:
    return Wanted(frozenset(term for word in words for term in analyze(word)), prefixes)


FILLER = "Κείμενο χωρίς σημασία για τη δοκιμή. " * 40


def test_the_passage_deep_in_a_long_text_is_shown_with_the_words_marked():
    text = FILLER + "Οι ΠΡΟΜΗΘΕΙΕΣ του Δήμου γίνονται ηλεκτρονικά. " + FILLER
    html = snippet(text, wanted("προμήθεια", "δήμος"))
    assert '<mark class="match">ΠΡΟΜΗΘΕΙΕΣ</mark>' in html and '<mark class="match">Δήμου</mark>' in html
    assert html.startswith("… ") and html.endswith(" …")
    plain = html.replace('<mark class="match">', "").replace("</mark>", "")
    assert len(plain) <= SNIPPET_CHARS + 4 and "  " not in plain


def test_the_window_with_more_of_the_query_wins():
    text = "Προμήθειες. " + FILLER + "Προμήθειες καυσίμων για τα οχήματα. " + FILLER
    html = snippet(text, wanted("προμήθειες", "καύσιμα"))
    assert '<mark class="match">καυσίμων</mark>' in html


def test_text_is_escaped_and_markup_cannot_get_in():
    html = snippet('<script>alert(1)</script> "δήμος" & <b>', wanted("δήμος"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert '&quot;<mark class="match">δήμος</mark>&quot;' in html


def test_prefixes_are_marked():
    html = snippet("Ο προμηθευτής και οι προμήθειες.", wanted(prefixes=("προμηθ",)))
    assert html.count("<mark") == 2


def test_without_a_match_the_opening_is_shown():
    assert snippet(FILLER, wanted("ανύπαρκτο")).startswith("Κείμενο χωρίς σημασία")
    assert snippet(FILLER, wanted("ανύπαρκτο")).endswith(" …")
    assert snippet("Σύντομο.", wanted()) == "Σύντομο."
