"""The demonstration towns: every feature's sample content, created once, different in each town."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from knet import jobs
from knet.app import prepare_demo
from knet.db import db
from learning.models import Course
from qa.models import Answer, Question
from wiki.models import Page


def counts() -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Page, Question, Answer, Course))


def test_the_demo_has_pages_questions_and_answers_once(app, client):
    username, password = prepare_demo(app)
    first = counts()
    assert first[0] >= 4 and first[1] >= 2 and first[2] >= first[1] and first[3] >= 1
    assert prepare_demo(app) == (username, password)
    assert counts() == first
    jobs.run_pending()
    found = client.get("/api/v1/search?q=ενσταση").get_json()
    assert "question" in {hit["type"] for hit in found["results"]}, found
    course = client.get("/api/v1/search?q=απευθεια αναθεση&type=course").get_json()
    assert [hit["title"] for hit in course["results"]] == ["Απευθείας ανάθεση: τα βασικά"], course


@pytest.mark.parametrize("town", [0, 1, 2], ids=["athina", "thessaloniki", "irakleio"])
def test_each_town_of_the_network_has_greek_and_english_content_mostly_shared(app, town):
    prepare_demo(app, town)
    first = counts()
    pages, questions = db.session.scalars(select(Page)).all(), db.session.scalars(select(Question)).all()
    assert len(pages) >= 3 and len(questions) >= 1
    assert {page.language for page in pages} == {"el", "en"}
    assert {question.language for question in questions} == {"el", "en"}
    visibilities = [item.visibility for item in pages + questions]
    assert visibilities.count("internal") == 1, visibilities
    assert set(visibilities) <= {"internal", "network", "public"} and "public" in visibilities
    assert db.session.scalar(select(func.count()).select_from(Course)) == (1 if town == 0 else 0)
    prepare_demo(app, town)
    assert counts() == first
