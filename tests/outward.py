"""Content of every visibility for the tests of feeds and open data: one wiki page, question (with an answer)
and course each private, internal, network and public, all under one tag, and the helpers that read them."""
from __future__ import annotations

import feedparser

from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput
from qa import services as qa_services
from qa.services import QuestionInput
from wiki import services as wiki_services
from wiki.services import PageInput

VISIBILITIES = ("private", "internal", "network", "public")
TAG = "Προμήθειες"
#: A marker in every title, so a test can tell which visibility reached a feed or a file.
MARKERS = {visibility: f"{visibility.capitalize()}markerzq" for visibility in VISIBILITIES}


def content_of_every_visibility(app, author, trainer) -> None:
    """A page, a question with an answer and a published course of each visibility, all tagged TAG."""
    limit = app.config["KNET"]["max_body_bytes"]
    for visibility, marker in MARKERS.items():
        wiki_services.create_page(author, PageInput(
            title=f"Σελίδα {marker}", body=f"Οδηγός για τις **προμήθειες** ({marker}).", visibility=visibility,
            tags=[TAG.lower()], licence="CC-BY-4.0"), limit)
        question = qa_services.ask(author, QuestionInput(
            title=f"Ερώτηση {marker} για τις προμήθειες", body=f"Πώς γίνεται η ανάθεση; ({marker})",
            visibility=visibility, tags=[TAG]))
        qa_services.answer(trainer, question, f"Με απευθείας ανάθεση έως 30.000 € ({marker}-answer).")
        course = courses.create_course(trainer, CourseInput(
            title=f"Μάθημα {marker}", summary=f"Τα βασικά ({marker}).", visibility=visibility, tags=[TAG]))
        module = structure.add_module(trainer, course, "Εισαγωγή")
        structure.add_lesson(trainer, module, "Μάθημα 1", "Το κείμενο.")
        versions.publish(trainer, course)
    db.session.commit()


def parsed(response):
    """A feed as a real feed reader's parser reads it; it must be well-formed Atom."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


def hidden_markers() -> list[str]:
    return [marker for visibility, marker in MARKERS.items() if visibility != "public"]
