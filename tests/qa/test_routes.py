"""The Q&A pages (qa/routes.py, qa/moderation_routes.py), driven through the test client like a browser:
forms posted with their CSRF token, each person in a client of their own."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from knet import jobs
from knet.db import db
from qa import moderation, services
from qa.models import Answer, Community, Flag, Question
from qa.services import QuestionInput
from tests import xss
from tests.forms import csrf_token
from tests.xss import OWN_SCRIPT, XSS_CHUNK, Elements, dangers, quietly, xss_cases

QUESTION = "Πώς υπολογίζεται η υπερωρία των υπαλλήλων;"


@pytest.fixture
def people(make_user):
    return {"asker": make_user("asker", role="reader"), "helper": make_user("helper", role="reader"),
            "other": make_user("other", role="reader"), "mod": make_user("mod", role="moderator")}




def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, page: str = "/questions"):
    """Post a form of this site, with the CSRF token of the person's session."""
    token = csrf_token(text(client.get(page)))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def ask(client, title: str = QUESTION, body: str = "Ποιος είναι ο τύπος;", **fields):
    return post(client, "/questions/ask", {"title": title, "body": body, "language": "el",
                                           "visibility": "internal", "tags": "", "community": "", **fields},
                page="/questions/ask")


def count(pattern: str, html: str) -> int:
    return len(re.findall(pattern, html))


# Asking, answering, voting, accepting, duplicates ------------------------------------------------

def test_the_questions_link_is_in_the_navigation(browse):
    page = text(browse(None).get("/"))
    assert 'href="/questions"' in page


def test_ask_answer_vote_accept_and_duplicate(app, people, browse):
    asker, helper, other = browse(people["asker"]), browse(people["helper"]), browse(people["other"])

    asked = ask(asker, tags="Μισθοδοσία, υπερωρίες")
    assert asked.status_code == 302 and asked.location.endswith("/questions/1")
    page = text(asker.get("/questions/1"))
    assert QUESTION in page and 'href="/questions?tag=%CE%9C%CE%B9%CF%83%CE%B8%CE%BF%CE%B4%CE%BF%CF%83%CE%AF%CE%B1"' in page
    assert "Your question was posted." in page or "δημοσιεύ" in page

    first = post(helper, "/questions/1/answers", {"body": "Με τον τύπο του νόμου 4354/2015."})
    assert first.status_code == 302 and first.location.endswith("/questions/1#answer-1")
    second = post(other, "/questions/1/answers", {"body": "Ρωτήστε τη μισθοδοσία."})
    assert second.location.endswith("#answer-2")

    # A vote up by someone else: counted, and the button shows it is pressed.
    voted = post(other, "/answers/1/vote", {"value": "1"})
    assert voted.status_code == 302 and voted.location.endswith("/questions/1#answer-1")
    page = Elements(text(other.get("/questions/1")))
    pressed = [attrs for attrs in page.find("button", name="value", aria_pressed="true")]
    assert len(pressed) == 1 and pressed[0]["value"] == "0"  # pressing it again takes the vote back
    assert db.session.get(Answer, 1).score == 1
    assert post(other, "/questions/1/vote", {"value": "-1"}).status_code == 302
    assert db.session.get(Question, 1).score == -1
    assert post(other, "/questions/1/vote", {"value": "0"}).status_code == 302
    assert db.session.get(Question, 1).score == 0
    assert post(other, "/questions/1/vote", {"value": "7"}).status_code == 400

    # Nobody votes on their own answer: no buttons, and a 403 that says why.
    assert 'action="/answers/1/vote"' not in text(helper.get("/questions/1"))
    refused = post(helper, "/answers/1/vote", {"value": "1"})
    assert refused.status_code == 403 and "vote on what you wrote yourself" in text(refused)

    # The asker accepts the second answer: it comes first, with a badge in words.
    html = text(asker.get("/questions/1"))
    assert 'action="/answers/2/accept"' in html and "Accept this answer" in html
    accepted = post(asker, "/answers/2/accept")
    assert accepted.status_code == 302 and accepted.location.endswith("#answer-2")
    html = text(other.get("/questions/1"))
    assert html.index('id="answer-2"') < html.index('id="answer-1"')
    assert count("Accepted answer", html) == 1
    heading = re.search(r'<h3 id="answer-2-heading">(.*?)</h3>', html, re.S).group(1)
    assert "Accepted answer" in heading
    assert "Accept this answer" not in html  # only the asker and moderators may

    # The asker takes it back, and accepts the first instead.
    assert post(asker, "/questions/1/unaccept").status_code == 302
    assert db.session.get(Question, 1).accepted_answer_id is None
    post(asker, "/answers/1/accept")
    assert db.session.get(Question, 1).accepted_answer_id == 1

    # A repeat of the same question, closed by its asker as a duplicate of the first.
    ask(other, title="Υπερωρία υπαλλήλων: ποιος ο τύπος υπολογισμού;")
    marked = post(other, "/questions/2/duplicate", {"original": "1"})
    assert marked.status_code == 302 and marked.location.endswith("/questions/2#question")
    html = text(asker.get("/questions/2"))
    assert 'href="/questions/1"' in html and "duplicate" in html
    closed = post(helper, "/questions/2/answers", {"body": "Κι εδώ μια απάντηση."})
    assert closed.status_code == 409 and "closed" in text(closed)


def test_an_answer_uri_leads_to_its_place_on_the_question(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    reply = make_answer(people["helper"], question)
    response = browse(people["other"]).get(f"/answers/{reply.id}")
    assert response.status_code == 302 and response.location.endswith(f"/questions/{question.id}#answer-{reply.id}")


def test_a_refused_question_keeps_the_text_and_says_why(app, people, browse):
    client = browse(people["asker"])
    refused = ask(client, title="Γιατί;", body="Το κείμενό μου που δεν χάνεται.")
    assert refused.status_code == 400
    html = text(refused)
    assert "at least 10" in html and "Το κείμενό μου που δεν χάνεται." in html
    assert 'aria-invalid="true"' in html
    bad_tags = ask(client, tags="καλό, <κακό>")
    assert bad_tags.status_code == 400 and "angle brackets" in text(bad_tags)
    assert db.session.scalar(select(Question.id)) is None


def test_an_empty_answer_is_refused_on_the_question_page(app, people, browse, make_question):
    make_question(people["asker"])
    refused = post(browse(people["helper"]), "/questions/1/answers", {"body": "   "})
    assert refused.status_code == 400
    assert 'id="your-answer"' in text(refused) and 'aria-invalid="true"' in text(refused)


def test_comments_on_questions_and_answers(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question)
    client = browse(people["other"])
    first = post(client, "/questions/1/comments", {"body": "Για ποιο έτος;"})
    assert first.status_code == 302 and first.location.endswith("#comment-1")
    assert post(client, "/answers/1/comments", {"body": "Ευχαριστώ!"}).location.endswith("#comment-2")
    html = text(client.get("/questions/1"))
    assert "Για ποιο έτος;" in html and "Ευχαριστώ!" in html
    assert 'id="comment-1"' in html and 'id="comment-2"' in html
    assert post(client, "/questions/1/comments", {"body": "   "}).status_code == 400


# Editing and history -----------------------------------------------------------------------------

def test_edit_a_question_and_compare_revisions(app, people, browse, make_question):
    make_question(people["asker"], tags=["Μισθοδοσία"])
    client = browse(people["asker"])
    form = text(client.get("/questions/1/edit"))
    assert "Μισθοδοσία" in form and 'name="summary"' in form
    saved = post(client, "/questions/1/edit", {
        "title": "Πώς υπολογίζεται η νυχτερινή υπερωρία;", "body": "Ποιος είναι ο τύπος;\nΚαι για τις αργίες;",
        "tags": "Μισθοδοσία, αργίες", "language": "el", "visibility": "internal", "community": "",
        "summary": "Πιο σαφής τίτλος"}, page="/questions/1/edit")
    assert saved.status_code == 302 and saved.location.endswith("/questions/1")
    assert db.session.get(Question, 1).revision == 2

    history = text(client.get("/questions/1/history"))
    assert "Πιο σαφής τίτλος" in history and 'name="from"' in history
    diff = text(client.get("/questions/1/history?from=1&to=2"))
    assert "<ins>" in diff and "Και για τις αργίες;" in diff
    assert "νυχτερινή" in diff  # the title change is named
    assert client.get("/questions/1/history?from=1&to=9").status_code == 404


def test_edit_an_answer_and_see_its_history(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question, "Πρώτη εκδοχή.")
    client = browse(people["helper"])
    saved = post(client, "/answers/1/edit", {"body": "Δεύτερη εκδοχή.", "summary": "διόρθωση"},
                 page="/answers/1/edit")
    assert saved.status_code == 302 and saved.location.endswith("/questions/1#answer-1")
    diff = text(client.get("/answers/1/history?from=1&to=2"))
    assert "<del>" in diff and "Δεύτερη" in diff and "διόρθωση" in diff


def test_only_the_author_or_a_moderator_edits(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question)
    other = browse(people["other"])
    for path in ("/questions/1/edit", "/answers/1/edit"):
        refused = other.get(path)
        assert refused.status_code == 403 and "Only its author or a moderator may edit this." in text(refused)
    refused = post(other, "/questions/1/edit", {"title": "Κάτι άλλο εντελώς εδώ", "body": "x", "language": "el",
                                               "visibility": "internal", "community": ""})
    assert refused.status_code == 403
    assert browse(people["mod"]).get("/answers/1/edit").status_code == 200


def test_only_the_asker_or_a_moderator_accepts(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question)
    refused = post(browse(people["other"]), "/answers/1/accept")
    assert refused.status_code == 403
    assert "Only the person who asked, or a moderator, may accept an answer." in text(refused)
    assert post(browse(people["other"]), "/questions/1/unaccept").status_code == 403
    assert post(browse(people["mod"]), "/answers/1/accept").status_code == 302


def test_a_closed_question_says_why_it_takes_no_answers(app, people, browse, make_question):
    question = make_question(people["asker"])
    moderation.close(people["mod"], question, "Εκτός θέματος")
    db.session.commit()
    client = browse(people["helper"])
    html = text(client.get("/questions/1"))
    assert "Εκτός θέματος" in html and 'action="/questions/1/answers"' not in html
    refused = post(client, "/questions/1/answers", {"body": "Μια απάντηση."})
    assert refused.status_code == 409 and "Εκτός θέματος" in text(refused)
    assert "takes no new answers" in text(refused)


def test_a_locked_question_takes_no_comments_or_votes(app, people, browse, make_question):
    question = make_question(people["asker"])
    moderation.lock(people["mod"], question)
    db.session.commit()
    client = browse(people["other"])
    html = text(client.get("/questions/1"))
    assert "locked" in html and 'action="/questions/1/vote"' not in html and 'action="/questions/1/comments"' not in html
    assert post(client, "/questions/1/comments", {"body": "Σχόλιο"}).status_code == 409
    assert post(client, "/questions/1/vote", {"value": "1"}).status_code == 409


# Lists and filters -------------------------------------------------------------------------------

@pytest.fixture
def shelf(app, people, make_question, make_answer):
    """Four questions: one answered and accepted, one answered, one unanswered in English, one public."""
    asker, helper = people["asker"], people["helper"]
    solved = make_question(asker, title="Πρώτη ερώτηση για προμήθειες", tags=["Προμήθειες"])
    accepted = make_answer(helper, solved)
    services.accept(asker, accepted)
    answered = make_question(helper, title="Δεύτερη ερώτηση για μισθοδοσία", tags=["Μισθοδοσία"])
    make_answer(asker, answered)
    lonely = make_question(asker, title="Third question about permits", language="en")
    public = make_question(helper, title="Τέταρτη ερώτηση, δημόσια", visibility="public", tags=["ΚΕΠ"])
    services.vote(asker, 1, question=answered)
    db.session.commit()
    return {"solved": solved, "answered": answered, "lonely": lonely, "public": public}


def titles(response) -> list[str]:
    return re.findall(r'<h2><a href="/questions/\d+"[^>]*>([^<]*)</a></h2>', text(response))


@pytest.mark.parametrize("query, expected", [
    ("", ["Τέταρτη", "Third", "Δεύτερη", "Πρώτη"]),
    ("?tab=unanswered", ["Τέταρτη", "Third"]),
    ("?tab=unaccepted", ["Τέταρτη", "Third", "Δεύτερη"]),
    ("?tab=mine", ["Third", "Πρώτη"]),
    ("?tag=προμηθειες", ["Πρώτη"]),
    ("?tag=ΜΙΣΘΟΔΟΣΙΑ&tab=unaccepted", ["Δεύτερη"]),
    ("?tag=nothing", []),
    ("?language=en", ["Third"]),
    ("?sort=score", ["Δεύτερη", "Τέταρτη", "Third", "Πρώτη"]),
    ("?language=xx&sort=xx&tab=xx", ["Τέταρτη", "Third", "Δεύτερη", "Πρώτη"]),
])
def test_lists_and_filters(people, browse, shelf, query, expected):
    found = titles(browse(people["asker"]).get("/questions" + query))
    assert [title.split()[0].rstrip(",") for title in found] == expected


def test_the_active_list_puts_recent_activity_first(app, people, browse, shelf, make_answer):
    make_answer(people["other"], shelf["solved"])
    found = titles(browse(people["asker"]).get("/questions?tab=active"))
    assert found[0].startswith("Πρώτη")


def test_a_community_filter(app, people, browse, make_question):
    community = Community(slug="gis", name="Γεωγραφικά συστήματα", visibility="internal")
    db.session.add(community)
    db.session.commit()
    make_question(people["asker"], title="Ερώτηση της κοινότητας GIS", community_id=community.id)
    make_question(people["asker"], title="Ερώτηση εκτός κοινότητας")
    client = browse(people["asker"])
    assert [t.split()[1] for t in titles(client.get(f"/questions?community={community.id}"))] == ["της"]
    assert titles(client.get("/questions?community=99999999999999")) == []
    form = text(client.get("/questions/ask"))
    assert "Γεωγραφικά συστήματα" in form
    asked = ask(client, title="Δεύτερη ερώτηση της κοινότητας", community=str(community.id))
    assert asked.status_code == 302 and db.session.get(Question, 3).community_id == community.id


def test_each_item_shows_score_answers_accepted_tags_and_author(people, browse, shelf):
    html = text(browse(people["other"]).get("/questions"))
    item = html[html.index("Πρώτη ερώτηση"):]
    item = item[:item.index("</li>\n  <li") if "</li>\n  <li" in item else len(item)]
    assert "Score: 0" in item and "1 answer" in item and "one accepted" in item
    assert "/questions?tag=" in item and "asker" in item


def test_pages_of_the_list(app, people, browse, make_question):
    app.config["KNET"]["page_size"] = 2
    for number in range(5):
        make_question(people["asker"], title=f"Ερώτηση αριθμός {number} για σελίδες")
    client = browse(people["asker"])
    html = text(client.get("/questions?tab=unanswered"))
    assert len(titles(client.get("/questions?tab=unanswered"))) == 2 and "page=2" in html and "tab=unanswered" in html
    assert len(titles(client.get("/questions?page=3"))) == 1
    assert client.get("/questions?page=99999999999999").status_code == 200


# Who sees what -----------------------------------------------------------------------------------

def test_anonymous_visitors_read_public_questions_only(people, browse, shelf):
    client = browse(None)
    assert titles(client.get("/questions")) == ["Τέταρτη ερώτηση, δημόσια"]
    assert client.get(f"/questions/{shelf['public'].id}").status_code == 200
    assert client.get(f"/questions/{shelf['solved'].id}").status_code == 404
    html = text(client.get(f"/questions/{shelf['public'].id}"))
    assert "Sign in to answer" in html and 'action="/questions/4/answers"' not in html


@pytest.mark.parametrize("path", ["/questions/ask", "/questions?tab=mine", "/questions/4/edit", "/moderation"])
def test_anonymous_visitors_are_sent_to_sign_in_to_write(shelf, browse, path):
    response = browse(None).get(path)
    assert response.status_code == 302 and "/login" in response.location


def test_private_questions_stay_with_their_author(app, people, browse, make_question):
    make_question(people["asker"], title="Η ιδιωτική μου ερώτηση εδώ", visibility="private", tags=["μυστικό"])
    assert titles(browse(people["other"]).get("/questions")) == []
    assert browse(people["other"]).get("/questions/1").status_code == 404
    assert titles(browse(people["asker"]).get("/questions")) == ["Η ιδιωτική μου ερώτηση εδώ"]
    suggestions = browse(people["other"]).get("/questions/tags/suggestions?q=μυσ").get_json()
    assert suggestions["results"] == []


def test_hidden_questions_are_for_moderators_and_their_author(app, people, browse, make_question):
    make_question(people["asker"])
    mod = browse(people["mod"])
    hidden = post(mod, "/questions/1/hide", {"reason": "Προσωπικά δεδομένα"})
    assert hidden.status_code == 302
    assert titles(browse(people["other"]).get("/questions")) == []
    assert browse(people["other"]).get("/questions/1").status_code == 404
    html = text(mod.get("/questions"))
    assert '<span class="badge">hidden</span>' in html and titles(mod.get("/questions")) == ["Πώς υπολογίζεται η υπερωρία;"]
    own = text(browse(people["asker"]).get("/questions/1"))
    assert "Προσωπικά δεδομένα" in own and "hidden by a moderator" in own
    assert post(mod, "/questions/1/restore").status_code == 302
    assert browse(people["other"]).get("/questions/1").status_code == 200


@pytest.mark.parametrize("path", ["/questions/99999999999999999999", "/answers/99999999999999999999",
                                  "/questions/0", "/answers/7/history", "/questions/99999999999/history"])
def test_odd_addresses_are_never_a_server_error(people, browse, path):
    assert browse(people["other"]).get(path).status_code == 404


def test_odd_posts_are_never_a_server_error(app, people, browse, make_question):
    make_question(people["asker"])
    mod = browse(people["mod"])
    assert post(mod, "/answers/99999999999999999999/hide", {"reason": "x"}).status_code == 404
    assert post(mod, "/comments/5/hide", {"reason": "x"}).status_code == 404
    assert post(mod, "/questions/1/duplicate", {"original": "99999999999999999999"}).status_code == 400
    assert post(mod, "/questions/1/duplicate", {"original": "abc"}).status_code == 400
    assert post(mod, "/questions/1/duplicate", {"original": "1"}).status_code == 400
    assert post(mod, "/moderation/flags/99999999999999999999/dismiss").status_code == 404
    assert post(mod, "/questions/1/close", {"reason": ""}).status_code == 400
    assert post(mod, "/questions/1/close", {"reason": "x" * 600}).status_code == 400


# Moderation --------------------------------------------------------------------------------------

def test_moderators_close_reopen_lock_and_unlock(app, people, browse, make_question):
    make_question(people["asker"])
    mod = browse(people["mod"])
    html = text(mod.get("/questions/1"))
    for action in ("close", "lock", "hide", "duplicate"):
        assert f'action="/questions/1/{action}"' in html
    assert post(mod, "/questions/1/close", {"reason": "Απαντήθηκε αλλού"}).status_code == 302
    assert 'action="/questions/1/reopen"' in text(mod.get("/questions/1"))
    assert post(mod, "/questions/1/reopen").status_code == 302
    assert db.session.get(Question, 1).closed_at is None
    assert post(mod, "/questions/1/lock", {"reason": ""}).status_code == 302
    assert 'action="/questions/1/unlock"' in text(mod.get("/questions/1"))
    assert post(mod, "/questions/1/unlock").status_code == 302
    log = text(mod.get("/moderation"))
    assert "Απαντήθηκε αλλού" in log and "Reopened" in log and "Unlocked" in log


def test_readers_get_no_moderator_forms_and_a_403_that_says_why(app, people, browse, make_question):
    make_question(people["asker"])
    other = browse(people["other"])
    html = text(other.get("/questions/1"))
    assert 'action="/questions/1/close"' not in html and 'action="/questions/1/flag"' in html
    refused = post(other, "/questions/1/close", {"reason": "Δεν μου αρέσει"})
    assert refused.status_code == 403 and "Moderator" in text(refused)
    refused = other.get("/moderation")
    assert refused.status_code == 403 and "Moderator" in text(refused)


def test_flags_reach_the_moderators_queue(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question, "Διαφήμιση: αγοράστε τώρα!")
    other = browse(people["other"])
    flagged = post(other, "/answers/1/flag", {"reason": "Διαφήμιση"})
    assert flagged.status_code == 302 and flagged.location.endswith("/questions/1#answer-1")
    post(other, "/questions/1/comments", {"body": "Σχόλιο για σημαία."})
    post(browse(people["helper"]), "/comments/1/flag", {"reason": "Άσχετο σχόλιο"})

    mod = browse(people["mod"])
    queue = text(mod.get("/moderation"))
    assert "Διαφήμιση" in queue and "Άσχετο σχόλιο" in queue
    assert 'href="/questions/1#answer-1"' in queue and 'href="/questions/1#comment-1"' in queue
    flag_ids = list(db.session.scalars(select(Flag.id).order_by(Flag.id)))
    hidden = post(mod, "/answers/1/hide", {"reason": "Διαφήμιση", "next": "/moderation"}, page="/moderation")
    assert hidden.status_code == 302 and hidden.location.endswith("/moderation")
    dismissed = post(mod, f"/moderation/flags/{flag_ids[1]}/dismiss", {"next": "/moderation"}, page="/moderation")
    assert dismissed.status_code == 302
    queue = text(mod.get("/moderation"))
    assert "No open flags" in queue and "Flag dismissed" in queue and "Hidden" in queue
    assert db.session.get(Question, 1).answer_count == 0
    # The hidden answer is gone for readers, there with its reason for moderators.
    assert "αγοράστε" not in text(other.get("/questions/1"))
    assert "αγοράστε" in text(mod.get("/questions/1"))
    assert post(mod, "/answers/1/restore").location.endswith("/questions/1#answer-1")


def test_a_redirect_back_stays_on_this_node(app, people, browse, make_question):
    make_question(people["asker"])
    response = post(browse(people["mod"]), "/questions/1/lock", {"next": "https://evil.example/"})
    assert response.location == "/"


# JSON for the ask form ---------------------------------------------------------------------------

def test_tag_suggestions_for_the_tag_box(people, browse, shelf):
    client = browse(None)
    found = browse(people["other"]).get("/questions/tags/suggestions?q=προ")
    assert found.headers["Cache-Control"] == "private, no-store"
    assert found.get_json()["results"] == [
        {"title": "Προμήθειες", "detail": "1 question", "link": "/questions?tag=%CE%A0%CF%81%CE%BF%CE%BC%CE%AE%CE%B8%CE%B5%CE%B9%CE%B5%CF%82"}]
    # Anonymous visitors are offered the tags of public questions only.
    assert [r["title"] for r in client.get("/questions/tags/suggestions?q=κ").get_json()["results"]] == ["ΚΕΠ"]
    assert client.get("/questions/tags/suggestions?q=προ").get_json()["results"] == []
    assert client.get("/questions/tags/suggestions?q=%00").get_json()["results"] == []


def test_similar_questions_while_the_title_is_typed(app, people, browse, shelf):
    client = browse(None)
    jobs.run_pending()
    found = browse(people["other"]).get("/questions/similar?q=ερώτηση για προμήθ")
    results = found.get_json()["results"]
    assert results and results[0] == {"title": "Πρώτη ερώτηση για προμήθειες", "link": "/questions/1",
                                      "type": "question", "language": "el"}
    assert all(r["type"] == "question" for r in results)
    # Anonymous visitors: public questions only.
    anonymous = client.get("/questions/similar?q=ερώτηση").get_json()["results"]
    assert [r["link"] for r in anonymous] == ["/questions/4"]
    assert client.get("/questions/similar?q=").get_json()["results"] == []
    assert client.get("/questions/similar?q=%22(OR*").status_code == 200


def test_the_ask_form_wires_its_boxes_to_the_suggestions(people, browse):
    page = Elements(text(browse(people["asker"]).get("/questions/ask")))
    title = page.find("input", id="title")[0]
    assert title["data-suggest-url"] == "/questions/similar" and "data-suggest-fill" not in title
    tags = page.find("input", id="tags")[0]
    assert tags["data-suggest-url"] == "/questions/tags/suggestions" and tags["data-suggest-fill"] == "list"
    for box in (title, tags):
        hint = box["aria-describedby"]
        assert page.find("p", id=hint)


# Greek first ------------------------------------------------------------------------------------

def test_the_pages_follow_the_visitor_s_language(app, people, browse, make_question, make_answer):
    question = make_question(people["asker"])
    make_answer(people["helper"], question)
    for language in ("el", "en"):
        client = browse(people["other"], language)
        for path in ("/questions", "/questions/1", "/questions/ask", "/questions/1/history"):
            assert f'<html lang="{language}">' in text(client.get(path)), (language, path)


# Nothing from the XSS corpus can run ---------------------------------------------------------------

@pytest.mark.corpus_pages
@pytest.mark.parametrize("name, start", xss_cases())
def test_nothing_from_the_xss_corpus_runs_on_any_page(app, corpus, people, browse, name, start):
    payloads = xss.payloads(corpus, name)[start:start + XSS_CHUNK]
    app.config["KNET"]["page_size"] = 1000
    asker, helper, mod = browse(people["asker"]), browse(people["helper"]), browse(people["mod"])
    token = csrf_token(text(asker.get("/questions/ask")))
    checked: list[tuple[str, object]] = []
    questions = []
    for number, payload in enumerate(payloads):
        title = f"Ερώτηση {number}: {payload}"[:services.MAX_TITLE]
        # Through the form: posted, or refused with the person's text shown again.
        response = asker.post("/questions/ask", data={
            "csrf_token": token, "title": title, "body": payload, "tags": f"{payload[:40]}, ετικέτα {number}",
            "language": "el", "visibility": "internal", "community": ""})
        assert response.status_code in (302, 400, 413), (payload, response.status_code)
        if response.status_code == 302:
            question = db.session.get(Question, int(response.location.rsplit("/", 1)[1]))
        else:
            checked.append((f"refused ask form for {payload!r}", response))
            question = (quietly(lambda: services.ask(people["asker"], QuestionInput(title=title, body=payload)))
                        or quietly(lambda: services.ask(people["asker"], QuestionInput(title=title, body="—"))))
        assert question is not None, payload
        reply = quietly(lambda: services.answer(people["helper"], question, payload))
        quietly(lambda: services.comment(people["other"], payload[:services.MAX_COMMENT], question=question))
        quietly(lambda: services.edit_question(people["asker"], question, QuestionInput(
            title=f"Αλλαγή {number}: {payload}"[:services.MAX_TITLE], body=payload + "\n\nΚαι κάτι ακόμη.",
            tags=[f"ετικέτα {number}"])))
        if reply is not None:
            quietly(lambda: services.comment(people["asker"], payload[:services.MAX_COMMENT], answer=reply))
            quietly(lambda: moderation.flag(people["other"], "answer", reply.id, payload[:moderation.MAX_REASON]))
        questions.append((question.id, reply.id if reply else None))

    checked += [("list", mod.get("/questions")), ("list as the asker", asker.get("/questions?tab=unaccepted")),
                ("moderation", mod.get("/moderation"))]
    checked += [(f"tag {p[:40]!r}", asker.get("/questions", query_string={"tag": p[:40]})) for p in payloads[:10]]
    for question_id, answer_id in questions:
        checked += [(f"question {question_id}", asker.get(f"/questions/{question_id}")),
                    (f"question {question_id} for a moderator", mod.get(f"/questions/{question_id}")),
                    (f"diff of question {question_id}", asker.get(f"/questions/{question_id}/history?from=1&to=2")),
                    (f"edit form of question {question_id}", asker.get(f"/questions/{question_id}/edit"))]
        if answer_id is not None:
            checked += [(f"edit form of answer {answer_id}", helper.get(f"/answers/{answer_id}/edit")),
                        (f"history of answer {answer_id}", helper.get(f"/answers/{answer_id}/history"))]
    for label, response in checked:
        assert response.status_code < 500, label
        assert dangers(text(response)) == [], label
    assert len(questions) == len(payloads)


def test_the_danger_check_sees_danger():
    assert dangers('<p>&lt;script&gt; onclick=x</p><a href="/x">x</a>' + OWN_SCRIPT) == []
    assert len(dangers('<img src=x onerror=alert(1)><a href=" java\tscript:alert(1)">x</a><script>x</script>')) == 3
