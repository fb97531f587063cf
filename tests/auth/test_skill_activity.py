"""How often people did something on a skill (answered on it, for now), next to their skills and in the
order of the people who have a skill; counted as the viewer may see it, one query per feature."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from auth import people
from auth.people import ProfileInput, add_skill_activity
from knet.db import db
from qa import profile, services
from qa.models import Question, QuestionTag, question_tags
from qa.services import QuestionInput


def with_skills(person, *skills):
    people.update_profile(person, person, ProfileInput(skills=list(skills)))
    db.session.commit()
    return person


def ask(asker, title: str, tags=("GIS",), **fields) -> Question:
    question = services.ask(asker, QuestionInput(title=title, body="Ποια είναι η εμπειρία σας;", tags=list(tags),
                                                 **fields))
    db.session.commit()
    return question


def answered(asker, helper, times: int, tags=("GIS",), **fields) -> None:
    """``helper`` answers ``times`` questions of ``asker`` with these tags."""
    for number in range(times):
        question = ask(asker, f"Ερώτηση {number + 1} για τον/την {helper.username}", tags, **fields)
        services.answer(helper, question, "Μια απάντηση με εμπειρία.")
        db.session.commit()


def cards(html: str) -> list[tuple[str, str]]:
    """Each person listed, as a reader sees them: (name, what they did on the chosen skill)."""
    found = []
    for card in re.findall(r'<li class="person-card">(.*?)</li>\s*(?=<li class="person-card">|</ul>)', html, re.S):
        name = re.search(r'class="person-name"><a [^>]*>(.*?)</a>', card).group(1)
        activity = re.search(r'<p class="person-activity">(.*?)</p>', card, re.S)
        found.append((name, " ".join(re.sub(r"<[^>]+>", " ", activity.group(1)).split()) if activity else ""))
    return found


@contextmanager
def statements():
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def gis_people(make_user):
    """Five people with GIS: nikos answered 3 times on it, eleni and maria once, petros twice on a question
    only its asker may see, anna never."""
    asker = make_user("asker", role="reader")
    staff = {name: with_skills(make_user(name, role="reader"), "GIS", "ΕΣΠΑ")
             for name in ("anna", "eleni", "maria", "nikos", "petros")}
    answered(asker, staff["nikos"], 3, tags=["gis"])
    answered(asker, staff["eleni"], 1, tags=["GIS", "ΕΣΠΑ"])
    answered(asker, staff["maria"], 1, tags=["Gis"])
    answered(asker, staff["petros"], 2, visibility="private")
    answered(asker, staff["anna"], 4, tags=["ΕΣΠΑ"])  # not on GIS
    return asker, staff


def test_the_people_who_answered_most_on_a_skill_come_first(app, gis_people, make_user, sign_in):
    asker, staff = gis_people
    viewer = make_user("viewer", role="reader")
    page = sign_in(viewer).get("/people?skill=gis").get_data(as_text=True)
    # Then by name, as before: people with nothing the viewer may see on GIS last, and no "0 answers".
    assert cards(page) == [("nikos", "GIS · 3 απαντήσεις"), ("eleni", "GIS · 1 απάντηση"),
                           ("maria", "GIS · 1 απάντηση"), ("anna", ""), ("petros", "")]
    assert "0 απαντήσεις" not in page
    # petros answered on a private question: what he did counts for its asker only.
    page = sign_in(asker).get("/people?skill=GIS").get_data(as_text=True)
    assert [name for name, _done in cards(page)] == ["nikos", "petros", "eleni", "maria", "anna"]
    assert ("petros", "GIS · 2 απαντήσεις") in cards(page)
    # The order holds across pages.
    listed, total = people.people_with_skill(people.find_skill("gis"), 2, 2, viewer)
    assert total == 5 and [person.username for person in listed] == ["maria", "anna"]


def test_the_list_of_people_with_a_skill_counts_in_one_query_per_feature_for_twenty_people(
        app, make_user, sign_in):
    asker = make_user("asker", role="reader")
    staff = [with_skills(make_user(f"person{number:02d}", role="reader"), "GIS", "ΕΣΠΑ") for number in range(20)]
    for number, person in enumerate(staff):
        answered(asker, person, 1 + number % 3, tags=["GIS", "ΕΣΠΑ"])

    assert asker.id and all(person.id for person in staff)  # loaded again after the commits, not counted
    with statements() as seen:
        found = people.skill_activity(asker, staff, ["gis", "εσπα"])
    assert len(seen) == 1 and len(found) == 40
    assert found[(staff[2].id, "εσπα")] == ["3 απαντήσεις"]

    client = sign_in(asker)
    with statements() as seen:
        page = client.get("/people?skill=GIS").get_data(as_text=True)
    # One query puts the page in order, one counts what the people on it did: not one per person.
    assert len([statement for statement in seen if "qa_answers" in statement]) == 2
    assert len(cards(page)) == 20 and cards(page)[0][1] == "GIS · 3 απαντήσεις"


def test_every_feature_adds_its_count(app, gis_people):
    """What a future feature (courses taught) does: its count shown after the answers, and added to them
    for the order. Here, questions asked on the topic."""
    asker, staff = gis_people
    for number in range(3):
        ask(staff["maria"], f"Ερώτηση {number + 1} της Μαρίας για χάρτες")

    def questions_on_skills(viewer, keys):
        return (select(Question.author_id.label("user_id"), QuestionTag.key.label("skill_key"),
                       func.count(Question.id).label("times"))
                .join(question_tags, question_tags.c.question_id == Question.id)
                .join(QuestionTag, QuestionTag.id == question_tags.c.tag_id)
                .where(QuestionTag.key.in_(list(keys))).group_by(Question.author_id, QuestionTag.key))

    add_skill_activity(app, questions_on_skills, lambda count: f"{count} ερωτήσεις")
    assert asker.id and all(person.id for person in staff.values())  # loaded again after the commits
    with statements() as seen:
        found = people.skill_activity(asker, list(staff.values()), ["gis"])
    assert len(seen) == 2
    assert found[(staff["maria"].id, "gis")] == ["1 απάντηση", "3 ερωτήσεις"]
    listed, _total = people.people_with_skill(people.find_skill("GIS"), 1, 10, asker)
    assert [person.username for person in listed] == ["maria", "nikos", "petros", "eleni", "anna"]
