"""The search page and /opensearch.xml, against a real node whose pages reach the index through jobs."""
from __future__ import annotations

import re
import shutil
from xml.etree import ElementTree

import pytest

from knet import jobs
from knet.search.indexing import index_path

NOISE = "".join(chr(32 + (n * 7919) % 95) for n in range(2000))
HOSTILE_QUERIES = [
    '"δήμος', 'δήμος"', '"""', "(", ")", "((δήμος", "AND", "OR", "NOT", "-", "+", "-δήμος", "*", "**", "?",
    "δήμ*", "*δήμος", "δ*μος", "AND OR NOT", "field:value", "title:δήμος", "[a TO z]", "^2", "δήμος^",
    "~", "δήμος~2", "\\", "'", "%", "%00", "\x00", "δήμος\x00", "\x01\x02\x1f\x7f", "\u200b", "\ufeff",
    "<script>alert(1)</script>", "&amp;", "δήμος " * 400, "*" * 2000, '"' * 2001, "ά" * 3000,
    NOISE, '"ΚΕΠ, δήμος"',  # a comma inside quotes once made a phrase query on the tags field
]


@pytest.fixture
def pages(make_user, make_page):
    """Public, internal and private pages about procurement, indexed through the job queue."""
    maria = make_user("maria", role="editor")
    nikos = make_user("nikos", role="editor")
    make_page(maria, "Προμήθειες του Δήμου", "Οι προμήθειες γίνονται με ηλεκτρονικό διαγωνισμό.",
              visibility="public", tags=["προμήθειες", "ΚΕΠ"])
    make_page(maria, "Procurement rules", "The procurement rule for municipal supplies.", visibility="public",
              language="en", tags=["procurement"])
    make_page(maria, "Εσωτερικές προμήθειες", "Εσωτερικές οδηγίες για τις προμήθειες υλικών.", visibility="internal")
    make_page(nikos, "Σημειώσεις Νίκου", "Ιδιωτικές σημειώσεις για προμήθειες.", visibility="private")
    jobs.run_pending()
    return {"maria": maria, "nikos": nikos}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def result_titles(html: str) -> list[str]:
    return re.findall(r'<li class="result">\s*<h2[^>]*><a href="[^"]*">([^<]*)</a></h2>', html)


def test_every_page_has_a_labelled_search_box_and_the_opensearch_link(client):
    html = text_of(client.get("/"))
    form = re.search(r'<form role="search" method="get" action="/search"[^>]*>(.*?)</form>', html, re.S)
    assert form, html
    assert '<label for="site-search-q"' in form.group(1) and 'id="site-search-q" name="q"' in form.group(1)
    assert '<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml"' in html


def test_results_are_a_list_with_headings_links_labels_and_snippets(client, pages):
    response = client.get("/search?q=προμηθειες")
    assert response.status_code == 200
    html = text_of(response)
    assert '<html lang="el">' in html and "<h1>Αναζήτηση</h1>" in html
    assert result_titles(html) == ["Προμήθειες του Δήμου"]
    status = re.search(r'<div role="status"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "1 αποτέλεσμα" in status and "προμηθειες" in status
    item = html[html.index('<li class="result">'):html.index("</li>", html.index('<li class="result">'))]
    assert re.search(r'<a href="/pages/\d+">', item)
    assert "Σελίδα wiki" in item and 'class="type-icon" aria-hidden="true"' in item
    assert re.search(r'<mark class="match[^"]*">[Ππ]ρομήθειες</mark>', item), item
    assert "Ελληνικά" in item
    assert 'href="/search?q=%CF%80%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CE%B9%CE%B5%CF%82&amp;tag=' in item
    # The link leads to the page (through its permanent address).
    link = re.search(r'<a href="(/pages/\d+)">', item).group(1)
    assert client.get(link).status_code == 302


def test_updated_date_is_formatted_for_the_language(client, pages):
    greek = text_of(client.get("/search?q=procurement"))
    assert re.search(r"Ενημερώθηκε στις \d{1,2} \w+ \d{4}", greek), greek
    client.get("/language/en?next=/")
    english = text_of(client.get("/search?q=procurement"))
    assert re.search(r"Updated \w+ \d{1,2}, \d{4}", english)
    assert "1 result for “procurement”." in english and "Wiki page" in english and "English" in english


def test_anonymous_search_never_shows_or_counts_internal_or_private_pages(client, pages):
    html = text_of(client.get("/search?q=προμήθειες"))
    assert result_titles(html) == ["Προμήθειες του Δήμου"]
    assert "1 αποτέλεσμα" in html
    for hidden in ("Εσωτερικές", "Νίκου", "Ιδιωτικές"):
        assert hidden not in html
    # A query only hidden pages match finds nothing, and suggests nothing from them either.
    html = text_of(client.get("/search?q=σημειωσεις"))
    assert "Δεν βρέθηκε τίποτα" in html and "Νίκου" not in html and "Μήπως εννοούσατε" not in html
    html = text_of(client.get("/search?q=εσωτερικεσ"))
    assert result_titles(html) == [] and "Εσωτερικές" not in html


def test_signed_in_search_sees_internal_and_own_private_pages_only(client, pages, sign_in):
    sign_in(pages["maria"])
    assert sorted(result_titles(text_of(client.get("/search?q=προμήθειες")))) == [
        "Εσωτερικές προμήθειες", "Προμήθειες του Δήμου"]
    # Signing in as someone else replaces the session.
    sign_in(pages["nikos"])
    titles = result_titles(text_of(client.get("/search?q=προμήθειες")))
    assert sorted(titles) == ["Εσωτερικές προμήθειες", "Προμήθειες του Δήμου", "Σημειώσεις Νίκου"]


def test_filters_work_as_links_and_as_a_plain_get_form(client, pages):
    both = "procurement OR προμήθειες"
    assert sorted(result_titles(text_of(client.get("/search", query_string={"q": both})))) == [
        "Procurement rules", "Προμήθειες του Δήμου"]
    html = text_of(client.get("/search", query_string={"q": both, "lang": "en"}))
    assert result_titles(html) == ["Procurement rules"]
    assert '<option value="en" selected>' in html
    assert result_titles(text_of(client.get("/search?q=προμήθειες&tag=κεπ"))) == ["Προμήθειες του Δήμου"]
    assert result_titles(text_of(client.get("/search?q=προμήθειες&tag=άλλο"))) == []
    assert result_titles(text_of(client.get("/search?q=προμήθειες&type=question"))) == []
    assert result_titles(text_of(client.get("/search?q=προμήθειες&type=page"))) == ["Προμήθειες του Δήμου"]
    # Unknown filter values narrow nothing rather than fail.
    assert result_titles(text_of(client.get("/search?q=προμήθειες&type=nonsense&lang=xx"))) == [
        "Προμήθειες του Δήμου"]
    form = re.search(r'<form method="get" action="/search" class="search-form"(.*?)</form>', html, re.S).group(1)
    for name in ("q", "type", "lang", "tag"):
        assert f'name="{name}"' in form
    assert '<a href="/search?q=procurement+OR+%CF%80' in html  # remove the filters, keep the words


def test_pagination_keeps_the_query_and_filters(client, make_user, make_page, app):
    author = make_user("eleni", role="editor")
    size = app.config["KNET"]["page_size"]
    for n in range(size + 3):
        make_page(author, f"Πρακτικό συνεδρίασης {n}", "Το δημοτικό συμβούλιο συνεδρίασε.", visibility="public")
    jobs.run_pending()
    first = text_of(client.get("/search?q=συνεδρίαση&lang=el"))
    assert len(result_titles(first)) == size
    assert 'class="pagination"' in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "lang=el" in next_link and "q=" in next_link and "page=2" in next_link
    second = text_of(client.get(next_link))
    assert len(result_titles(second)) == 3
    assert f'<ol class="search-results" start="{size + 1}">' in second
    beyond = client.get("/search?q=συνεδρίαση&page=99")
    assert beyond.status_code == 200 and result_titles(text_of(beyond)) == []
    for page in ("0", "-1", "abc", "99999999999999999999", ""):
        assert client.get(f"/search?q=συνεδρίαση&page={page}").status_code == 200


def test_did_you_mean_links_to_the_corrected_query(client, pages):
    html = text_of(client.get("/search?q=προμηθιες"))
    match = re.search(r'<p class="suggestion">Μήπως εννοούσατε <a href="([^"]+)" class="suggestion-link">([^<]+)</a>;',
                      html)
    assert match, html
    assert match.group(2) == "προμήθειες"
    assert result_titles(text_of(client.get(match.group(1).replace("&amp;", "&")))) == ["Προμήθειες του Δήμου"]


def test_empty_query_and_no_results_get_a_friendly_message(client, pages):
    for path in ("/search", "/search?q=", "/search?q=%20%20", "/search?q=%00"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Πληκτρολογήστε μία ή περισσότερες λέξεις" in text_of(response)
    html = text_of(client.get("/search?q=ζαχαροπλαστική"))
    assert "Δεν βρέθηκε τίποτα για «ζαχαροπλαστική»." in html
    assert "συνδεθείτε για να συμπεριληφθούν" in html


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=lambda q: repr(q[:20]))
def test_any_query_gives_a_page_never_an_error(client, pages, query):
    response = client.get("/search", query_string={"q": query, "tag": query, "type": query, "lang": query,
                                                   "page": query})
    assert response.status_code == 200, text_of(response)[:2000]
    html = text_of(response)
    assert "<script>alert" not in html and "\x00" not in html


def test_a_snippet_cannot_inject_markup(client, make_user, make_page):
    author = make_user("eleni", role="editor")
    make_page(author, "<b>Τίτλος</b> δοκιμή", "Κείμενο με `<img src=x onerror=alert(1)>` δοκιμή.",
              visibility="public", tags=["<i>x</i>"])
    jobs.run_pending()
    html = text_of(client.get("/search?q=δοκιμή"))
    assert "<img src=x" not in html and "<b>Τίτλος</b>" not in html and "<i>x</i>" not in html
    assert "&lt;b&gt;Τίτλος&lt;/b&gt;" in html


def test_opensearch_description(client, app):
    response = client.get("/opensearch.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ElementTree.fromstring(response.data)
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.tag == "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription"
    short_name = root.find("os:ShortName", ns).text
    assert short_name == app.config["KNET"]["name"][:16] and len(short_name) <= 16
    assert app.config["KNET"]["name"] in root.find("os:Description", ns).text
    urls = {url.get("type"): url.get("template") for url in root.findall("os:Url", ns)}
    base = app.config["KNET"]["url"].rstrip("/")
    assert urls["text/html"] == f"{base}/search?q={{searchTerms}}"
    assert urls["application/json"] == f"{base}/api/v1/search?q={{searchTerms}}"


def test_a_lost_index_is_rebuilt_in_the_background_and_the_page_says_so(app, client, pages):
    shutil.rmtree(index_path(app))
    response = client.get("/search", query_string={"q": "προμήθειες"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="alert index-rebuilding"' in html and "Προμήθειες του Δήμου" not in html

    jobs.run_pending()
    html = client.get("/search", query_string={"q": "προμήθειες"}).get_data(as_text=True)
    assert "index-rebuilding" not in html and "Προμήθειες του Δήμου" in html
