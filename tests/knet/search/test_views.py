"""The search page and /opensearch.xml, against a real node whose pages reach the index through jobs."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest

from knet import jobs
from knet.search import SearchDocument
from knet.search.indexing import index_path, node_index

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
    base = app.config["KNET"]["url"].rstrip("/")
    urls = {(url.get("type"), url.get("rel", "results")): url.get("template") for url in root.findall("os:Url", ns)}
    assert urls["text/html", "results"] == f"{base}/search?q={{searchTerms}}"
    assert urls["application/json", "results"] == f"{base}/api/v1/search?q={{searchTerms}}"
    # Both scopes: the network search under a rel of its own.
    network = f"{base}/opensearch.xml#network"
    assert urls["text/html", network] == f"{base}/search?q={{searchTerms}}&scope=network"
    assert urls["application/json", network] == f"{base}/api/v1/search?q={{searchTerms}}&scope=network"


def test_a_lost_index_is_rebuilt_in_the_background_and_the_page_says_so(app, client, pages):
    shutil.rmtree(index_path(app))
    response = client.get("/search", query_string={"q": "προμήθειες"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="alert index-rebuilding"' in html and "Προμήθειες του Δήμου" not in html

    jobs.run_pending()
    html = client.get("/search", query_string={"q": "προμήθειες"}).get_data(as_text=True)
    assert "index-rebuilding" not in html and "Προμήθειες του Δήμου" in html


# Suggestions for the header's search box ------------------------------------------------------------------------


def header_box(html: str) -> str:
    return re.search(r'<input type="search" id="site-search-q".*?>', html, re.S).group(0)


def test_every_page_loads_the_suggestions_script_with_its_texts_in_the_page_language(client):
    html = text_of(client.get("/"))
    assert '<script src="/static/search-suggest.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: a Content-Security-Policy may forbid it
    box = header_box(html)
    assert 'data-suggest-url="/search/suggestions"' in box and 'data-suggest-label="Προτάσεις"' in box
    assert 'data-suggest-one="{n} πρόταση"' in box and 'data-suggest-other="{n} προτάσεις"' in box
    assert 'data-type-page="Σελίδα wiki"' in box and 'data-type-question="Ερώτηση"' in box
    # Without the script the box is a plain search field: the script, not the page, makes it a combobox.
    assert "role=" not in box and "aria-expanded" not in box
    client.get("/language/en?next=/")
    box = header_box(text_of(client.get("/")))
    assert 'data-suggest-label="Suggestions"' in box and 'data-suggest-other="{n} suggestions"' in box
    with client.get("/static/search-suggest.js") as script:
        assert script.status_code == 200 and "aria-activedescendant" in script.get_data(as_text=True)


def test_the_header_box_is_the_same_for_every_viewer(client, pages, sign_in):
    """Pages are cached per viewer, and anonymous ones are served to everyone: nothing in the box may
    depend on who is looking."""
    anonymous = header_box(text_of(client.get("/")))
    sign_in(pages["maria"])
    assert header_box(text_of(client.get("/"))) == anonymous


def test_suggestions_see_what_the_signed_in_person_may_read(client, pages, sign_in):
    response = client.get("/search/suggestions?q=προμηθ")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"] and "Cookie" in response.headers["Vary"]
    body = response.json
    assert list(body) == ["query", "suggestions", "results"]
    assert body["suggestions"] == ["Προμήθειες του Δήμου"]
    [result] = body["results"]
    assert list(result) == ["title", "uri", "link", "type", "language"]
    assert result["title"] == "Προμήθειες του Δήμου" and result["type"] == "page" and result["language"] == "el"
    # The link is a path on this node, and it opens the object.
    assert re.fullmatch(r"/pages/\d+", result["link"]) and result["uri"].endswith(result["link"])
    assert client.get(result["link"]).status_code == 302

    # The session counts here (unlike in the API): a member is offered internal and their own private pages,
    sign_in(pages["maria"])
    assert sorted(client.get("/search/suggestions?q=προμηθ").json["suggestions"]) == [
        "Εσωτερικές προμήθειες", "Προμήθειες του Δήμου"]
    # never someone else's private ones.
    assert client.get("/search/suggestions?q=σημει").json["results"] == []
    assert client.get("/api/v1/search/suggestions?q=προμηθ").json["suggestions"] == ["Προμήθειες του Δήμου"]
    sign_in(pages["nikos"])
    assert [r["title"] for r in client.get("/search/suggestions?q=σημει").json["results"]] == ["Σημειώσεις Νίκου"]


@pytest.mark.parametrize("typed", ["Προμήθειες", "προμηθειε", "Προμήθειες του", "ΠΡΟΜΗΘΕΙΕΣ ΤΟΥ ΔΗΜ"])
def test_suggestions_follow_whole_words_stop_words_and_letters_past_the_stem(client, pages, typed):
    body = client.get("/search/suggestions", query_string={"q": typed}).json
    assert "Προμήθειες του Δήμου" in body["suggestions"], body


def test_a_result_from_elsewhere_never_links_to_a_script(app):
    from knet.search.index import Hit
    from knet.search.views import link_of

    def hit(uri):
        return Hit(uri=uri, type="page", title="", snippet="", language="el", tags=[], updated=None, home="",
                   score=0.0)

    with app.test_request_context():
        assert link_of(hit("javascript:alert(1)")) == "#"
        assert link_of(hit(" JAVASCRIPT:alert(1)")) == "#"
        # Another node's object this node keeps no copy of (a live answer from a peer) leads to its home.
        assert link_of(hit("https://other.example/pages/3")) == "https://other.example/pages/3"


@pytest.mark.parametrize("query", ["", "   ", "*", '"', "\x00", "-", "δ" * 3000, "προμηθ*", '"προμήθειες"'])
def test_suggestions_answer_any_query(client, pages, query):
    response = client.get("/search/suggestions", query_string={"q": query})
    assert response.status_code == 200
    assert isinstance(response.json["suggestions"], list) and isinstance(response.json["results"], list)


# Date filters --------------------------------------------------------------------------------------------------

MINUTES = "Πρακτικά"


@pytest.fixture
def dated(app):
    """Public minutes whose last change falls on known moments (UTC), straight into the index."""
    base = app.config["KNET"]["url"]
    moments = {
        "Πρακτικά Ιανουαρίου": datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc),
        "Πρακτικά Μαρτίου": datetime(2026, 3, 31, 23, 59, 30, tzinfo=timezone.utc),
        "Πρακτικά Απριλίου": datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc),
    }
    with node_index().writer() as writer:
        for number, (title, moment) in enumerate(moments.items(), start=9001):
            writer.upsert(SearchDocument(uri=f"{base}/pages/{number}", type="page", title=title,
                                         body="Πρακτικά της συνεδρίασης του δημοτικού συμβουλίου.", language="el",
                                         visibility="public", home=base, tags=("πρακτικά",), updated=moment))
    return moments


@pytest.mark.parametrize(("since", "until", "titles"), [
    ("2026-03-01", "2026-03-31", ["Πρακτικά Μαρτίου"]),  # the last day counts to its last second
    ("2026-03-31", "2026-03-31", ["Πρακτικά Μαρτίου"]),
    ("2026-04-01", "", ["Πρακτικά Απριλίου"]),
    ("", "2026-03-31", ["Πρακτικά Ιανουαρίου", "Πρακτικά Μαρτίου"]),
    ("2026-01-15", "2026-04-01", ["Πρακτικά Απριλίου", "Πρακτικά Ιανουαρίου", "Πρακτικά Μαρτίου"]),
    ("2027-01-01", "", []),
    ("", "2025-12-31", []),
])
def test_date_filters_include_whole_days(client, dated, since, until, titles):
    response = client.get("/search", query_string={"q": MINUTES, "since": since, "until": until})
    assert response.status_code == 200
    html = text_of(response)
    assert sorted(result_titles(html)) == titles
    if since:
        assert f'<input type="date" id="search-since" name="since" value="{since}">' in html
    if until:
        assert f'<input type="date" id="search-until" name="until" value="{until}">' in html


def test_date_fields_are_labelled_and_empty_by_default(client, dated):
    html = text_of(client.get("/search", query_string={"q": MINUTES}))
    assert len(result_titles(html)) == 3
    assert '<label for="search-since">Ενημέρωση από</label>' in html
    assert '<label for="search-until">Ενημέρωση έως</label>' in html
    assert '<input type="date" id="search-since" name="since" value="">' in html


@pytest.mark.parametrize("bad", ["2026-02-30", "31/03/2026", "20260331", "2026-3-1", "2026-W13-1", "χθες",
                                 "2026-03-31T10:00", "0000-01-01", "\x00", "<script>"])
@pytest.mark.parametrize("name", ["since", "until"])
def test_a_date_that_is_not_one_is_explained_next_to_its_field(client, dated, name, bad):
    response = client.get("/search", query_string={"q": MINUTES, "type": "page", name: bad})
    assert response.status_code == 400
    html = text_of(response)
    status = re.search(r'<div role="status"[^>]*>(.*?)</div>', html, re.S).group(1)
    label = {"since": "Ενημέρωση από", "until": "Ενημέρωση έως"}[name]
    assert f'<p class="error" id="search-date-error">Το πεδίο «{label}» πρέπει να περιέχει ημερομηνία' in status
    field = re.search(rf'<input type="date" id="search-{name}"[^>]*>', html).group(0)
    assert 'aria-invalid="true" aria-describedby="search-date-error"' in field
    # Nothing was searched, and the rest of what was asked is kept for the next try.
    assert result_titles(html) == [] and "Δεν βρέθηκε" not in html and "<script>" not in html
    assert f'value="{MINUTES}"' in html and '<option value="page" selected>' in html


def test_a_reversed_range_is_explained(client, dated):
    client.get("/language/en?next=/")
    response = client.get("/search", query_string={"q": MINUTES, "since": "2026-04-01", "until": "2026-03-01"})
    assert response.status_code == 400
    html = text_of(response)
    assert ("“Updated since” (April 1, 2026) is later than “Updated until” (March 1, 2026): choose an earlier "
            "start or a later end.") in html
    assert re.search(r'id="search-since"[^>]*aria-invalid="true"', html)
    assert result_titles(html) == []


def test_links_keep_the_dates(client, app, dated):
    base = app.config["KNET"]["url"]
    size = app.config["KNET"]["page_size"]
    with node_index().writer() as writer:
        for number in range(size):
            writer.upsert(SearchDocument(uri=f"{base}/pages/{number + 1}", type="page", title=f"Πρακτικά {number}",
                                         body="Πρακτικά.", language="el", visibility="public", home=base,
                                         tags=("πρακτικά",), updated=datetime(2026, 3, 2, tzinfo=timezone.utc)))
    dates = {"since": "2026-03-01", "until": "2026-03-31"}
    html = text_of(client.get("/search", query_string={"q": MINUTES, **dates}))
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(/search\?[^"]+)"', html)]
    next_link = next(link for link in links if "page=2" in link)
    tag_link = next(link for link in links if "tag=" in link)
    remove = next(link for link in links if "since" not in link)
    for link in (next_link, tag_link):
        assert "since=2026-03-01" in link and "until=2026-03-31" in link, link
    assert len(result_titles(text_of(client.get(next_link)))) == 1
    assert remove == "/search?q=%CE%A0%CF%81%CE%B1%CE%BA%CF%84%CE%B9%CE%BA%CE%AC"  # "remove the filters"
    misspelt = text_of(client.get("/search", query_string={"q": "Πρακτκά", **dates}))
    did_you_mean = re.search(r'<a href="([^"]+)" class="suggestion-link">', misspelt).group(1)
    assert "since=2026-03-01" in did_you_mean and "until=2026-03-31" in did_you_mean
