"""The search index: Greek and English queries, syntax, filters, pages, snippets, suggestions, visibility."""
from __future__ import annotations

from datetime import datetime

import pytest

from knet.search import Filters, SearchDocument, Viewer, open_or_create, search

ANONYMOUS = Viewer()
MARIA = Viewer("maria")
NIKOS = Viewer("nikos")
VISITOR = Viewer("eleni@peer", member=False)


def doc(n: int, title: str, body: str, **fields) -> SearchDocument:
    fields.setdefault("language", "el")
    fields.setdefault("visibility", "public")
    fields.setdefault("type", "Article")
    fields.setdefault("updated", datetime(2025, 1, 1 + n % 28))
    return SearchDocument(uri=f"http://node.test/d/{n}", title=title, body=body, home="node.test", **fields)


DOCUMENTS = [
    doc(1, "Ο Δήμος και οι υπηρεσίες του", "Ο δήμος παρέχει υπηρεσίες στους δημότες.", tags=("δήμος", "υπηρεσίες")),
    doc(2, "ΔΗΜΟΙ ΤΗΣ ΑΤΤΙΚΗΣ", "Κατάλογος με τους δήμους της περιφέρειας."),
    doc(3, "Προμήθειες αναλωσίμων", "Οι προμήθειες του Δήμου γίνονται με ηλεκτρονικό διαγωνισμό.",
        tags=("Προμήθειες",), updated=datetime(2024, 6, 1)),
    doc(4, "Οδηγός προμηθειών", "Η προμήθεια υλικών ακολουθεί τον κανονισμό προμηθειών.", type="Page"),
    doc(5, "Procurement rules", "The procurement rule for municipal supplies and tenders.", language="en"),
    doc(6, "Staff trainings", "Trainings for municipal staff: the training calendar.", language="en",
        tags=("training",)),
    doc(7, "Εκπαίδευση προσωπικού", "Σεμινάρια εκπαίδευσης για τους υπαλλήλους του Δήμου.", type="Course"),
    doc(8, "Εσωτερικός κανονισμός", "Εσωτερικές οδηγίες του δήμου για το προσωπικό.", visibility="internal"),
    doc(9, "Δίκτυο δήμων", "Συνεργασία των δήμων του δικτύου.", visibility="network"),
    doc(10, "Σημειώσεις της Μαρίας", "Ιδιωτικές σημειώσεις για τον δήμο και τις προμήθειες.", visibility="private",
        author="maria"),
    doc(11, "Σημειώσεις του Νίκου", "Μυστικό σχέδιο ζαχαροπλαστικής.", visibility="private", author="nikos"),
    doc(12, "Ζαχαροπλαστική εσωτερική", "Το εσωτερικό σχέδιο ζαχαροπλαστικής.", visibility="internal"),
    doc(13, "Ψηφιακός μετασχηματισμός", "Ο ψηφιακός μετασχηματισμός της δημόσιας διοίκησης."),
    doc(14, "Digital transformation", "Digital services for citizens of the municipality.", language="en"),
    doc(15, "Ανακύκλωση", "Πρόγραμμα ανακύκλωσης χαρτιού. Όχι προμήθειες εδώ.", tags=("περιβάλλον",)),
    *(doc(100 + n, f"Πρακτικό συνεδρίασης {n}", f"Το δημοτικό συμβούλιο συνεδρίασε για την ανάπλαση {n}.")
      for n in range(15)),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    ix = open_or_create(tmp_path_factory.mktemp("search") / "index")
    with ix.writer() as writer:
        for document in DOCUMENTS[:20]:
            writer.upsert(document)
    with ix.writer() as writer:
        for document in DOCUMENTS[20:]:
            writer.upsert(document)
    yield ix
    ix.close()


def uris(results) -> set[str]:
    return {hit.uri.rsplit("/", 1)[1] for hit in results.hits}


@pytest.mark.parametrize("text", ["δημος", "ΔΗΜΟΣ", "δήμων", "Δήμου", "ΔΗΜΟΙ"])
def test_accent_case_and_inflection_variants_find_the_same_pages(index, text):
    found = uris(search(index, text, viewer=ANONYMOUS, per_page=50))
    assert {"1", "2", "3", "7"} <= found
    assert "8" not in found and "10" not in found


def test_english_stemming(index):
    assert uris(search(index, "procurement rule", viewer=ANONYMOUS)) == {"5"}
    assert uris(search(index, "trained", viewer=ANONYMOUS)) == {"6"}


def test_title_outranks_body(index):
    results = search(index, "προμήθεια", viewer=ANONYMOUS)
    assert results.hits[0].uri.endswith(("/3", "/4"))
    assert uris(results) >= {"3", "4", "15"}


def test_phrase(index):
    assert uris(search(index, '"ηλεκτρονικό διαγωνισμό"', viewer=ANONYMOUS)) == {"3"}
    assert uris(search(index, '"διαγωνισμό ηλεκτρονικό"', viewer=ANONYMOUS)) == set()


def test_prefix(index):
    assert uris(search(index, "προμηθ*", viewer=ANONYMOUS)) >= {"3", "4", "15"}
    assert uris(search(index, "ΨΗΦΙΑΚ*", viewer=ANONYMOUS)) == {"13"}
    assert uris(search(index, "προμήθειες*", viewer=ANONYMOUS)) >= {"3", "4"}


@pytest.mark.parametrize("typed", ["προμήθει*", "προμηθειε*", "ΠΡΟΜΉΘΕΙΕ*"])
def test_a_prefix_typed_past_the_stem_still_finds_the_word(index, typed):
    # «προμήθειες» is indexed under its stem «προμηθει»; the letters typed go beyond it.
    assert uris(search(index, typed, viewer=ANONYMOUS)) >= {"3", "4"}


def test_exclusion(index):
    found = uris(search(index, "προμήθειες -ανακύκλωση", viewer=ANONYMOUS))
    assert {"3", "4"} <= found and "15" not in found
    assert search(index, "-προμήθειες", viewer=ANONYMOUS).total == 0


def test_filters(index):
    assert uris(search(index, "δήμος", viewer=ANONYMOUS, filters=Filters(type="Course"))) == {"7"}
    assert uris(search(index, "municipal", viewer=ANONYMOUS, filters=Filters(language="en"))) == {"5", "6", "14"}
    assert uris(search(index, "municipal", viewer=ANONYMOUS, filters=Filters(language="el"))) == set()
    assert uris(search(index, "δήμος", viewer=ANONYMOUS, filters=Filters(tag="ΔΗΜΟΣ"))) == {"1"}
    assert uris(search(index, "προμήθειες", viewer=ANONYMOUS,
                       filters=Filters(until=datetime(2024, 12, 31)))) == {"3"}
    assert "3" not in uris(search(index, "προμήθειες", viewer=ANONYMOUS, filters=Filters(since=datetime(2025, 1, 1))))


def test_pagination(index):
    first = search(index, "συνεδρίαση", viewer=ANONYMOUS, page=1, per_page=6)
    second = search(index, "συνεδρίαση", viewer=ANONYMOUS, page=2, per_page=6)
    last = search(index, "συνεδρίαση", viewer=ANONYMOUS, page=3, per_page=6)
    beyond = search(index, "συνεδρίαση", viewer=ANONYMOUS, page=9, per_page=6)
    assert first.total == second.total == 15 and first.pages == 3
    assert len(first.hits) == len(second.hits) == 6 and len(last.hits) == 3 and beyond.hits == []
    assert len(uris(first) | uris(second) | uris(last)) == 15


def test_snippets_highlight_accent_insensitively(index):
    hit = next(h for h in search(index, "δημος", viewer=ANONYMOUS).hits if h.uri.endswith("/3"))
    assert '">Δήμου</mark>' in hit.snippet and hit.snippet.startswith("Οι προμήθειες")
    hit = search(index, "ΗΛΕΚΤΡΟΝΙΚΟ", viewer=ANONYMOUS).hits[0]
    assert ">ηλεκτρονικό</mark>" in hit.snippet
    assert hit.title == "Προμήθειες αναλωσίμων" and hit.tags == ["Προμήθειες"] and hit.language == "el"
    assert hit.updated == datetime(2024, 6, 1) and hit.type == "Article" and hit.score > 0


def test_did_you_mean(index):
    results = search(index, "προμηθιες", viewer=ANONYMOUS)
    assert results.total == 0 and results.suggestion == "προμήθειες"
    assert search(index, "προμήθειες", viewer=ANONYMOUS).suggestion is None


def test_suggestion_never_reveals_hidden_words(index):
    # «ζαχαροπλαστικής» exists only in internal and private documents.
    assert search(index, "ζαχαροπλαστικισ", viewer=ANONYMOUS).suggestion is None
    assert search(index, "ζαχαροπλαστικισ", viewer=MARIA).suggestion is not None


def test_anonymous_sees_and_counts_only_public(index):
    results = search(index, "δήμος", viewer=ANONYMOUS, per_page=100)
    assert not uris(results) & {"8", "9", "10"}
    assert results.total == len(results.hits)
    assert search(index, "ζαχαροπλαστική", viewer=ANONYMOUS).total == 0
    assert search(index, "εσωτερικός", viewer=ANONYMOUS).total == 0


def test_signed_in_sees_internal_network_and_own_private_only(index):
    maria = search(index, "σημειώσεις", viewer=MARIA)
    assert uris(maria) == {"10"} and maria.total == 1
    assert uris(search(index, "σημειώσεις", viewer=NIKOS)) == {"11"}
    assert uris(search(index, "ζαχαροπλαστική", viewer=MARIA)) == {"12"}
    assert search(index, "ζαχαροπλαστική", viewer=MARIA).total == 1
    assert {"8", "9"} <= uris(search(index, "δήμος", viewer=MARIA, per_page=100))


def test_visitor_from_a_peer_sees_network_not_internal(index):
    found = uris(search(index, "δήμος", viewer=VISITOR, per_page=100))
    assert "9" in found and "8" not in found


def test_upsert_replaces_and_delete_removes(tmp_path):
    ix = open_or_create(tmp_path / "index")
    with ix.writer() as writer:
        writer.upsert(doc(1, "Κάδοι", "Νέοι κάδοι ανακύκλωσης."))
    with ix.writer() as writer:
        writer.upsert(doc(1, "Κάδοι", "Νέοι κάδοι κομποστοποίησης."))
    assert search(index=ix, query_text="ανακύκλωση", viewer=ANONYMOUS).total == 0
    assert search(ix, "κομποστοποίηση", viewer=ANONYMOUS).total == 1
    assert ix.segment_count() == 2 and ix.doc_count() == 1
    ix.optimize()
    assert ix.segment_count() == 1 and not list(tmp_path.glob("index/*.seg"))
    with ix.writer() as writer:
        writer.delete(doc(1, "", "").uri)
    assert search(ix, "κάδοι", viewer=ANONYMOUS).total == 0
    ix.close()
    assert open_or_create(tmp_path / "index").doc_count() == 0


GARBAGE = ['"unbalanced', '"', "'", "*", "**", "?", "-", "--", "+", "AND", "OR", "NOT", "AND OR NOT", "(", ")",
           "((δήμος", "δήμος)", "title:", "visibility:private", "uri:*", "[a TO b]", "^2", "δήμος^", "~", "\\",
           "\x00\x01\x02δήμος\x1b[0m", "\u200b\ufeff", "*ος", "δ?μος", "a*b*c", "-*", '"-δήμος"', "",
           "   ", "的", "😀 δήμος", "x" * 2000, ("δήμος ! @ # $ % ^ & * ( ) " * 100)[:2000],
           " ".join(f"λέξη{n}" for n in range(400))]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_any_text_gives_results_or_nothing(index, text):
    for viewer in (ANONYMOUS, MARIA):
        results = search(index, text, viewer=viewer, page=2)
        assert results.total >= 0 and isinstance(results.hits, list)
        if viewer is ANONYMOUS:
            assert not uris(results) & {"8", "9", "10", "11", "12"}


def test_a_bulk_writer_fills_an_empty_index_from_several_processes(tmp_path):
    ix = open_or_create(tmp_path / "index")
    with ix.bulk_writer(processes=2) as writer:
        for n in range(450):  # several of the writer's batches, so both processes get work
            writer.add(doc(n, f"Έγγραφο {n}", f"Απόφαση αριθμός {n} για τις προμήθειες του Δήμου.",
                           visibility="public" if n % 3 else "internal"))
    assert ix.doc_count() == 450
    found = search(ix, "προμήθεια", viewer=ANONYMOUS, per_page=5)
    assert found.total == 300 and '<mark class="match">προμήθειες</mark>' in found.hits[0].snippet
    assert search(ix, "Έγγραφο 449", viewer=Viewer("1")).total == 1
    with pytest.raises(ValueError, match="empty index"), ix.bulk_writer(processes=2):
        pass
    ix.close()


@pytest.mark.parametrize("text", ["δήμος", "δήμος προμήθειες", "δήμος OR ανακύκλωση", "δήμος -προμήθειες",
                                  "(δήμος OR σχολεία) NOT κάδοι", "συνεδρίαση", "ανύπαρκτο δήμος",
                                  '"ηλεκτρονικό διαγωνισμό"', "προμηθ*", '"οι προμήθειες" -ανακύκλωση'])
@pytest.mark.parametrize("viewer", [ANONYMOUS, MARIA, VISITOR], ids=["anonymous", "member", "visitor"])
def test_totals_agree_with_whooshs_own_count_and_with_the_hits(index, text, viewer):
    from knet.search.index import parse

    with index.searching() as searcher:
        hidden = index.hidden_from(searcher, viewer)
        whoosh_total = len(searcher.search(parse(searcher.schema, text), mask=hidden, limit=None))
    assert search(index, text, viewer=viewer).total == whoosh_total
    assert search(index, text, viewer=viewer).total == len(uris(search(index, text, viewer=viewer, per_page=100)))


def test_a_repeated_search_is_answered_from_memory_until_the_index_changes(tmp_path):
    ix = open_or_create(tmp_path / "index")
    with ix.writer() as writer:
        writer.upsert(doc(1, "Κάδοι", "Νέοι κάδοι ανακύκλωσης.", visibility="internal"))
    first = search(ix, "κάδοι", viewer=MARIA)
    assert search(ix, "κάδοι", viewer=MARIA) is first, "answered from memory"
    assert search(ix, "κάδοι", viewer=ANONYMOUS).total == 0, "another viewer is another answer"
    with ix.writer() as writer:
        writer.upsert(doc(1, "Κάδοι", "Νέοι κάδοι ανακύκλωσης.", visibility="public"))
    assert search(ix, "κάδοι", viewer=ANONYMOUS).total == 1, "a commit makes the remembered answers old"
    assert search(ix, "κάδοι", viewer=MARIA) is not first
    ix.close()


def test_commits_merge_small_segments_so_searches_stay_fast(tmp_path):
    from knet.search.index import MERGE_AT_SEGMENTS

    ix = open_or_create(tmp_path / "index")
    for n in range(3 * MERGE_AT_SEGMENTS):
        with ix.writer() as writer:
            writer.upsert(doc(n, f"Απόφαση {n}", "Απόφαση δημοτικού συμβουλίου."))
    assert ix.segment_count() <= MERGE_AT_SEGMENTS
    assert ix.doc_count() == 3 * MERGE_AT_SEGMENTS
    assert search(ix, "απόφαση", viewer=ANONYMOUS).total == 3 * MERGE_AT_SEGMENTS
    ix.close()


@pytest.mark.parametrize("viewer", [ANONYMOUS, MARIA, NIKOS, VISITOR, Viewer("eleni@peer", member=False)])
def test_what_is_hidden_is_exactly_what_may_not_be_seen(index, viewer):
    from whoosh import query

    from knet.search.index import hidden_query, visibility_query

    with index.searching() as searcher:
        everything = set(searcher.docs_for_query(query.Every()))
        visible = set(searcher.docs_for_query(visibility_query(viewer)))
        hidden = set(searcher.docs_for_query(hidden_query(viewer)))
    assert visible and hidden and visible | hidden == everything and not visible & hidden


@pytest.mark.parametrize("text", ["δήμος", "δήμος προμήθειες", "δήμος OR ανακύκλωση", "δήμος -προμήθειες",
                                  "(δήμος OR σχολεία) NOT κάδοι", "συνεδρίαση", "ανύπαρκτο δήμος",
                                  "Procurement rules"])
@pytest.mark.parametrize("viewer", [ANONYMOUS, MARIA, VISITOR], ids=["anonymous", "member", "visitor"])
def test_word_queries_ranked_over_arrays_rank_as_whoosh_does(index, text, viewer):
    from knet.search import ranking
    from knet.search.index import parse

    with index.searching() as searcher:
        hidden = index.hidden_from(searcher, viewer)
        q = parse(searcher.schema, text)
        ours = ranking.rank(searcher, q, hidden, limit=10)
        theirs = searcher.search(q, mask=hidden, limit=10)
        assert ours is not None and ours.total == len(theirs)
        assert [number for _, number in ours.top] == [hit.docnum for hit in theirs]
        # The same scores, but for a constant: Whoosh scores a NOT as 1 for every document it keeps.
        shifts = [hit.score - score for (score, _), hit in zip(ours.top, theirs)]
        assert shifts == pytest.approx([1.0 if "NOT" in text or " -" in text else 0.0] * len(shifts), abs=1e-6)


def test_phrases_prefixes_and_filters_are_left_to_whoosh(index):
    from knet.search import ranking
    from knet.search.index import parse

    with index.searching() as searcher:
        for text in ['"ηλεκτρονικό διαγωνισμό"', "προμηθ*"]:
            assert ranking.rank(searcher, parse(searcher.schema, text), set(), limit=10) is None


def test_an_authors_own_private_page_after_their_public_ones_is_theirs_to_find(tmp_path):
    # Whoosh's AndNot matcher kept such a document in the "hidden" set (and counted it in totals).
    ix = open_or_create(tmp_path / "index")
    with ix.writer() as writer:
        writer.upsert(doc(1, "Προμήθειες", "Οι προμήθειες.", author="1"))
        writer.upsert(doc(2, "Εσωτερικές προμήθειες", "Οδηγίες για προμήθειες.", author="1", visibility="internal"))
        writer.upsert(doc(3, "Σημειώσεις", "Σημειώσεις για προμήθειες.", author="1", visibility="private"))
    assert search(ix, "προμήθειες", viewer=Viewer("1")).total == 3
    assert search(ix, "προμήθειες", viewer=Viewer("2")).total == 2
    assert search(ix, "προμήθειες -οδηγίες", viewer=Viewer("1")).total == 2
    assert search(ix, '"οδηγίες για προμήθειες" -σημειώσεις', viewer=Viewer("1")).total == 1
    ix.close()


def test_a_search_opened_before_a_commit_merges_its_segments_away_still_reads_them(tmp_path):
    """A worker's commit deletes the files of the segments it merged; a search that a web worker began on
    the version before must still read its documents' stored fields and lengths (it failed under load)."""
    from knet.search.index import parse

    ix = open_or_create(tmp_path / "index")
    for n in range(4):
        with ix.writer() as writer:
            writer.upsert(doc(n, f"Απόφαση {n}", "Απόφαση δημοτικού συμβουλίου.", tags=(f"θέμα{n}",)))
    assert ix.segment_count() == 4
    with ix.searching() as searcher:
        ix.optimize()  # another writer merges every segment into one and deletes the old files
        left = [path for segment in _segment_ids(searcher) for path in (tmp_path / "index").glob(f"*{segment}*")]
        assert left == [], "the merged segments' files are deleted"
        stored = [searcher.stored_fields(number)["title"] for number in range(searcher.doc_count_all())]
        hits = searcher.search(parse(searcher.schema, "απόφαση"), limit=None)
        assert len(hits) == 4 and hits.scored_length() == 4
    assert sorted(stored) == [f"Απόφαση {n}" for n in range(4)]
    assert search(ix, "απόφαση", viewer=ANONYMOUS).total == 4
    ix.close()


def _segment_ids(searcher) -> list[str]:
    return [reader.segment().segment_id() for reader, _offset in searcher.reader().leaf_readers()]
