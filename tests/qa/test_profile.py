"""A person's questions and answers on their profile, as the viewer may see them."""
from __future__ import annotations

import re

import pytest

from auth import people
from auth.people import ProfileInput
from knet.db import db
from qa import moderation, profile, services
from qa.profile import contribution
from qa.tags import tag_key


def test_a_profile_counts_questions_answers_accepted_and_the_tags_answered_most(app, make_user, make_question,
                                                                               make_answer):
    asker, helper, viewer = (make_user(name, role="reader") for name in ("asker", "helper", "viewer"))
    moderator = make_user("mod", role="moderator")
    gis = make_question(asker, title="Ποιο λογισμικό GIS προτείνετε;", tags=["GIS"])
    maps = make_question(asker, title="Πώς δημοσιεύουμε χάρτες του δήμου;", tags=["GIS", "Χάρτες"])
    money = make_question(asker, title="Πότε πληρώνονται οι υπερωρίες;", tags=["Μισθοδοσία"])
    secret = make_question(asker, title="Ιδιωτική ερώτηση για τους χάρτες", tags=["Χάρτες"], visibility="private")
    for question in (gis, maps, money):
        make_answer(helper, question, "Μια απάντηση με εμπειρία.")
    services.accept(asker, gis.answers[0])
    hidden = make_answer(helper, maps, "Δεύτερη απάντηση.")
    moderation.hide(moderator, "answer", hidden.id, "Επανάληψη")

    work = contribution(helper, viewer)
    assert (work.questions, work.answers, work.accepted) == (0, 3, 1)
    assert [(tag.name, count) for tag, count in work.top_tags][:1] == [("GIS", 2)]
    assert contribution(asker, viewer).questions == 3  # the private one is not the viewer's to count
    assert contribution(asker, asker).questions == 4
    assert secret.id


def test_the_profile_page_shows_the_panel(app, make_user, make_question, make_answer, sign_in):
    asker, helper = make_user("asker", role="reader"), make_user("helper", role="reader")
    make_answer(helper, make_question(asker))
    page = sign_in(asker).get("/people/helper").get_data(as_text=True)
    assert 'id="qa-work-heading"' in page


# How often a person answered on each of their skills --------------------------------------------

def with_skills(person, *skills):
    people.update_profile(person, person, ProfileInput(skills=list(skills)))
    db.session.commit()
    return person


def skill_lines(html: str) -> list[str]:
    """The profile's skills as a reader sees them, e.g. "GIS · 2 απαντήσεις"."""
    listed = re.search(r'<ul class="tags skill-tags">(.*?)</ul>', html, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li>(.*?)</li>", listed, re.S)]


def test_a_tag_and_a_skill_spelt_differently_are_one_topic():
    for spellings in (["Προμήθειες", "ΠΡΟΜΗΘΕΙΕΣ", "προμηθειες", "  προμήθειες ", "Προμήθειεσ"],
                      ["ΕΣΠΑ", "εσπα", "Εσπά"], ["GIS", "gis"], ["Δημόσιες  Συμβάσεις", "δημοσιες συμβασεις"],
                      ["Ϊατρική", "ιατρικη", "ΪΑΤΡΙΚΉ"]):
        assert {tag_key(name) for name in spellings} == {people.skill_key(name) for name in spellings}, spellings
        assert len({tag_key(name) for name in spellings}) == 1, spellings


def test_the_answers_on_a_skill_count_what_the_viewer_may_see_and_nothing_hidden(make_user, make_question,
                                                                                  make_answer):
    asker, viewer = make_user("asker", role="reader"), make_user("viewer", role="reader")
    helper = with_skills(make_user("helper", role="reader"), "GIS", "Προμήθειες", "ΕΣΠΑ")
    moderator = make_user("mod", role="moderator")
    maps = make_question(asker, title="Ποιο λογισμικό GIS προτείνετε;", tags=["gis"])
    tender = make_question(asker, title="Πώς στήνουμε διαγωνισμό για χάρτες;", tags=["GIS", "ΠΡΟΜΗΘΕΙΕΣ"])
    secret = make_question(asker, title="Ιδιωτική ερώτηση για προμήθειες", tags=["προμηθειες"],
                           visibility="private")
    removed = make_question(asker, title="Μια ερώτηση που κρύφτηκε", tags=["GIS"])
    for question in (maps, tender, secret, removed):
        make_answer(helper, question, "Μια απάντηση με εμπειρία.")
    moderation.hide(moderator, "answer", make_answer(helper, maps, "Δεύτερη απάντηση.").id, "Επανάληψη")
    moderation.hide(moderator, "question", removed.id, "Εκτός θέματος")
    db.session.commit()
    keys = [skill.key for skill in helper.skills]

    assert people.skill_activity(viewer, [helper], keys) == {
        (helper.id, "gis"): ["2 απαντήσεις"], (helper.id, "προμηθειεσ"): ["1 απάντηση"]}
    # The private question is its author's to see, and so are the answers to it.
    assert people.skill_activity(asker, [helper], keys)[(helper.id, "προμηθειεσ")] == ["2 απαντήσεις"]
    assert people.skill_activity(viewer, [asker], keys) == {}


def test_the_profile_shows_how_often_the_person_answered_on_each_skill(make_user, make_question, make_answer,
                                                                       sign_in):
    asker, viewer = make_user("asker", role="reader"), make_user("viewer", role="reader")
    helper = with_skills(make_user("helper", role="reader"), "GIS", "Προμήθειες", "ΕΣΠΑ")
    for title in ("Ποιο λογισμικό GIS προτείνετε;", "Πώς δημοσιεύουμε χάρτες;"):
        make_answer(helper, make_question(asker, title=title, tags=["GIS"]))
    make_answer(helper, make_question(asker, title="Πώς γίνεται μια απευθείας ανάθεση;", tags=["προμηθειες"]))
    make_answer(helper, make_question(asker, title="Ιδιωτική ερώτηση για το ΕΣΠΑ", tags=["ΕΣΠΑ"],
                                      visibility="private"))

    page = sign_in(viewer).get("/people/helper").get_data(as_text=True)
    # No "0 answers" where there is nothing to count (the ΕΣΠΑ question is not the viewer's to see).
    assert skill_lines(page) == ["GIS · 2 απαντήσεις", "ΕΣΠΑ", "Προμήθειες · 1 απάντηση"]
    page = sign_in(asker).get("/people/helper").get_data(as_text=True)
    assert skill_lines(page) == ["GIS · 2 απαντήσεις", "ΕΣΠΑ · 1 απάντηση", "Προμήθειες · 1 απάντηση"]
    assert page.count('id="qa-work-heading"') == 1  # registering twice shows the panel once
